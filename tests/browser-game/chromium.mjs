// What the browser walks share: their arguments, Debian's Chromium
// launched for Playwright (its own browser download is not reachable), and
// a check that fails the walk with what was expected.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

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
