import { describe, expect, it } from "vitest";

import type { HistoryRange } from "../client";
import { axisSpan } from "./time-axis";

const HOUR = 3_600_000;
const range = (to: number | null, ms = HOUR): HistoryRange => ({
  ms,
  status: to === null ? "loading" : "ready",
  to,
  bucketMs: 0,
  truncated: false,
  message: null,
});

describe("axisSpan", () => {
  it("spans the loaded range, moving on with newer live points", () => {
    expect(axisSpan(range(10 * HOUR), [36_000 - 600, 36_000 - 10])).toEqual([32_400, 36_000]);
    expect(axisSpan(range(10 * HOUR, 24 * HOUR), [36_030])).toEqual([36_030 - 86_400, 36_030]);
    expect(axisSpan(range(10 * HOUR), [])).toEqual([32_400, 36_000]);
  });

  it("before the range is loaded, shows the data, at least a minute of it", () => {
    expect(axisSpan(range(null), [100, 110])).toEqual([50, 110]);
    expect(axisSpan(range(null), [100, 200])).toBeNull();
    expect(axisSpan(range(null), [])).toBeNull();
  });
});
