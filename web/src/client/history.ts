// The series a device's charts draw: what the hub's history answered for the chosen range (raw samples or time
// buckets), with the live samples of the socket placed by time: appended when newer, inserted where they belong
// when a backlog arrives late. Bounded by the range (measured from the newest point) and a fixed count, so a tab
// left open for a week stays fast and small. A resent sample (the same epoch and seq), and a live sample that the
// history already holds, are kept once. Where points lie further apart than the data's usual step, the chart
// columns get a null row so the line breaks: a gap is shown as a gap.

import { numericFields } from "./fields";
import type { DashboardTelemetry, HistoryResponse } from "./protocol";

/** What a bucket of the hub's history summarises (its `values` are the means). */
export interface BucketSummary {
  /** Width of the bucket in ms; it covers `[t, t + ms)`. */
  readonly ms: number;
  /** How many samples it holds. */
  readonly n: number;
  readonly min: ReadonlyMap<string, number>;
  readonly max: ReadonlyMap<string, number>;
}

/** One point of the series: a sample (live, or raw from the hub's history) or a bucket of the history. */
export interface SeriesPoint {
  /** When it was taken (a bucket: where it starts), ms since the Unix epoch. */
  readonly t: number;
  /** Its finite numeric fields by dotted path (a bucket: the means). */
  readonly values: ReadonlyMap<string, number>;
  /** Set for a bucket of the hub's history. */
  readonly bucket?: BucketSummary;
  /** The sample as received on the socket; absent for points of the hub's history. */
  readonly sample?: DashboardTelemetry;
}

/** Bounds of a {@link SampleHistory}. */
export interface HistoryLimits {
  /** Points older than the newest one by more than this are dropped: the chosen range. */
  windowMs: number;
  /** At most this many points are kept (oldest dropped first). */
  maxSamples: number;
}

/** One hour, and at most 20,000 points (a full history answer, then hours of live samples at 1 Hz). */
export const DEFAULT_HISTORY: HistoryLimits = { windowMs: 60 * 60 * 1000, maxSamples: 20_000 };

/** Columns for a chart: times in seconds, then one array of values (or null where absent) per field. */
export type Columns = [number[], ...(number | null)[][]];

/** Chart columns with what each row stands for. */
export interface ChartSeries {
  readonly columns: Columns;
  /** The point behind each row of `columns`, or null for a row that marks a gap. */
  readonly rows: readonly (SeriesPoint | null)[];
  /** How many gaps the columns mark. */
  readonly gaps: number;
}

/** Two raw points are a gap apart when further apart than this many usual steps… */
export const GAP_STEPS = 3;
/** …and at least this far apart (ms), so jitter and a skipped sample are not gaps. */
export const MIN_GAP_MS = 2_000;
/** Two buckets are a gap apart (a bucket is missing between them) when further apart than this many widths. */
const GAP_BUCKETS = 1.5;
/** How many neighbouring steps on each side tell the usual step. */
const STEP_NEIGHBOURS = 4;

/** The points of one device within {@link HistoryLimits}, ordered by time. */
export class SampleHistory {
  private items: SeriesPoint[] = [];
  private readonly keys = new Set<string>();
  private changes = 0;
  private bounds: HistoryLimits;
  private widestBucketMs = 0;
  private gapCache: { version: number; after: ReadonlySet<number> } | null = null;

  constructor(limits: HistoryLimits = DEFAULT_HISTORY) {
    checkLimits(limits);
    this.bounds = { ...limits };
  }

  /** The current bounds. */
  get limits(): HistoryLimits {
    return this.bounds;
  }

  /** Counts every change; a view can compare it to know when to redraw. */
  get version(): number {
    return this.changes;
  }

  /** How many points are held. */
  get size(): number {
    return this.items.length;
  }

  /** The points, oldest first. */
  points(): readonly SeriesPoint[] {
    return this.items;
  }

