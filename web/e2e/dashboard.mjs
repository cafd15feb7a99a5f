// End to end in a real browser: the dashboard served by the Worker under `wrangler dev`, with a live device.
//
// Started by tests/tests/dashboard_browser.rs, which runs the hub and a simulated edge agent and passes, in the
// environment only (never argv): HUB_URL, DEVICE_ID, DASHBOARD_TOKEN (control, all devices), READ_TOKEN (read
// only) and ARTIFACT_DIR. It asks for what only the test can do by printing `@@ stop-hub`, `@@ start-hub`,
// `@@ stop-device`, `@@ start-device` or `@@ revoke-read-token`, and waits for `hub-stopped`, `hub-started`,
// `device-stopped`, `device-started` or `read-token-revoked` on stdin. Exits 0 when every step passed;
// screenshots go to ARTIFACT_DIR.

import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { launchChromium } from "./browser.mjs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const HUB_URL = env("HUB_URL");
const DEVICE_ID = env("DEVICE_ID");
const TOKEN = env("DASHBOARD_TOKEN");
const READ_TOKEN = process.env.READ_TOKEN ?? "";
const ARTIFACTS = env("ARTIFACT_DIR");
const WAIT = 20_000;

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const started = Date.now();
const problems = [];

/** Runs one step, logging its duration; a failure names the step. */
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

/** Asks the Rust side to do `command` and waits for its answer line. */
async function ask(command, answer) {
  console.log(`@@ ${command}`);
  const { value, done } = await lines.next();
  if (done || value.trim() !== answer) throw new Error(`expected "${answer}" on stdin, got ${JSON.stringify(value)}`);
}

/** A new page (its own browser context, so its own sessionStorage), watching for page errors. */
async function newPage(browser, options) {
  const context = await browser.newContext({ deviceScaleFactor: 1, ...options });
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // Refused or dropped sockets while the Worker is down are expected; anything else is not.
    if (
      message.type() === "error" &&
      !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(message.text())
    ) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return page;
}

