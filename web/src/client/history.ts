// A bounded, time-ordered window of samples: the last hour (by default) and never more than a fixed count, so a
// tab left open for a week stays fast and small. Resent samples (the same epoch and seq) are kept once.

import { numericFields } from "./fields";
import type { DashboardTelemetry } from "./protocol";

/** One sample in the history. */
export interface HistorySample {
  /** When it was taken, ms since the Unix epoch (`ts`, or `received_at` if `ts` does not parse). */
  readonly t: number;
  /** The sample as received. */
  readonly sample: DashboardTelemetry;
  /** Its finite numeric fields by dotted path. */
  readonly values: ReadonlyMap<string, number>;
}

/** Bounds of a {@link SampleHistory}. */
export interface HistoryLimits {
  /** Samples older than the newest one by more than this are dropped. */
  windowMs: number;
  /** At most this many samples are kept (oldest dropped first). */
  maxSamples: number;
}

/** One hour, and at most 7,200 samples (an hour at 2 Hz). */
export const DEFAULT_HISTORY: HistoryLimits = { windowMs: 60 * 60 * 1000, maxSamples: 7_200 };

/** Columns for a chart: times in seconds, then one array of values (or null where absent) per field. */
export type Columns = [number[], ...(number | null)[][]];

/** The samples of one device within {@link HistoryLimits}, ordered by time. */
export class SampleHistory {
  private items: HistorySample[] = [];
  private readonly keys = new Set<string>();
  private changes = 0;

  constructor(readonly limits: HistoryLimits = DEFAULT_HISTORY) {
    if (!(limits.windowMs > 0 && limits.maxSamples >= 1)) throw new RangeError("history limits must be positive");
  }

  /** Counts every change; a view can compare it to know when to redraw. */
  get version(): number {
    return this.changes;
  }

  /** How many samples are held. */
  get size(): number {
    return this.items.length;
  }

  /** The samples, oldest first. */
  samples(): readonly HistorySample[] {
    return this.items;
  }

  /** The newest sample by time, if any. */
  newest(): HistorySample | undefined {
    return this.items[this.items.length - 1];
  }

  /** Adds a sample in time order; returns false for one already held (same epoch and seq) or too old to keep. */
  add(sample: DashboardTelemetry): boolean {
    const key = keyOf(sample);
    if (this.keys.has(key)) return false;
    const t = sampleTime(sample);
    const newest = this.newest();
    if (newest && t < newest.t - this.limits.windowMs) return false;
    const item: HistorySample = { t, sample, values: numericFields(sample.data) };
    if (!newest || t >= newest.t) this.items.push(item);
    else this.items.splice(this.insertionIndex(t), 0, item);
    this.keys.add(key);
    this.prune();
    // An old sample inserted into a full history is the first one dropped again.
    const kept = this.keys.has(key);
    if (kept) this.changes += 1;
    return kept;
  }

  /** Drops every sample. */
  clear(): void {
    this.items = [];
    this.keys.clear();
    this.changes += 1;
  }

  /** The numeric fields seen in the window, in order of first appearance. */
  numericFieldPaths(): string[] {
    const seen = new Set<string>();
    for (const item of this.items) for (const path of item.values.keys()) seen.add(path);
    return [...seen];
  }

  /** Chart columns for `paths`: `[times in s, values of paths[0], …]`. */
  columns(paths: readonly string[]): Columns {
    const times = this.items.map((item) => item.t / 1000);
    const series = paths.map((path) => this.items.map((item) => item.values.get(path) ?? null));
    return [times, ...series];
  }

  private insertionIndex(t: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private prune(): void {
    const newest = this.items[this.items.length - 1].t;
    let drop = 0;
    while (drop < this.items.length && this.items[drop].t < newest - this.limits.windowMs) drop += 1;
    drop = Math.max(drop, this.items.length - this.limits.maxSamples);
    for (const item of this.items.slice(0, drop)) this.keys.delete(keyOf(item.sample));
    if (drop > 0) this.items.splice(0, drop);
  }
}

/** The time of a sample in ms: its `ts`, else the hub's `received_at`, else now. */
export function sampleTime(sample: DashboardTelemetry): number {
  const ts = Date.parse(sample.ts);
  if (Number.isFinite(ts)) return ts;
  const received = Date.parse(sample.received_at);
  return Number.isFinite(received) ? received : Date.now();
}

function keyOf(sample: DashboardTelemetry): string {
  return `${sample.epoch ?? ""}\u0000${sample.seq}`;
}