  /** The newest point by time, if any. */
  newest(): SeriesPoint | undefined {
    return this.items[this.items.length - 1];
  }

  /** Changes the range kept (e.g. 1 h to 7 d); a shorter one drops what falls out of it at once. */
  setWindow(windowMs: number): void {
    const limits = { ...this.bounds, windowMs };
    checkLimits(limits);
    this.bounds = limits;
    this.prune();
    this.changes += 1;
  }

  /**
   * Adds a live sample in time order; returns false for one already held (same epoch and seq, or the same time
   * as a raw sample of the history, or within one of its buckets) or older than the range.
   */
  add(sample: DashboardTelemetry): boolean {
    const key = keyOf(sample);
    if (this.keys.has(key)) return false;
    const t = sampleTime(sample);
    const newest = this.newest();
    if (newest && t < newest.t - this.bounds.windowMs) return false;
    if (this.covered(this.items, t)) return false;
    const item: SeriesPoint = { t, sample, values: numericFields(sample.data) };
    if (!newest || t >= newest.t) this.items.push(item);
    else this.items.splice(insertionIndex(this.items, t), 0, item);
    this.keys.add(key);
    this.prune();
    // An old sample inserted into a full history is the first one dropped again.
    const kept = this.keys.has(key);
    if (kept) this.changes += 1;
    return kept;
  }

  /**
   * Puts the hub's answer(s) for the range in place of the history held so far, keeping the live samples it
   * does not already hold (those that arrived while it was asked, or after it was cut).
   */
  load(answers: readonly HistoryResponse[]): void {
    const stored = answers.flatMap(pointsOf).sort((a, b) => a.t - b.t);
    this.widestBucketMs = Math.max(0, ...stored.map((p) => p.bucket?.ms ?? 0));
    const live = this.items.filter((item) => item.sample && !this.covered(stored, item.t));
    this.items = merge(stored, live);
    this.keys.clear();
    for (const item of live) if (item.sample) this.keys.add(keyOf(item.sample));
    this.prune();
    this.changes += 1;
  }

  /** Drops every point. */
  clear(): void {
    this.items = [];
    this.keys.clear();
    this.widestBucketMs = 0;
    this.changes += 1;
  }

  /** The numeric fields seen in the range, in order of first appearance. */
  numericFieldPaths(): string[] {
    const seen = new Set<string>();
    for (const item of this.items) for (const path of item.values.keys()) seen.add(path);
    return [...seen];
  }

  /** Chart columns for `paths`: `[times in s, values of paths[0], …]`, with a null row in each gap. */
  columns(paths: readonly string[]): Columns {
    return this.chart(paths).columns;
  }

  /** {@link columns} with the point behind each row and the number of gaps. */
  chart(paths: readonly string[]): ChartSeries {
    const after = this.gapsAfter();
    const times: number[] = [];
    const rows: (SeriesPoint | null)[] = [];
    const series = paths.map((): (number | null)[] => []);
    this.items.forEach((item, i) => {
      times.push(item.t / 1000);
      rows.push(item);
      paths.forEach((path, s) => series[s].push(item.values.get(path) ?? null));
      if (after.has(i)) {
        times.push((item.t + this.items[i + 1].t) / 2000);
        rows.push(null);
        for (const values of series) values.push(null);
      }
    });
    return { columns: [times, ...series], rows, gaps: after.size };
  }

  /** Indices `i` of the points followed by a gap (between `i` and `i + 1`), computed once per version. */
  private gapsAfter(): ReadonlySet<number> {
    if (this.gapCache?.version !== this.changes) {
      this.gapCache = { version: this.changes, after: new Set(findGaps(this.items)) };
    }
    return this.gapCache.after;
  }

