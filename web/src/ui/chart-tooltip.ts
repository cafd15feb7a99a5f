// What a chart says under the pointer: the time and value of the nearest point (for a bucket of the hub's
// history its span, mean, min, max and count; in a gap, that nothing was measured), and the uPlot plugin that
// shows it in a small box that follows the pointer.

import type uPlot from "uplot";

import { formatValue, type SeriesPoint } from "../client";
import { clockTime, dateTime } from "./format";

/** Two lines for the row `idx` of a chart of `path`: when, and what; null when there is nothing there. */
export function tooltipLines(
  rows: readonly (SeriesPoint | null)[],
  idx: number,
  path: string,
  unit: string,
  now: number,
): [string, string] | null {
  if (idx < 0 || idx >= rows.length) return null;
  const point = rows[idx];
  const withUnit = (value: number) => `${formatValue(value)}${unit ? ` ${unit}` : ""}`;
  if (point === null) {
    const before = rows[idx - 1];
    const after = rows[idx + 1];
    if (!before || !after) return null;
    return [`${dateTime(before.t, now)} – ${dateTime(after.t, now)}`, "no data"];
  }
  const value = point.values.get(path);
  if (!point.bucket) return [dateTime(point.t, now), value === undefined ? "no value" : withUnit(value)];
  const span = `${dateTime(point.t, now)} – ${clockTime(point.t + point.bucket.ms)}`;
  if (value === undefined) return [span, "no value"];
  const min = point.bucket.min.get(path);
  const max = point.bucket.max.get(path);
  const spread = min !== undefined && max !== undefined ? `${formatValue(min)} to ${formatValue(max)}, ` : "";
  const count = `${point.bucket.n} ${point.bucket.n === 1 ? "sample" : "samples"}`;
  return [span, `mean ${withUnit(value)} (${spread}${count})`];
}

/** A uPlot plugin showing `describe(idx)` beside the pointer while it is over the plot. */
export function tooltipPlugin(describe: (idx: number) => [string, string] | null): uPlot.Plugin {
  let tip: HTMLDivElement | null = null;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tooltip";
        tip.hidden = true;
        tip.setAttribute("aria-hidden", "true");
        tip.append(document.createElement("div"), document.createElement("div"));
        u.over.appendChild(tip);
      },
      setCursor: (u) => {
        if (!tip) return;
        const { idx, left = -1, top = -1 } = u.cursor;
        const lines = idx === null || idx === undefined || left < 0 ? null : describe(idx);
        if (!lines) {
          tip.hidden = true;
          return;
        }
        const [when, what] = tip.children;
        when.textContent = lines[0];
        what.textContent = lines[1];
        tip.hidden = false;
        // Beside the pointer, flipped to its left past the middle so it stays inside the plot.
        const width = u.over.clientWidth;
        tip.style.left = left > width / 2 ? "" : `${left + 12}px`;
        tip.style.right = left > width / 2 ? `${width - left + 12}px` : "";
        tip.style.top = `${Math.max(0, Math.min(top, u.over.clientHeight - 48))}px`;
      },
      destroy: () => {
        tip?.remove();
        tip = null;
      },
    },
  };
}
