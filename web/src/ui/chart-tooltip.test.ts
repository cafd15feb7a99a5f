import { describe, expect, it } from "vitest";

import type { SeriesPoint } from "../client";
import { tooltipLines } from "./chart-tooltip";
import { clockTime } from "./format";

const T0 = Date.parse("2026-02-03T12:00:00Z");
const raw = (s: number, v?: number): SeriesPoint => ({
  t: T0 + s * 1000,
  values: new Map(v === undefined ? [] : [["battery.voltage", v]]),
});

describe("tooltipLines", () => {
  it("gives the time and value of a sample, with its unit", () => {
    expect(tooltipLines([raw(0, 53.2456)], 0, "battery.voltage", "V", T0)).toEqual([clockTime(T0), "53.246 V"]);
    expect(tooltipLines([raw(0)], 0, "battery.voltage", "V", T0)).toEqual([clockTime(T0), "no value"]);
    expect(tooltipLines([raw(0, 1)], 1, "battery.voltage", "V", T0)).toBeNull();
  });

  it("says that nothing was measured in a gap, and between when", () => {
    const rows = [raw(-600, 1), null, raw(0, 2)];
    expect(tooltipLines(rows, 1, "battery.voltage", "V", T0)).toEqual([
      `${clockTime(T0 - 600_000)} – ${clockTime(T0)}`,
      "no data",
    ]);
  });

  it("gives a bucket's span, mean, spread and count", () => {
    const bucket: SeriesPoint = {
      t: T0,
      values: new Map([["battery.soc", 85.25]]),
      bucket: { ms: 120_000, n: 87, min: new Map([["battery.soc", 84]]), max: new Map([["battery.soc", 86.5]]) },
    };
    expect(tooltipLines([bucket], 0, "battery.soc", "%", T0)).toEqual([
      `${clockTime(T0)} – ${clockTime(T0 + 120_000)}`,
      "mean 85.25 % (84 to 86.5, 87 samples)",
    ]);
  });
});
