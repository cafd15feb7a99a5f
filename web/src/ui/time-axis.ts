// The span of a chart's time axis: the chosen range of history, or, before it is loaded, the data itself.

import type { HistoryRange } from "../client";

/** The narrowest time span a chart shows before its range is loaded, in seconds. */
export const MIN_SPAN_S = 60;

/**
 * The time axis in s for points at `times` (s, ascending): the chosen range up to the end of the loaded range
 * (or up to the newest point, if later) once the history is loaded, so a device opens on its past; before that,
 * the data, at least a minute wide, so a young chart fills from the right instead of zooming into seconds
 * (uPlot itself widens a single point to 86,400 units, i.e. 1,000 days of seconds). Null: the data's own span.
 */
export function axisSpan(range: HistoryRange, times: ArrayLike<number>): [number, number] | null {
  const last = times.length > 0 ? times[times.length - 1] : null;
  if (range.to !== null) {
    const end = Math.max(range.to / 1000, last ?? 0);
    return [end - range.ms / 1000, end];
  }
  if (last === null || last - times[0] >= MIN_SPAN_S) return null;
  return [last - MIN_SPAN_S, last];
}
