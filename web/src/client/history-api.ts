// `GET /api/devices/{id}/history` and `GET /api/devices/{id}/history.csv`: a device's stored samples over a time
// range, as typed answers for the charts (following `truncated` answers on) and as CSV pages joined into one file
// (following `Telemetry-Next-From`). Never throws; the token goes only in the Authorization header.

import { failureOf, type DeviceListFailure } from "./api";
import { parseErrorBody, parseHistoryResponse } from "./parse";
import { CSV_NEXT_FROM_HEADER, DEFAULT_HISTORY_POINTS, MAX_HISTORY_POINTS, type HistoryResponse } from "./protocol";

const HOUR_MS = 60 * 60 * 1000;

/** A range the dashboard offers: the last `ms` up to now. */
export interface HistoryRangeChoice {
  readonly label: string;
  readonly ms: number;
}

/** The ranges the dashboard offers, shortest first; the first is where a chart opens. */
export const HISTORY_RANGES: readonly HistoryRangeChoice[] = [
  { label: "1 h", ms: HOUR_MS },
  { label: "24 h", ms: 24 * HOUR_MS },
  { label: "7 d", ms: 7 * 24 * HOUR_MS },
];

/** Where a request goes and with what. */
export interface HubTarget {
  /** The hub's base URL, `http(s)://host[:port]`. */
  baseUrl: string;
  /** A dashboard token whose scope covers the device. */
  token: string;
  deviceId: string;
  /** The fetch function (default: the global one); tests pass a fake. */
  fetch?: typeof fetch;
  /** Cancels the request(s). */
  signal?: AbortSignal;
}

/** A time range, Unix ms: `from` inclusive, `to` exclusive; and optionally the fields (dotted paths) wanted. */
export interface HistoryQuery {
  from: number;
  to: number;
  fields?: readonly string[];
  /** The point budget of each answer, 1 to {@link MAX_HISTORY_POINTS} (the hub's default otherwise). */
  points?: number;
}

/** Why a history request failed: the failures of `GET /api/devices`, with the hub's own words for a 400. */
export type HistoryFailure = DeviceListFailure;

/** The outcome of {@link fetchHistory}: every answer it took to cover the range, oldest first. */
export type HistoryResult = { ok: true; answers: HistoryResponse[] } | ({ ok: false } & HistoryFailure);

/** The outcome of {@link fetchHistoryCsv}. */
export type CsvResult =
  | {
      ok: true;
      /** The file's text in pieces (for a `Blob`): one header row, then every page's rows. */
      parts: string[];
      /** Data rows in the file. */
      rows: number;
      /** Responses it took. */
      pages: number;
      /** False when it stopped at `maxPages` or the hub's next page did not move on: the file ends early. */
      complete: boolean;
    }
  | ({ ok: false } & HistoryFailure);

/** The point budget for a chart `widthPx` CSS pixels wide: one point a pixel, within the hub's limits. */
export function historyPoints(widthPx: number): number {
  if (!(widthPx > 0)) return DEFAULT_HISTORY_POINTS;
  return Math.min(MAX_HISTORY_POINTS, Math.max(1, Math.round(widthPx)));
}

/** The history URL of `deviceId` under `baseUrl` (`csv` for the export), with the query's parameters. */
export function historyUrl(baseUrl: string, deviceId: string, query: HistoryQuery, csv = false): string {
  const path = `/api/devices/${encodeURIComponent(deviceId)}/history${csv ? ".csv" : ""}`;
  const url = new URL(path, baseUrl);
  url.searchParams.set("from", String(Math.floor(query.from)));
  url.searchParams.set("to", String(Math.ceil(query.to)));
  if (query.fields && query.fields.length > 0) url.searchParams.set("fields", query.fields.join(","));
  if (!csv && query.points !== undefined) url.searchParams.set("points", String(historyPoints(query.points)));
  return url.toString();
}

/**
 * Asks the hub for the device's history over `query`'s range. An answer cut at the hub's row limit
 * (`truncated`) is followed by another from its last point on, up to `maxAnswers` in all.
 */