  /** Whether `points` already hold a sample taken at `t`: a raw point of the history then, or a bucket over it. */
  private covered(points: readonly SeriesPoint[], t: number): boolean {
    for (let i = insertionIndex(points, t) - 1; i >= 0 && points[i].t > t - this.widestBucketMs - 1; i--) {
      const point = points[i];
      if (point.sample) continue;
      if (point.bucket ? t < point.t + point.bucket.ms : point.t === t) return true;
    }
    return false;
  }

  private prune(): void {
    if (this.items.length === 0) return;
    const newest = this.items[this.items.length - 1].t;
    let drop = 0;
    while (drop < this.items.length && this.items[drop].t < newest - this.bounds.windowMs) drop += 1;
    drop = Math.max(drop, this.items.length - this.bounds.maxSamples);
    for (const item of this.items.slice(0, drop)) if (item.sample) this.keys.delete(keyOf(item.sample));
    if (drop > 0) this.items.splice(0, drop);
  }
}

/**
 * The indices `i` of `points` (in time order) with a gap before the next point: two buckets with a missing one
 * between them, or two points further apart than {@link GAP_STEPS} usual steps (the larger median of the steps
 * just before and just after) and {@link MIN_GAP_MS}. Two lone points have no usual step and no gap.
 */
export function findGaps(points: readonly { t: number; bucket?: { ms: number } }[]): number[] {
  const steps = points.slice(1).map((point, i) => point.t - points[i].t);
  const gaps: number[] = [];
  steps.forEach((step, i) => {
    const widths = [points[i].bucket?.ms ?? 0, points[i + 1].bucket?.ms ?? 0];
    const bucketMs = Math.max(...widths);
    if (widths[0] > 0 && widths[1] > 0) {
      if (step > GAP_BUCKETS * bucketMs) gaps.push(i);
      return;
    }
    const before = median(steps.slice(Math.max(0, i - STEP_NEIGHBOURS), i));
    const after = median(steps.slice(i + 1, i + 1 + STEP_NEIGHBOURS));
    const usual = Math.max(before ?? 0, after ?? 0);
    if (usual === 0 && bucketMs === 0) return;
    // A bucket next to a live sample: the sample may lie up to a bucket past the bucket's start.
    const limit = Math.max(GAP_STEPS * usual, 2 * bucketMs, MIN_GAP_MS);
    if (step > limit) gaps.push(i);
  });
  return gaps;
}

/** The time of a sample in ms: its `ts`, else the hub's `received_at`, else now. */
export function sampleTime(sample: DashboardTelemetry): number {
  const ts = Date.parse(sample.ts);
  if (Number.isFinite(ts)) return ts;
  const received = Date.parse(sample.received_at);
  return Number.isFinite(received) ? received : Date.now();
}

/** The points of one history answer: its raw samples, or its buckets (means, with min, max and count). */
export function pointsOf(answer: HistoryResponse): SeriesPoint[] {
  const byField = (values: readonly (number | null)[]) => {
    const out = new Map<string, number>();
    answer.fields.forEach((path, i) => {
      const value = values[i];
      if (typeof value === "number" && Number.isFinite(value)) out.set(path, value);
    });
    return out;
  };
  if (answer.bucket_ms === 0) return answer.samples.map((s) => ({ t: s.t, values: byField(s.v) }));
  return answer.buckets.map((b) => ({
    t: b.t,
    values: byField(b.mean),
    bucket: { ms: answer.bucket_ms, n: b.n, min: byField(b.min), max: byField(b.max) },
  }));
}

function checkLimits(limits: HistoryLimits): void {
  if (!(limits.windowMs > 0 && limits.maxSamples >= 1)) throw new RangeError("history limits must be positive");
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Index after every point at or before `t`. */
function insertionIndex(points: readonly SeriesPoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two time-ordered lists as one (on equal times, `a`'s point first). */
function merge(a: readonly SeriesPoint[], b: readonly SeriesPoint[]): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].t <= b[j].t)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

function keyOf(sample: DashboardTelemetry): string {
  return `${sample.epoch ?? ""}\u0000${sample.seq}`;
}