async function signIn(page, token) {
  await page.goto(HUB_URL);
  await page.getByLabel("Dashboard token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function openDevice(page) {
  await page.getByRole("navigation", { name: "Devices" }).getByRole("button", { name: DEVICE_ID }).click();
  await waitForState(page, "open");
}

const panel = (page) => page.locator(`.device-panel[data-device="${DEVICE_ID}"]`);

async function waitForState(page, state, timeout = WAIT) {
  await panel(page).locator(`[data-testid="connection"][data-state="${state}"]`).waitFor({ timeout });
}

async function chartPoints(page, field = "battery.voltage") {
  return Number(await panel(page).locator(`figure.chart[data-field="${field}"]`).getAttribute("data-points"));
}

async function waitForPoints(page, atLeast, timeout = WAIT) {
  await page.waitForFunction(
    ([device, min]) => {
      const figure = document.querySelector(
        `.device-panel[data-device="${device}"] figure.chart[data-field="battery.voltage"]`,
      );
      return figure !== null && Number(figure.getAttribute("data-points")) >= min;
    },
    [DEVICE_ID, atLeast],
    { timeout },
  );
}

async function commandResult(page, name, status, timeout = WAIT) {
  const item = panel(page).locator(`li[data-command="${name}"][data-status="${status}"]`).first();
  await item.waitFor({ timeout });
  return (await item.textContent()) ?? "";
}

/** The newest command `name` in the hub-queue `state` (queued, sent, done, expired, cancelled). */
function queuedCommand(page, name, state) {
  return panel(page).locator(`li[data-command="${name}"][data-state="${state}"]`).first();
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await step("launch chromium", () => launchChromium());
  try {
    const page = await newPage(browser, { viewport: { width: 1280, height: 900 }, colorScheme: "light" });

    await step("a wrong token shows a clear message", async () => {
      // Well formed, so the hub (not the page's shape check) refuses it.
      const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
      const wrong = `tdash_${[...randomBytes(49)].map((b) => alphabet[b % 62]).join("")}`;
      await signIn(page, wrong);
      const alert = page.getByRole("alert");
      await alert.filter({ hasText: "refused this token" }).waitFor({ timeout: WAIT });
      expect(!page.url().includes("tdash_"), "the token ended up in the URL");
      await page.getByLabel("Dashboard token").fill("");
    });

    await step("sign in and pick the device", async () => {
      await page.getByLabel("Dashboard token").fill(TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Devices" }).waitFor({ timeout: WAIT });
      const stored = await page.evaluate(() => ({ local: localStorage.length, url: location.href }));
      expect(stored.local === 0, "something was written to localStorage");
      expect(!stored.url.includes("tdash_"), "the token ended up in the URL");
      await openDevice(page);
      await panel(page).getByText("device online").waitFor({ timeout: WAIT });
    });

    const first = await step("the chart starts from the snapshot and gains points", async () => {
      await waitForPoints(page, 1);
      const initial = await chartPoints(page);
      await waitForPoints(page, initial + 3);
      return initial;
    });

    await step("the latest values and the last-sample time change", async () => {
      const values = panel(page).locator(".values");
      const lastSample = panel(page).getByTestId("last-sample");
      const [before, beforeTime] = [await values.textContent(), await lastSample.textContent()];
      await page.waitForFunction(
        ([device, text]) =>
          document.querySelector(`.device-panel[data-device="${device}"] .values`)?.textContent !== text,
        [DEVICE_ID, before],
        { timeout: WAIT },
      );
      expect((await lastSample.textContent()) !== beforeTime, "the last-sample line did not change");
      const voltage = await values.locator('[data-field="battery.voltage"]').textContent();
      expect(/\d+(\.\d+)?\s*V$/.test(voltage ?? ""), `battery voltage shown as ${JSON.stringify(voltage)}`);
    });

    await step("send commands and see their results", async () => {
      const commands = panel(page).getByRole("region", { name: "Commands" });
      await commands.getByLabel("Sample interval (s)").fill("1");
      await commands.getByRole("button", { name: "Set interval" }).click();
      const interval = await commandResult(page, "set_interval", "ok");
      expect(interval.includes("interval set to 1 s"), `set_interval result: ${interval}`);
      await commands.getByRole("button", { name: "Ping device" }).click();
      expect((await commandResult(page, "ping", "ok")).includes("pong"), "no pong");
      await commands.getByRole("button", { name: "Switch" }).click();
      const refused = await commandResult(page, "gpio_write", "failed");
      expect(refused.includes("not a configured output"), `gpio_write result: ${refused}`);
    });

    await step("queue a command for the offline device, cancel another, and see the first delivered", async () => {
      const commands = panel(page).getByRole("region", { name: "Commands" });
      await ask("stop-device", "device-stopped");
      await panel(page).getByText("device offline").waitFor({ timeout: WAIT });
      const ttl = commands.getByLabel("If the device is offline");
      await ttl.selectOption({ label: "wait up to 10 min" });
      await commands.getByRole("button", { name: "Ping device" }).click();
      const ping = queuedCommand(page, "ping", "queued");
      await ping.waitFor({ timeout: WAIT });
      const pingId = await ping.getAttribute("data-id");
      expect((await ping.textContent())?.includes("waiting for the device until"), "no expiry shown");
      await commands.getByLabel("Sample interval (s)").fill("2");
      await commands.getByRole("button", { name: "Set interval" }).click();
      const interval = queuedCommand(page, "set_interval", "queued");
      await interval.waitFor({ timeout: WAIT });
      const intervalId = await interval.getAttribute("data-id");
      await commands.screenshot({ path: join(ARTIFACTS, "dashboard-queued.png") });
      await interval.getByRole("button", { name: "Cancel set_interval seconds=2" }).click();
      const cancelled = panel(page).locator(`li[data-id="${intervalId}"][data-state="cancelled"]`);
      await cancelled.waitFor({ timeout: WAIT });
      expect((await cancelled.textContent())?.includes("Cancelled"), "the cancelled state is not in words");
      await commands.screenshot({ path: join(ARTIFACTS, "dashboard-cancelled.png") });
      const stillQueued = panel(page).locator(`li[data-id="${pingId}"]`);
      expect((await stillQueued.getAttribute("data-state")) === "queued", "the other command left the queue");
      await ttl.selectOption({ label: "fail at once" });
      await ask("start-device", "device-started");
      const done = panel(page).locator(`li[data-id="${pingId}"][data-state="done"][data-status="ok"]`);
      await done.waitFor({ timeout: 30_000 });
      expect((await done.textContent())?.includes("pong"), "the queued ping got no pong");
      expect((await cancelled.count()) === 1, "the cancelled command ran after all");
      await panel(page).getByText("device online").waitFor({ timeout: WAIT });
    });

    await step("screenshot", async () => {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
    });

    await step("stop the Worker: the page says it is reconnecting", async () => {
      await ask("stop-hub", "hub-stopped");
      await waitForState(page, "reconnecting", 30_000);
      await panel(page)
        .getByTestId("connection")
        .filter({ hasText: /reconnecting in \d+ s/ })
        .waitFor({ timeout: WAIT });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-reconnecting.png") });
    });

    await step("restart the Worker: the page reconnects by itself and plots again", async () => {
      const before = await chartPoints(page);
      await ask("start-hub", "hub-started");
      await waitForState(page, "open", 60_000);
      await waitForPoints(page, before + 2, 30_000);
      expect((await chartPoints(page)) > first, "the history was lost");
    });

    await step("phone and dark screenshots", async () => {
      for (const [name, options] of [
        ["dashboard-dark.png", { viewport: { width: 1280, height: 900 }, colorScheme: "dark" }],
        [
          "dashboard-phone.png",
          { viewport: { width: 390, height: 844 }, colorScheme: "light", isMobile: true, hasTouch: true },
        ],
        [
          "dashboard-phone-dark.png",
          { viewport: { width: 390, height: 844 }, colorScheme: "dark", isMobile: true, hasTouch: true },
        ],
      ]) {
        const other = await newPage(browser, options);
        await signIn(other, TOKEN);
        await openDevice(other);
        await waitForPoints(other, 3);
        await other.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
        await other.context().close();
      }
    });

    if (READ_TOKEN) {
      await step("a read-only token sees no command controls; revoking it signs the page out", async () => {
        const reader = await newPage(browser, { viewport: { width: 1280, height: 900 } });
        await signIn(reader, READ_TOKEN);
        await openDevice(reader);
        await panel(reader).getByText("read-only access").first().waitFor({ timeout: WAIT });
        expect((await reader.getByRole("button", { name: "Set interval" }).count()) === 0, "command controls shown");
        await ask("revoke-read-token", "read-token-revoked");
        await reader.getByRole("alert").filter({ hasText: "token was revoked" }).waitFor({ timeout: WAIT });
        await reader.getByLabel("Dashboard token").waitFor({ timeout: WAIT });
        await reader.context().close();
      });
    }

    await step("sign out forgets the token", async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Dashboard token").waitFor({ timeout: WAIT });
      const kept = await page.evaluate(() => sessionStorage.length + localStorage.length);
      expect(kept === 0, "the token is still stored");
    });
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