export async function fetchHistory(hub: HubTarget, query: HistoryQuery, maxAnswers = 8): Promise<HistoryResult> {
  const answers: HistoryResponse[] = [];
  let from = query.from;
  while (answers.length < maxAnswers) {
    const got = await request(hub, historyUrl(hub.baseUrl, hub.deviceId, { ...query, from }), "application/json");
    if (!got.ok) return got;
    const parsed = parseHistoryResponse(got.text);
    if (!parsed.ok) return unexpected();
    answers.push(parsed.message);
    const next = parsed.message.truncated ? resumeFrom(parsed.message) : null;
    if (next === null || next <= from || next >= query.to) break;
    from = next;
  }
  return { ok: true, answers };
}

/**
 * The CSV export of `query`'s range as one file: each page the hub cuts at 100,000 rows is followed with the
 * `from` of its `Telemetry-Next-From` header, and only the first page's header row is kept.
 */
export async function fetchHistoryCsv(hub: HubTarget, query: HistoryQuery, maxPages = 64): Promise<CsvResult> {
  const parts: string[] = [];
  let rows = 0;
  let from = query.from;
  for (let page = 1; ; page++) {
    const got = await request(hub, historyUrl(hub.baseUrl, hub.deviceId, { ...query, from }, true), "text/csv");
    if (!got.ok) return got;
    const text = got.text.endsWith("\n") || got.text === "" ? got.text : `${got.text}\n`;
    const body = page === 1 ? text : text.slice(text.indexOf("\n") + 1);
    parts.push(body);
    rows += countCsvRows(body) - (page === 1 && body !== "" ? 1 : 0);
    const header = got.headers.get(CSV_NEXT_FROM_HEADER);
    if (header === null) return { ok: true, parts, rows, pages: page, complete: true };
    const next = Number(header.trim());
    const movesOn = /^\d+$/.test(header.trim()) && next > from && next < query.to;
    if (!movesOn || page >= maxPages) return { ok: true, parts, rows, pages: page, complete: false };
    from = next;
  }
}

/** `ems_001_2026-02-03T11-00-00Z_2026-02-03T12-00-00Z.csv`: the device and the range, safe as a file name. */
export function csvFileName(deviceId: string, from: number, to: number): string {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/\.\d+Z$/, "Z")
      .replace(/:/g, "-");
  return `${deviceId.replace(/[^\w.-]/g, "_")}_${stamp(from)}_${stamp(to)}.csv`;
}

/** The records of CSV `text` (lines outside double quotes; a last line without its newline counts). */
export function countCsvRows(text: string): number {
  let rows = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) rows += 1;
  }
  return text.length > 0 && !text.endsWith("\n") ? rows + 1 : rows;
}

/** Where a `truncated` answer goes on: just past its last sample, or at the end of its last bucket. */
function resumeFrom(answer: HistoryResponse): number | null {
  if (answer.bucket_ms === 0) {
    const last = answer.samples[answer.samples.length - 1];
    return last ? last.t + 1 : null;
  }
  const last = answer.buckets[answer.buckets.length - 1];
  return last ? last.t + answer.bucket_ms : null;
}

type Got = { ok: true; text: string; headers: Headers } | ({ ok: false } & HistoryFailure);

async function request(hub: HubTarget, url: string, accept: string): Promise<Got> {
  const fetchImpl = hub.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      headers: { Authorization: `Bearer ${hub.token}`, Accept: accept },
      cache: "no-store",
      credentials: "omit",
      signal: hub.signal,
    });
    text = await response.text();
  } catch {
    if (hub.signal?.aborted) return { ok: false, reason: "unavailable", message: "Cancelled." };
    return { ok: false, reason: "unavailable", message: "The hub cannot be reached. Check the connection." };
  }
  if (response.status === 200) return { ok: true, text, headers: response.headers };
  if (response.status === 400) {
    return { ok: false, reason: "unavailable", message: `The hub refused the query: ${hubMessage(text)}` };
  }
  if (response.status === 404) {
    return { ok: false, reason: "unavailable", message: "This hub keeps no history (HTTP 404)." };
  }
  return { ok: false, ...failureOf(response.status, response.headers.get("Retry-After")) };
}

function hubMessage(text: string): string {
  const body = parseErrorBody(text);
  return body.ok && body.message.message !== "" ? body.message.message : "bad request";
}

function unexpected(): HistoryResult {
  return { ok: false, reason: "unavailable", message: "The hub answered with something unexpected." };
}
