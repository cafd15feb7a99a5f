// End to end in a real browser: charts that open on the past, against the Worker under `wrangler dev`.
//
// Started by tests/tests/dashboard_browser.rs, which has seeded the device's history (a sample every 10 s over
// the last 50 minutes, with a 10-minute hole) by connecting as the device, and passes, in the environment only:
// HUB_URL, DEVICE_ID, DASHBOARD_TOKEN, ARTIFACT_DIR, and what it sent: SEEDED (samples), SEED_FIRST_MS,
// HOLE_FROM_MS and HOLE_TO_MS (the hole), LIVE (samples it sends on `@@ send-live`, the newest at LIVE_LAST_MS)
// and BACKLOG (samples filling the hole, sent on `@@ send-backlog`). It waits for `live-sent` and
// `backlog-sent` on stdin. Checks: opens on the past, a gap shown as a gap, values on hover, range selection,
// live samples appended, a backlog filled into its place, and the CSV download. Exits 0 when every step passed.

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { launchChromium } from "./browser.mjs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const num = (name) => Number(env(name));
const HUB_URL = env("HUB_URL");
const DEVICE_ID = env("DEVICE_ID");
const TOKEN = env("DASHBOARD_TOKEN");
const ARTIFACTS = env("ARTIFACT_DIR");
const SEEDED = num("SEEDED");
const SEED_FIRST_MS = num("SEED_FIRST_MS");
const HOLE = [num("HOLE_FROM_MS"), num("HOLE_TO_MS")];
const LIVE = num("LIVE");
const LIVE_LAST_MS = num("LIVE_LAST_MS");
const BACKLOG = num("BACKLOG");
const WAIT = 20_000;
const HOUR = 3_600_000;
const FIELD = "battery.voltage";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const started = Date.now();
const problems = [];

async function step(name, run) {
  const t0 = Date.now();
  try {
    const result = await run();
    console.log(`e2e: ${name}: ok (${Date.now() - t0} ms)`);
    return result;
  } catch (error) {
    throw new Error(`step "${name}" failed: ${error.message}`, { cause: error });
  }
}

async function ask(command, answer) {
  console.log(`@@ ${command}`);
  const { value, done } = await lines.next();
  if (done || value.trim() !== answer) throw new Error(`expected "${answer}" on stdin, got ${JSON.stringify(value)}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const panelSelector = `.device-panel[data-device="${DEVICE_ID}"]`;
const chartSelector = `${panelSelector} figure.chart[data-field="${FIELD}"]`;

/** What the chart of FIELD says it draws (its data-* attributes), and the card's range state. */
async function chartState(page) {
  return page.evaluate(
    ([panel, chart]) => {
      const card = document.querySelector(`${panel} .charts-card`);
      const figure = document.querySelector(chart);
      const n = (el, name) => (el?.hasAttribute(name) ? Number(el.getAttribute(name)) : null);
      return {
        rangeMs: n(card, "data-range-ms"),
        status: card?.getAttribute("data-range-status") ?? null,
        points: n(figure, "data-points"),
        gaps: n(figure, "data-gaps"),
        first: n(figure, "data-first"),
        last: n(figure, "data-last"),
        axisFrom: n(figure, "data-axis-from"),
        axisTo: n(figure, "data-axis-to"),
      };
    },
    [panelSelector, chartSelector],
  );
}

/** Waits until `check(state)` holds for the chart state; the last state is in the error otherwise. */
async function waitForChart(page, what, check, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let state;
  for (;;) {
    state = await chartState(page);
    if (check(state)) return state;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(state)}`);
    await page.waitForTimeout(100);
  }
}

