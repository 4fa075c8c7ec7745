// Plays a whole learning-simulation game in a real browser: a facilitator
// sets it up, three teams join and play three rounds, a shock is announced
// before round 2, a bad decision is refused, and the debrief is exported.
// Usage: node play.mjs BASE_URL SCREENSHOT_DIR FACILITATOR_KEY
// Started by tests/serve.rs (serve::browser_…), which starts the server; Debian's
// Chromium is driven (Playwright's own browser download is not reachable).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { atThreeWidths, check, launch, walkArguments } from "./chromium.mjs";

const { base, shots, key } = walkArguments("play.mjs");

const browser = await launch();
try {
  // axe-core is added by the test: the pages' policy lets in only their own script.
  const size = { viewport: { width: 1100, height: 900 }, bypassCSP: true };
  // The facilitator sets the game up.
  const facilitator = await (await browser.newContext({ ...size, acceptDownloads: true })).newPage();
  await facilitator.goto(base + "/");
  const bundled = facilitator.locator("form", { has: facilitator.getByLabel("Place and levers") });
  // The key printed when the server started, typed in.
  await bundled.getByLabel(/Facilitator key/).fill(key);
  await bundled.getByLabel("Name", { exact: true }).fill("Academy cohort 4");
  await bundled.getByLabel("Place and levers").selectOption("prevention_portfolio.toml");
  await bundled.getByLabel("Rounds (simulated years)").fill("3");
  await bundled.getByLabel("Residents", { exact: true }).fill("20000");
  await bundled.getByLabel("Replicates per team").fill("2");
  await bundled.getByRole("button", { name: "Set up the game" }).click();
  await facilitator.waitForURL(/\/facilitate$/);
  const code = (await facilitator.locator(".code").textContent()).trim();
  check(/^[A-Z2-9]{6}$/.test(code), `a join code, found ${code}`);
  const game = facilitator.url().match(/\/games\/(\d+)\//)[1];
  // The class screen, on the projector beside the facilitator's page.
  const screen = await facilitator.context().newPage();

  // Three teams join, each in a browser of its own.
  const names = ["Team Ash", "Team Birch", "Team Cedar"];
  const teams = [];
  for (const name of names) {
    const page = await (await browser.newContext(size)).newPage();
    await page.goto(base + "/");
    await page.getByLabel("Game code").fill(code.toLowerCase());
    await page.getByLabel("Team name").fill(name);
    await page.getByRole("button", { name: "Join" }).click();
    await page.waitForURL(/\/games\/\d+$/);
    check((await page.content()).includes("Round 1 of 3"), `${name} sees round 1`);
    teams.push(page);
  }

  // A decision over the budget is refused with a clear message.
  const ash = teams[0];
  // A card for each lever, and a running total as amounts are typed.
  check((await ash.locator("fieldset.lever").count()) === 3, "a card for each lever");
  check((await ash.locator("fieldset.lever").first().textContent()).includes("£100k a year supports"), "what £100k buys");
  await ash.locator("input[name=amount_0]").fill("75k");
  const running = await ash.locator("#total").textContent();
  check(running.includes("£75,000 of £150,000 allocated: £75,000 left"), `a running total, found ${running}`);
  await ash.screenshot({ path: join(shots, "team-form-cards.png"), fullPage: true });
  await ash.locator("input[name=amount_0]").fill("75,000");
  await ash.locator("input[name=amount_1]").fill("75,000");
  await ash.locator("input[name=amount_2]").fill("75,000");
  const over = await ash.locator("#total").textContent();
  check(over.includes("£75,000 over the budget"), `the total over budget, found ${over}`);
  await ash.getByRole("button", { name: "Submit our decision" }).click();
  const refusal = await ash.getByRole("alert").textContent();
  check(refusal.includes("more than this round's budget of £150,000"), `a refusal, found ${refusal}`);
  // Shown on the form, with what was typed kept.
  check((await ash.locator("input[name=amount_2]").inputValue()) === "75,000", "the typed amount kept");
  await ash.setViewportSize({ width: 375, height: 800 });
  await ash.screenshot({ path: join(shots, "team-form-refused-375.png"), fullPage: true });
  await ash.setViewportSize(size.viewport);
  await ash.goBack();

  const plans = [
    [["75,000", "37,500", "37,500"], ["60,000", "50,000", "40,000"], ["75,000", "75,000", "0"]],
    [["0", "100,000", "50,000"], ["0", "150,000", "0"], ["0", "75,000", "75,000"]],
    [["0", "0", "0"], ["25,000", "25,000", "25,000"], ["0", "0", "150,000"]],
  ];
  for (let round = 1; round <= 3; round++) {
    for (let t = 0; t < teams.length; t++) {
      const page = teams[t];
      await page.goto(page.url().split("?")[0]);
      if (round === 2 && t === 0) {
        // The form starts from the team's round 1 amounts.
        check(
          (await page.locator("input[name=amount_0]").inputValue()) === "75000",
          "round 2's form filled in with round 1's amounts",
        );
        await page.screenshot({ path: join(shots, "team-form-round-2.png"), fullPage: true });
      }
      const amounts = plans[t][round - 1];
      for (let i = 0; i < 3; i++) {
        await page.locator(`input[name=amount_${i}]`).fill(amounts[i]);
      }
      await page.getByLabel("What do you expect will happen?").fill(`${names[t]}, round ${round}: fewer residents reach crisis`);
      if (round === 1 && t === 0) {
        await page.screenshot({ path: join(shots, "team-form.png"), fullPage: true });
      }
      await page.getByRole("button", { name: /our decision/ }).click();
      const saved = await page.getByRole("status").first().textContent();
      check(saved.includes(`Your decision for round ${round} is saved`), `saved, found ${saved}`);
      if (round === 1 && t === 0) {
        // Two teams still to decide: the facilitator is asked before playing.
        await facilitator.reload();
        check(
          (await facilitator.getByLabel(/Play although 2 teams have not decided/).count()) === 1,
          "the play button asks while teams have not decided",
        );
        await facilitator.screenshot({ path: join(shots, "dashboard-waiting.png"), fullPage: true });
        const wide = facilitator.viewportSize();
        await facilitator.setViewportSize({ width: 375, height: 800 });
        await facilitator.screenshot({ path: join(shots, "dashboard-waiting-375.png"), fullPage: true });
        await facilitator.setViewportSize(wide);
        // The class screen: who has decided, and no controls.
        await screen.goto(`${base}/games/${game}/screen`);
        check((await screen.locator("li.decided").count()) === 1, "one team decided on the class screen");
        check((await screen.locator("form, button, textarea").count()) === 0, "the class screen has no controls");
        check((await screen.locator("#screen[data-refresh]").count()) === 1, "the class screen refreshes itself");
        check(!(await screen.content()).includes("key="), "the class screen shows no private link");
        check((await screen.content()).includes(code), "the class screen shows the code");
        await atThreeWidths(screen, shots, "class-screen-waiting");
      }
    }
    await facilitator.reload();
    check(
      (await facilitator.locator("td", { hasText: /^submitted$/ }).count()) === 3,
      `all three submitted in round ${round}`,
    );
    if (round === 2) {
      // Announced before round 2 is played: it acts from round 2 on.
      await facilitator.getByLabel(/cost-of-living rise/).check();
      await facilitator.getByLabel("Size, %").fill("20");
      await facilitator.getByRole("button", { name: "Announce to every team" }).click();
      await facilitator.waitForURL(/\/facilitate$/);
    }
    await facilitator.getByRole("button", { name: `Play round ${round}` }).click();
    await facilitator.waitForURL(/played=/);
    check(
      (await facilitator.getByRole("status").textContent()).includes(`Round ${round} is played`),
      `round ${round} played`,
    );
    for (const page of teams) {
      await page.goto(page.url().split("?")[0]);
      check((await page.content()).includes(`<h3>Round ${round} (`), `results of round ${round}`);
    }
  }
  check((await teams[1].content()).includes("Round 2: prices bite"), "the shock is news to teams");
  await teams[0].screenshot({ path: join(shots, "team-results.png"), fullPage: true });
  // A team's charts: its NPV and crisis-months by round, and who pays.
  check((await teams[0].locator("figure svg[role=img]").count()) === 3, "three charts on the team page");
  check((await teams[0].locator("details:not(.card) > summary").count()) === 2, "earlier rounds folded");
  await atThreeWidths(teams[0], shots, "team-page");

  // The class screen after the game, brought up to date by itself: every
  // team ranked, with charts.
  await screen.waitForSelector("text=All 3 rounds played", { timeout: 30000 });
  check((await screen.locator("table tr").count()) === 4, "three teams ranked on the class screen");
  check((await screen.locator("figure svg[role=img]").count()) === 2, "two charts on the class screen");
  await atThreeWidths(screen, shots, "class-screen");
  await facilitator.reload();
  check((await facilitator.content()).includes("All 3 rounds played"), "the game is over");
  await facilitator.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });

  // The debrief, and its export as one file.
  await facilitator.getByRole("link", { name: "Open the debrief" }).click();
  await facilitator.waitForURL(/\/debrief$/);
  for (const name of names) {
    check((await facilitator.content()).includes(name), `${name} in the debrief`);
  }
  await facilitator.screenshot({ path: join(shots, "debrief.png"), fullPage: true });
  check((await facilitator.locator("figure svg[role=img]").count()) === 2, "the debrief's charts");
  await atThreeWidths(facilitator, shots, "debrief");
  // What each decision did: a table a team, and the shock's cost to the place.
  check((await facilitator.locator("h3", { hasText: /^Team / }).count()) === 3, "a table of effects for each team");
  check((await facilitator.content()).includes("What round 2&apos;s cost-of-living rise did to the result")
    || (await facilitator.content()).includes("What round 2's cost-of-living rise did to the result"), "the shock's effect on each team");
  // On paper: no controls, every table whole.
  await facilitator.emulateMedia({ media: "print" });
  check(!(await facilitator.locator("header").isVisible()), "no navigation on paper");
  await facilitator.screenshot({ path: join(shots, "debrief-print.png"), fullPage: true });
  await facilitator.emulateMedia({ media: "screen" });
  await facilitator.goBack();
  // Shown to teams, the debrief is linked from their pages.
  await facilitator.getByRole("button", { name: "Show the debrief to teams" }).click();
  await teams[2].reload();
  await teams[2].getByRole("link", { name: "The debrief" }).click();
  await teams[2].waitForURL(/\/debrief$/);
  check((await teams[2].content()).includes("Standing after round 3"), "a team opens the debrief");
  await facilitator.goto(`${base}/games/${game}/facilitate`);
  const [download] = await Promise.all([
    facilitator.waitForEvent("download"),
    facilitator.getByRole("link", { name: "Download it as one HTML file" }).click(),
  ]);
  const file = join(shots, "debrief.html");
  await download.saveAs(file);
  const html = readFileSync(file, "utf8");
  check(html.includes("Team Cedar, round 3: fewer residents reach crisis"), "expectations in the export");
  check(!/<script|<link|src="http/.test(html), "the export stands alone");

  // The facilitator's guide, from the dashboard.
  await facilitator.getByRole("link", { name: "Running a session" }).click();
  await facilitator.waitForURL(/\/guide$/);
  check((await facilitator.content()).includes("A 90-minute session"), "the session plans");
  await atThreeWidths(facilitator, shots, "guide");

  // Another game, from a scenario the facilitator uploads: it extends the
  // bundled portfolio with a budget of its own. Opened from the link the
  // server printed, which fills the key in.
  await facilitator.goto(base + "/?key=" + encodeURIComponent(key));
  check((await facilitator.getByLabel(/Facilitator key/).count()) === 0, "the key filled in by the link");
  const own = facilitator.locator("form", { has: facilitator.getByLabel("Files") });
  await own.getByLabel("Name", { exact: true }).fill("Our own place");
  await own.getByLabel("Files").setInputFiles({
    name: "our_place.toml",
    mimeType: "application/toml",
    buffer: Buffer.from('name = "Our place"\nextends = "prevention_portfolio.toml"\n[optimise]\nbudget = 900_000\n'),
  });
  await own.getByLabel("Residents", { exact: true }).fill("5000");
  await own.getByLabel("Replicates per team").fill("1");
  await own.getByRole("button", { name: "Upload and set up the game" }).click();
  await facilitator.waitForURL(/\/facilitate$/);
  check((await facilitator.content()).includes("budget this round £22k"), "the uploaded scenario's budget");

  console.log(`played a game of 3 rounds with ${names.length} teams; screenshots in ${shots}`);
} finally {
  await browser.close();
}
