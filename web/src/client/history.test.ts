import { describe, expect, it } from "vitest";

import { SampleHistory } from "./history";
import type { DashboardTelemetry } from "./protocol";

const T0 = Date.parse("2026-02-03T12:00:00Z");

function sample(seq: number, offsetS: number, data = { battery: { voltage: 50 + seq, soc: 80 } }): DashboardTelemetry {
  const ts = new Date(T0 + offsetS * 1000).toISOString();
  return { device_id: "d", epoch: "e1", seq, ts, received_at: ts, data };
}

describe("SampleHistory", () => {
  it("keeps samples in time order and flattens their numeric fields", () => {
    const history = new SampleHistory();
    history.add(sample(1, 0));
    history.add(sample(3, 2));
    history.add(sample(2, 1)); // late, e.g. from a batch after an outage
    expect(history.samples().map((s) => s.sample.seq)).toEqual([1, 2, 3]);
    expect(history.numericFieldPaths()).toEqual(["battery.voltage", "battery.soc"]);
    expect(history.columns(["battery.voltage"])).toEqual([
      [T0 / 1000, T0 / 1000 + 1, T0 / 1000 + 2],
      [51, 52, 53],
    ]);
  });

  it("keeps a resent sample once", () => {
    const history = new SampleHistory();
    expect(history.add(sample(1, 0))).toBe(true);
    const version = history.version;
    expect(history.add(sample(1, 0))).toBe(false);
    expect(history.version).toBe(version);
    expect(history.size).toBe(1);
    expect(history.add({ ...sample(1, 5), epoch: "e2" })).toBe(true); // a new epoch starts afresh
  });

  it("drops samples older than the window, measured from the newest", () => {
    const history = new SampleHistory({ windowMs: 10_000, maxSamples: 1_000 });
    for (let i = 0; i <= 30; i++) history.add(sample(i, i));
    expect(history.samples()[0].sample.seq).toBe(20);
    expect(history.size).toBe(11);
    expect(history.add(sample(100, 5))).toBe(false); // far older than the window
  });

  it("never holds more than maxSamples, however fast they come", () => {
    const history = new SampleHistory({ windowMs: 3_600_000, maxSamples: 50 });
    for (let i = 0; i < 10_000; i++) history.add(sample(i, i / 100));
    expect(history.size).toBe(50);
    expect(history.newest()?.sample.seq).toBe(9_999);
    // Evicted keys are forgotten, so the set of known keys stays as small as the window.
    expect(history.add(sample(0, 0))).toBe(false);
  });

  it("marks a field missing from a sample as null in the columns", () => {
    const history = new SampleHistory();
    history.add(sample(1, 0, { battery: { voltage: 1, soc: 2 } }));
    history.add(sample(2, 1, { battery: { voltage: 3, soc: 4 }, pv_power_w: 7 } as never));
    expect(history.columns(["pv_power_w"])[1]).toEqual([null, 7]);
  });

  it("falls back to received_at when ts does not parse", () => {
    const history = new SampleHistory();
    history.add({ ...sample(1, 0), ts: "not a time", received_at: "2026-02-03T12:00:09.000Z" });
    expect(history.newest()?.t).toBe(T0 + 9_000);
  });
});
