// The class screen keeps itself up to date: every few seconds (the page
// says how many) it fetches itself and swaps in the new page's content, so
// the projector follows the game without anyone touching it and without
// losing its place on the page.
const shown = () => document.getElementById("screen");
setInterval(async () => {
  try {
    const answer = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    if (!answer.ok) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.getElementById("screen");
    if (fresh) shown().replaceWith(fresh);
  } catch (_) {
    // The server is out of reach for a moment: the next try may find it.
  }
}, Number(shown().dataset.refresh) * 1000);
