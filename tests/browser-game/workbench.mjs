// A commissioner's walk through the workbench in a real browser: make an
// account with the key, choose Doncaster, design a policy (a refusal shown on the
// form first, what was typed kept), run it, watch it, and open the board
// page; screenshots at 1,366 and 375 px, and axe-core's accessibility
// check on every page (no serious or critical violation).
// Usage: node workbench.mjs BASE_URL SCREENSHOT_DIR KEY
// Started by tests/serve.rs (serve::browser_…), which starts the server.
import { join } from "node:path";
import { accessible, check, launch, walkArguments } from "./chromium.mjs";

const { base, shots, key } = walkArguments("workbench.mjs");

// Screenshots of the page at the projector's and a phone's width.
async function shoot(page, name, fits = true) {
  for (const [width, tag] of [
    [1366, "1366"],
    [375, "375"],
  ]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(shots, `workbench-${name}-${tag}.png`), fullPage: true });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(!fits || wide <= width + 1, `${name} fits ${width} px without scrolling sideways (${wide} px)`);
  }
  await page.setViewportSize({ width: 1366, height: 900 });
}

const browser = await launch();
try {
  // axe is added by the test: the pages' policy lets in only their own script.
  const context = await browser.newContext({
    viewport: { width: 1366, height: 900 },
    bypassCSP: true,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  await page.goto(base + "/workbench");
  await accessible(page, "the sign-in page");
  await shoot(page, "sign-in");
  // An account of one's own, made once with the server's key.
  const make = page.locator("#new-account");
  await make.getByLabel(/server's key/).fill(key);
  await make.getByLabel("Your name").fill("Sam Patel");
  await make.getByLabel(/Choose a password/).fill("correct horse battery");
  await make.getByRole("button", { name: "Make my account" }).click();
  await page.waitForURL(/\/workbench$/);
  check((await page.textContent("main")).includes("Signed in as Sam Patel"), "signed in as oneself");

  // 1. Start from your place.
  await page.getByRole("combobox", { name: /^Place/ }).selectOption("Doncaster");
  await accessible(page, "the workbench's first page");
  await shoot(page, "home");
  await page.getByRole("button", { name: "Design a policy for this place" }).click();
  await page.waitForURL(/\/workbench\/design\?place=Doncaster/);
  check((await page.textContent("h1")).includes("Doncaster"), "the design page names the place");
  check((await page.textContent("main")).includes("312,785 residents"), "the place's residents");

  // 2. Design the policy; a size that is not one is refused on the form.
  await page.getByLabel("Policy name").fill("Hubs and early help in Doncaster");
  await page.getByLabel(/Years to look ahead/).fill("2");
  await page.getByLabel(/Replicates/).fill("2");
  const hub = page.locator("fieldset", { hasText: "Neighbourhood hub" });
  await hub.getByRole("checkbox", { name: "Neighbourhood hub" }).check();
  await hub.getByLabel(/Size by year/).fill("£500k; lots");
  await hub.getByLabel(/Neighbourhoods reached/).fill("5");
  const early = page.locator("fieldset", { hasText: "Whole-family early help" });
  const takeEarly = early.getByRole("checkbox", { name: "Whole-family early help" });
  await takeEarly.check();
  await early.getByLabel(/Size by year/).fill("£600k; £900k");
  await early.getByRole("checkbox", { name: /^Oldest/ }).uncheck();
  // As it is typed, the design is checked and the words are put beside
  // the field at fault.
  const said = hub.locator("p.said");
  await said.waitFor({ timeout: 10_000 });
  check((await said.textContent()).includes("size.hubs: expected an amount in £ for each year"), "the size is refused as it is typed");
  check((await page.locator("#live-check").textContent()).includes("would be refused"), "the form says it would be refused");
  await accessible(page, "the design form checked as it is typed");
  await page.getByRole("button", { name: "Check" }).click();
  const alert = await page.getByRole("alert").textContent();
  check(alert.includes('size.hubs: expected an amount in £ for each year'), `the refusal, found ${alert}`);
  check((await hub.getByLabel(/Size by year/).inputValue()) === "£500k; lots", "what was typed is kept");
  check(await takeEarly.isChecked(), "the other choices are kept");
  check(!(await early.getByRole("checkbox", { name: /^Oldest/ }).isChecked()), "the ages unticked stay unticked");
  await accessible(page, "the design form with a refusal");
  await shoot(page, "refused");
  await hub.getByLabel(/Size by year/).fill("£500k; £750k");
  await page.getByRole("button", { name: "Check" }).click();
  check((await page.getByRole("status").first().textContent()).includes("Checked"), "the check passes");

  // 3. Run it and watch.
  await page.getByRole("button", { name: "Run" }).click();
  await page.waitForURL(/\/workbench\/runs\/\d+$/);
  const runUrl = page.url();
  await page.getByRole("heading", { name: "The board summary" }).waitFor({ timeout: 240_000 });
  const summary = await page.textContent("main");
  check(summary.includes("NPV median (90%)"), "the headline names its figures as the report does");
  await accessible(page, "the run's page");
  check(summary.includes("Yours alone"), "a run is its owner's alone until shared");
  await page.getByRole("button", { name: "Share with colleagues" }).click();
  await page.waitForURL(runUrl);
  check((await page.textContent("main")).includes("Shared: every colleague"), "the run is shared");
  await shoot(page, "run");

  // 4. The board page.
  const [board] = await Promise.all([
    page.waitForEvent("load"),
    page.getByRole("link", { name: "Open the board page" }).click(),
  ]);
  void board;
  check((await page.textContent("h2#headlines")).includes("Board summary"), "the board page opens with the board summary");
  // The report is laid out for print and the desktop; its wide tables
  // scroll in their own boxes.
  await shoot(page, "board", false);

  // The workbook downloads.
  await page.goto(runUrl);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "upstream.xlsx" }).click(),
  ]);
  check(download.suggestedFilename() === "upstream.xlsx", "the workbook downloads");

  // 5. Ask next: a sweep of the hubs' size, with its own progress and page.
  const sweep = page.locator("form", { hasText: "What if the size were different?" });
  await sweep.getByLabel("Points").fill("3");
  await sweep.getByLabel(/Replicates/).fill("1");
  await sweep.getByRole("button", { name: "Find out" }).click();
  await page.waitForURL(/\/workbench\/runs\/\d+$/);
  await page.getByRole("link", { name: "Open its page" }).waitFor({ timeout: 240_000 });
  await accessible(page, "the experiment's page");
  await shoot(page, "experiment");

  // 6. A second version of the design, then the two side by side.
  await page.goto(runUrl);
  await page.getByRole("link", { name: /Change this design/ }).click();
  await page.locator("fieldset", { hasText: "Neighbourhood hub" }).getByLabel(/Size by year/).fill("£1m");
  await page.getByRole("button", { name: "Run" }).click();
  await page.waitForURL(/\/workbench\/runs\/\d+$/);
  await page.getByRole("heading", { name: "The board summary" }).waitFor({ timeout: 240_000 });
  check((await page.textContent("main")).includes("version 2 of this policy"), "the changed design is version 2");
  await page.goto(base + "/workbench");
  const ticks = page.getByRole("checkbox", { name: /^Compare Hubs and early help in Doncaster/ });
  check((await ticks.count()) === 2, "both versions can be compared");
  await ticks.nth(0).check();
  await ticks.nth(1).check();
  await page.getByRole("button", { name: "Compare the ticked runs" }).click();
  await page.waitForURL(/\/workbench\/compare/);
  check((await page.textContent("main")).includes("Revenue budget impact, cash, all payers"), "the comparison");
  await accessible(page, "the comparison");
  await shoot(page, "compare");
  console.log(`walked from choosing Doncaster to the board page and a comparison; run at ${runUrl}`);
} finally {
  await browser.close();
}
