// What the browser walks share: their arguments, Debian's Chromium
// launched for Playwright (its own browser download is not reachable), and
// a check that fails the walk with what was expected.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// BASE_URL SCREENSHOT_DIR KEY from the command line; the folder is made.
export function walkArguments(script) {
  const [base, shots, key] = process.argv.slice(2);
  if (!base || !shots || !key) {
    console.error(`usage: node ${script} BASE_URL SCREENSHOT_DIR KEY`);
    process.exit(2);
  }
  mkdirSync(shots, { recursive: true });
  return { base, shots, key };
}

export function check(ok, what) {
  if (!ok) throw new Error(`not as expected: ${what}`);
}

export async function launch() {
  return await chromium.launch({
    executablePath: process.env.UPSTREAM_CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// axe-core on the page as it stands; serious and critical violations fail.
// The page's context needs bypassCSP: the pages let in only their own script.
export async function accessible(page, what) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => await window.axe.run(document));
  const bad = result.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  check(
    bad.length === 0,
    `${what} has no serious accessibility violation: ` +
      bad.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`).join("; "),
  );
}

// The page at a phone's, a projector's and a laptop's width, each a
// screenshot NAME-WIDTH.png in SHOTS, and checked to fit its width (a
// table may scroll in its own box, the page may not); then axe-core's check.
export async function atThreeWidths(page, shots, name) {
  const before = page.viewportSize();
  for (const width of [375, 1024, 1366]) {
    await page.setViewportSize({ width, height: 900 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= width, `${name} fits ${width} px, found ${wide} px`);
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
  await accessible(page, name);
}
