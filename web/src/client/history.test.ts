import { describe, expect, it } from "vitest";

import { findGaps, MIN_GAP_MS, SampleHistory } from "./history";
import type { DashboardTelemetry, HistoryResponse } from "./protocol";

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
    expect(history.points().map((s) => s.sample?.seq)).toEqual([1, 2, 3]);
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
    expect(history.points()[0].sample?.seq).toBe(20);
    expect(history.size).toBe(11);
    expect(history.add(sample(100, 5))).toBe(false); // far older than the window
  });

  it("never holds more than maxSamples, however fast they come", () => {
    const history = new SampleHistory({ windowMs: 3_600_000, maxSamples: 50 });
    for (let i = 0; i < 10_000; i++) history.add(sample(i, i / 100));
    expect(history.size).toBe(50);
    expect(history.newest()?.sample?.seq).toBe(9_999);
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

/** A raw history answer with one sample every `stepS` seconds at the given offsets from T0. */
function raw(offsetsS: number[], fields = ["battery.voltage"]): HistoryResponse {
  return {
    device_id: "d",
    from: "f",
    to: "t",
    fields,
    bucket_ms: 0,
    samples: offsetsS.map((s) => ({ t: T0 + s * 1000, v: fields.map(() => 50 + s / 1000) })),
    buckets: [],
    truncated: false,
  };
}

const every = (fromS: number, toS: number, stepS: number) =>
  Array.from({ length: Math.floor((toS - fromS) / stepS) + 1 }, (_, i) => fromS + i * stepS);

describe("SampleHistory with the hub's history", () => {
  it("opens on the past: the answer's samples, then live ones appended", () => {
    const history = new SampleHistory();
    history.load([raw(every(-600, -10, 10))]);
    expect(history.size).toBe(60);
    expect(history.add(sample(1, 0))).toBe(true);
    expect(history.points().map((p) => p.t)).toEqual([...every(-600, 0, 10)].map((s) => T0 + s * 1000));
    expect(history.chart(["battery.voltage"]).gaps).toBe(0);
  });

  it("keeps once a live sample the history already holds, whichever came first", () => {
    const history = new SampleHistory();
    history.add(sample(7, -10)); // the snapshot's last sample, before the answer
    history.load([raw(every(-60, -10, 10))]);
    expect(history.size).toBe(6);
    expect(history.points().every((p) => p.sample === undefined)).toBe(true);
    expect(history.add(sample(7, -10))).toBe(false);
    expect(history.add(sample(8, -5))).toBe(true); // not in the answer: kept, in place
    expect(history.points().map((p) => p.t - T0)).toEqual([-60, -50, -40, -30, -20, -10, -5].map((s) => s * 1000));
  });

  it("shows a hole in the data as a gap, and a backlog that arrives fills it in place", () => {
    const history = new SampleHistory();
    const offsets = every(-3000, -120, 10).filter((s) => s < -1800 || s >= -1200);
    history.load([raw(offsets)]);
    const before = history.chart(["battery.voltage"]);
    expect(before.gaps).toBe(1);
    const gapRow = before.rows.indexOf(null);
    expect(before.columns[1][gapRow]).toBeNull();
    expect(before.columns[0][gapRow]).toBe((T0 - 1810_000 + T0 - 1200_000) / 2000);
    history.add(sample(1000, -110)); // live
    every(-1800, -1210, 10).forEach((s, i) => history.add(sample(2000 + i, s))); // the backlog, late
    const after = history.chart(["battery.voltage"]);
    expect(after.gaps).toBe(0);
    const times = after.columns[0];
    expect(times.every((t, i) => i === 0 || t > times[i - 1])).toBe(true);
    expect(history.newest()?.t).toBe(T0 - 110_000);
  });

  it("does not take a change of sampling interval for a gap", () => {
    const times = [...every(0, 20, 0.5), ...every(25, 100, 5)].map((s) => ({ t: s * 1000 }));
    expect(findGaps(times)).toEqual([]);
    const holed = [...every(0, 20, 5), ...every(60, 100, 5)].map((s) => ({ t: s * 1000 }));
    expect(findGaps(holed)).toEqual([4]);
    // Jitter and a skipped sample are not gaps; nor is anything between two lone points.
    expect(findGaps([0, 500, 1000, 2500, 3000, 3500].map((t) => ({ t })))).toEqual([]);
    expect(findGaps([{ t: 0 }, { t: 10 * MIN_GAP_MS }])).toEqual([]);
  });

  it("takes a missing bucket for a gap and a live sample within a bucket for one it holds", () => {
    const history = new SampleHistory();
    const bucket = (s: number) => ({ t: T0 + s * 1000, n: 6, min: [50], max: [52], mean: [51] });
    history.load([{ ...raw([]), bucket_ms: 60_000, buckets: [bucket(-300), bucket(-240), bucket(-120), bucket(-60)] }]);
    const chart = history.chart(["battery.voltage"]);
    expect(chart.gaps).toBe(1);
    expect(chart.rows[1]?.bucket).toEqual({
      ms: 60_000,
      n: 6,
      min: new Map([["battery.voltage", 50]]),
      max: new Map([["battery.voltage", 52]]),
    });
    expect(history.add(sample(1, -30))).toBe(false); // inside the last bucket
    expect(history.add(sample(2, 5))).toBe(true);
    expect(history.chart(["battery.voltage"]).gaps).toBe(1);
  });

  it("narrows to a shorter range at once", () => {
    const history = new SampleHistory({ windowMs: 3_600_000, maxSamples: 1_000 });
    history.load([raw(every(-3000, 0, 10))]);
    history.setWindow(600_000);
    expect(history.points()[0].t).toBe(T0 - 600_000);
    expect(() => history.setWindow(0)).toThrow(RangeError);
  });

  it("replaces the previous answer when asked again, keeping live samples it lacks", () => {
    const history = new SampleHistory();
    history.load([raw(every(-60, -10, 10))]);
    history.add(sample(1, 0));
    const version = history.version;
    history.load([raw(every(-30, -10, 10), ["battery.soc"])]);
    expect(history.version).toBeGreaterThan(version);
    expect(history.points().map((p) => p.t - T0)).toEqual([-30_000, -20_000, -10_000, 0]);
    expect(history.numericFieldPaths()).toEqual(["battery.soc", "battery.voltage"]);
  });
});