/** Moves the pointer over the chart's plot at `t` (ms) and returns the tooltip's two lines. */
async function hoverAt(page, t) {
  const state = await chartState(page);
  const over = page.locator(`${chartSelector} .u-over`);
  const box = await over.boundingBox();
  expect(box !== null, "no plot area");
  const x = box.x + ((t - state.axisFrom) / (state.axisTo - state.axisFrom)) * box.width;
  await page.mouse.move(x, box.y + box.height / 2);
  const tip = page.locator(`${chartSelector} .chart-tooltip`);
  await tip.waitFor({ state: "visible", timeout: WAIT });
  return tip.locator("div").allTextContents();
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await step("launch chromium", () => launchChromium());
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      colorScheme: "light",
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    const requests = [];
    page.on("request", (request) => {
      if (request.url().includes("/history")) requests.push(request);
    });

    await step("sign in and open the device", async () => {
      await page.goto(HUB_URL);
      await page.getByLabel("Dashboard token").fill(TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Devices" }).getByRole("button", { name: DEVICE_ID }).click();
      await page.locator(`${panelSelector} [data-testid="connection"][data-state="open"]`).waitFor({ timeout: WAIT });
    });

    await step("the chart opens on the past hour", async () => {
      const state = await waitForChart(page, "the last hour", (s) => s.status === "ready" && s.points !== null);
      expect(state.rangeMs === HOUR, `range ${state.rangeMs}`);
      expect(state.points === SEEDED, `${state.points} points drawn, ${SEEDED} seeded`);
      expect(state.first === SEED_FIRST_MS, `first point at ${state.first}, seeded from ${SEED_FIRST_MS}`);
      expect(state.axisTo - state.axisFrom === HOUR, `the axis spans ${state.axisTo - state.axisFrom} ms`);
      expect(Math.abs(state.axisTo - Date.now()) < 60_000, "the axis does not end now");
      const pressed = page.locator(`${panelSelector} .range-choice button[aria-pressed="true"]`);
      expect((await pressed.textContent()) === "1 h", "1 h is not the range shown as chosen");
      // About a point per pixel of the chart, within the hub's limit.
      const asked = new URL(requests.find((r) => !r.url().includes(".csv")).url());
      const width = await page.locator(`${chartSelector} .chart-box`).evaluate((el) => el.clientWidth);
      const points = Number(asked.searchParams.get("points"));
      expect(points <= 5000 && Math.abs(points - width) <= Math.max(8, width * 0.1), `points ${points}, ${width} px`);
      expect(!asked.toString().includes("tdash_"), "the token is in the history URL");
      const auth = (await requests[0].allHeaders()).authorization ?? "";
      expect(auth === `Bearer ${TOKEN}`, "the history request has no bearer token");
    });

    await step("the hole in the data is shown as a gap", async () => {
      const state = await chartState(page);
      expect(state.gaps === 1, `${state.gaps} gaps drawn`);
      await page.locator(`${panelSelector} .charts-card`).screenshot({ path: join(ARTIFACTS, "history-gap.png") });
    });

    await step("hovering shows the time and value", async () => {
      const [when, what] = await hoverAt(page, SEED_FIRST_MS + 5 * 60_000);
      expect(/\d{1,2}:\d{2}:\d{2}/.test(when), `tooltip time ${JSON.stringify(when)}`);
      expect(/^\d+(\.\d+)? V$/.test(what), `tooltip value ${JSON.stringify(what)}`);
      const [holeWhen, holeWhat] = await hoverAt(page, (HOLE[0] + HOLE[1]) / 2);
      expect(holeWhat === "no data", `in the gap the tooltip says ${JSON.stringify(holeWhat)}`);
      expect(holeWhen.includes("–"), `in the gap the tooltip time is ${JSON.stringify(holeWhen)}`);
      await page.locator(`${panelSelector} .charts-card`).screenshot({ path: join(ARTIFACTS, "history-hover.png") });
      await page.mouse.move(0, 0);
    });

    await step("choosing 24 h and 7 d loads those ranges", async () => {
      for (const [label, ms] of [
        ["24 h", 24 * HOUR],
        ["7 d", 7 * 24 * HOUR],
        ["1 h", HOUR],
      ]) {
        const before = requests.length;
        await page.locator(`${panelSelector} .range-choice`).getByRole("button", { name: label }).click();
        const state = await waitForChart(
          page,
          label,
          (s) => s.rangeMs === ms && s.status === "ready" && s.axisTo - s.axisFrom === ms,
        );
        expect(state.points === SEEDED && state.gaps === 1, `${label}: ${JSON.stringify(state)}`);
        const asked = new URL(requests[requests.length - 1].url());
        expect(requests.length > before, `${label}: no request`);
        const span = Number(asked.searchParams.get("to")) - Number(asked.searchParams.get("from"));
        expect(span === ms, `${label}: asked for ${span} ms`);
        const pressed = page.locator(`${panelSelector} .range-choice button[aria-pressed="true"]`);
        expect((await pressed.textContent()) === label, `${label} is not shown as chosen`);
      }
    });

    await step("live samples are appended", async () => {
      await ask("send-live", "live-sent");
      const state = await waitForChart(page, "live samples", (s) => s.points === SEEDED + LIVE);
      expect(state.last === LIVE_LAST_MS, `the newest point is at ${state.last}, not ${LIVE_LAST_MS}`);
      expect(state.gaps === 1, `${state.gaps} gaps after the live samples`);
    });

    await step("a backlog is filled into its place", async () => {
      await ask("send-backlog", "backlog-sent");
      const state = await waitForChart(page, "the backlog", (s) => s.points === SEEDED + LIVE + BACKLOG);
      expect(state.gaps === 0, `${state.gaps} gaps after the backlog filled the hole`);
      expect(state.last === LIVE_LAST_MS, `the backlog was appended: the newest point is at ${state.last}`);
      const [, what] = await hoverAt(page, (HOLE[0] + HOLE[1]) / 2);
      expect(/^\d+(\.\d+)? V$/.test(what), `the hole's tooltip still says ${JSON.stringify(what)}`);
      await page.mouse.move(0, 0);
      await page.locator(`${panelSelector} .charts-card`).screenshot({ path: join(ARTIFACTS, "history-filled.png") });
    });

    await step("the range downloads as CSV", async () => {
      const before = requests.length;
      const [download] = await Promise.all([
        page.waitForEvent("download", { timeout: WAIT }),
        page.getByRole("button", { name: "Download CSV" }).click(),
      ]);
      const name = download.suggestedFilename();
      expect(name.startsWith(`${DEVICE_ID}_`) && name.endsWith(".csv"), `file name ${name}`);
      const path = join(ARTIFACTS, "history.csv");
      await download.saveAs(path);
      const rows = readFileSync(path, "utf8").trimEnd().split("\n");
      expect(rows[0].startsWith("ts,received_at,epoch,seq,"), `header ${rows[0]}`);
      expect(rows[0].includes("battery.voltage"), `header ${rows[0]}`);
      const total = SEEDED + LIVE + BACKLOG;
      expect(rows.length - 1 === total, `${rows.length - 1} rows, ${total} sent`);
      const seqs = rows.slice(1).map((row) => Number(row.split(",")[3]));
      expect(new Set(seqs).size === total, "a sample is missing or twice in the CSV");
      const csv = requests.slice(before).find((r) => new URL(r.url()).pathname.endsWith("/history.csv"));
      expect(csv !== undefined, "no request for history.csv");
      expect((await csv.allHeaders()).authorization === `Bearer ${TOKEN}`, "the CSV request has no bearer token");
      await page
        .getByTestId("csv-status")
        .filter({ hasText: `${total} rows saved` })
        .waitFor({ timeout: WAIT });
    });

    await page.screenshot({ path: join(ARTIFACTS, "history.png"), fullPage: true });
    await context.close();
  } finally {
    await browser.close();
  }
  if (problems.length > 0) throw new Error(`the page reported problems:\n${problems.join("\n")}`);
  console.log(`e2e: all steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`e2e: FAILED: ${error.message}`);
    process.exit(1);
  },
);
