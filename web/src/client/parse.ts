// Parsers from JSON text to the wire types of `protocol.ts`, by direction, as strict as the Rust crate.
//
// Each parser builds a fresh object holding only the fields the protocol defines (unknown fields are dropped,
// as serde drops them), so a round trip through these parsers shows when the golden files have grown a field.

import {
  ACCESS_LEVELS,
  COMMAND_STATES,
  ERROR_CODES,
  MAX_COMMAND_TTL_S,
  PRESENCE_REASONS,
  type Ack,
  type Command,
  type CommandResult,
  type CommandStatusEntry,
  type DashboardMessage,
  type DashboardTelemetry,
  type DeviceList,
  type DeviceMessage,
  type ErrorBody,
  type ErrorFrame,
  type HubToDashboard,
  type HistoryBucket,
  type HistoryResponse,
  type HistorySample,
  type HubToDevice,
  type JsonObject,
  type JsonValue,
  type Snapshot,
  type Telemetry,
} from "./protocol";

/** A parsed message, or why the text is not one. */
export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

/** Thrown inside the parsers and turned into `{ ok: false }` at their edge. */
class Invalid extends Error {}

/** Parses a frame the hub sends to a dashboard. */
export function parseHubToDashboard(text: string): Parsed<HubToDashboard> {
  return parseWith(text, (o, type) => {
    switch (type) {
      case "snapshot":
        return snapshot(o);
      case "telemetry":
        return { type, ...dashboardTelemetry(o) };
      case "presence":
        return {
          type,
          device_id: str(o, "device_id"),
          online: bool(o, "online"),
          at: str(o, "at"),
          reason: oneOf(o, "reason", PRESENCE_REASONS),
        };
      case "command_result":
        return commandResult(o);
      case "command_status":
        return { type, ...commandStatus(o) };
      case "pong":
        return { type };
      case "error":
        return errorFrame(o);
      default:
        throw new Invalid(`unknown type ${JSON.stringify(type)}`);
    }
  });
}

/** Parses a frame a dashboard sends to the hub. */
export function parseDashboardMessage(text: string): Parsed<DashboardMessage> {
  return parseWith(text, (o, type) => {
    if (type === "ping") return { type };
    if (type === "command") return command(o);
    if (type === "cancel_command") return { type, id: str(o, "id") };
    throw new Invalid(`unknown type ${JSON.stringify(type)}`);
  });
}

/** Parses a typed frame a device sends to the hub (a legacy flat object, without `type`, is refused here). */
export function parseDeviceMessage(text: string): Parsed<DeviceMessage> {
  return parseWith(text, (o, type) => {
    switch (type) {
      case "telemetry":
        return { type, ...telemetry(o) };
      case "batch":
        return { type, items: arr(o, "items").map((item) => telemetry(asObject(item, "items[]"))) };
      case "command_result":
        return commandResult(o);
      default:
        throw new Invalid(`unknown type ${JSON.stringify(type)}`);
    }
  });
}

/** Parses a frame the hub sends to a device. */
export function parseHubToDevice(text: string): Parsed<HubToDevice> {
  return parseWith(text, (o, type): HubToDevice => {
    switch (type) {
      case "ack": {
        const ack: Ack = { type, seq: seq(o, "seq") };
        return withOptional(ack, "epoch", optStr(o, "epoch"));
      }
      case "command":
        return command(o);
      case "error":
        return errorFrame(o);
      case "pong":
        return { type };
      case "stored":
        return { type, epoch: str(o, "epoch"), from: seq(o, "from"), to: seq(o, "to") };
      default:
        throw new Invalid(`unknown type ${JSON.stringify(type)}`);
    }
  });
}

/** Parses the answer of `GET /api/devices/{id}/history` (a JSON object without `type`). */
export function parseHistoryResponse(text: string): Parsed<HistoryResponse> {
  return parseBody(safeJson(text), historyResponse);
}

/** Parses the answer of `GET /api/devices`. */
export function parseDeviceList(text: string): Parsed<DeviceList> {
  return parseBody(safeJson(text), deviceList);
}

/** Checks an already decoded answer of `GET /api/devices` (`response.json()`; `undefined` is not JSON). */
export function deviceListFrom(value: unknown): Parsed<DeviceList> {
  return parseBody(value as JsonValue | undefined, deviceList);
}

/** Parses the body of an HTTP refusal of the hub. */
export function parseErrorBody(text: string): Parsed<ErrorBody> {
  return parseBody(safeJson(text), errorBody);
}

/** Whether `text` is a JSON object without `type`: the legacy flat telemetry of existing Pi scripts. */
export function isLegacyFlatPayload(text: string): boolean {
  const value = safeJson(text);
  return isObject(value) && !("type" in value);
}

/** Whether `value` is a time to live the hub accepts for a command: whole seconds, 1 to 7 days. */
export function isCommandTtl(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_COMMAND_TTL_S;
}

function parseWith<T>(text: string, build: (o: JsonObject, type: string) => T): Parsed<T> {
  return parseBody(safeJson(text), (o) => build(o, str(o, "type")));
}

/** Builds an HTTP body (a JSON object without `type`) from a decoded value. */
function parseBody<T>(value: JsonValue | undefined, build: (o: JsonObject) => T): Parsed<T> {
  if (value === undefined) return { ok: false, error: "not JSON" };
  if (!isObject(value)) return { ok: false, error: "not a JSON object" };
  try {
    return { ok: true, message: build(value) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

function snapshot(o: JsonObject): Snapshot {
  const message: Snapshot = {
    type: "snapshot",
    device_id: str(o, "device_id"),
    online: bool(o, "online"),
    last: o.last === null || o.last === undefined ? null : dashboardTelemetry(obj(o, "last")),
  };
  const commands =
    o.commands === undefined
      ? undefined
      : arr(o, "commands").map((item) => commandStatus(asObject(item, "commands[]")));
  return withOptional(message, "commands", commands);
}

function commandStatus(o: JsonObject): CommandStatusEntry {
  return {
    device_id: str(o, "device_id"),
    id: str(o, "id"),
    name: str(o, "name"),
    state: oneOf(o, "state", COMMAND_STATES),
    queued_at: str(o, "queued_at"),
    expires_at: str(o, "expires_at"),
  };
}

function dashboardTelemetry(o: JsonObject): DashboardTelemetry {
  const sample: DashboardTelemetry = {
    device_id: str(o, "device_id"),
    seq: seq(o, "seq"),
    ts: str(o, "ts"),
    received_at: str(o, "received_at"),
    data: obj(o, "data"),
  };
  return withOptional(sample, "epoch", optStr(o, "epoch"));
}

function telemetry(o: JsonObject): Telemetry {
  const sample: Telemetry = { epoch: str(o, "epoch"), seq: seq(o, "seq"), ts: str(o, "ts"), data: obj(o, "data") };
  return withOptional(sample, "device_id", optStr(o, "device_id"));
}

function command(o: JsonObject): Command {
  const args = o.args === undefined ? {} : obj(o, "args");
  const message: Command = { type: "command", id: str(o, "id"), name: str(o, "name"), args };
  return withOptional(message, "ttl_s", o.ttl_s === undefined || o.ttl_s === null ? undefined : ttlSeconds(o, "ttl_s"));
}

function ttlSeconds(o: JsonObject, key: string): number {
  const value = o[key];
  if (!isCommandTtl(value))
    throw new Invalid(`${key} must be a whole number of seconds from 1 to ${MAX_COMMAND_TTL_S}`);
  return value;
}

function commandResult(o: JsonObject): CommandResult {
  const result: CommandResult = {
    type: "command_result",
    id: str(o, "id"),
    ok: bool(o, "ok"),
    detail: o.detail ?? null,
  };
  return withOptional(result, "device_id", optStr(o, "device_id"));
}

function errorFrame(o: JsonObject): ErrorFrame {
  return { type: "error", code: oneOf(o, "code", ERROR_CODES), message: str(o, "message") };
}

function historyResponse(o: JsonObject): HistoryResponse {
  return {
    device_id: str(o, "device_id"),
    from: str(o, "from"),
    to: str(o, "to"),
    fields: strings(o, "fields"),
    bucket_ms: seq(o, "bucket_ms"),
    samples: arr(o, "samples").map((item): HistorySample => {
      const sample = asObject(item, "samples[]");
      return { t: seq(sample, "t"), v: numbers(sample, "v") };
    }),
    buckets: arr(o, "buckets").map((item): HistoryBucket => {
      const bucket = asObject(item, "buckets[]");
      return {
        t: seq(bucket, "t"),
        n: seq(bucket, "n"),
        min: numbers(bucket, "min"),
        max: numbers(bucket, "max"),
        mean: numbers(bucket, "mean"),
      };
    }),
    truncated: bool(o, "truncated"),
  };
}

function deviceList(o: JsonObject): DeviceList {
  return { devices: strings(o, "devices"), access: oneOf(o, "access", ACCESS_LEVELS) };
}

function errorBody(o: JsonObject): ErrorBody {
  const body: ErrorBody = { error: str(o, "error"), message: o.message === undefined ? "" : str(o, "message") };
  return withOptional(body, "field", optStr(o, "field"));
}

/** An array of strings. */
function strings(o: JsonObject, key: string): string[] {
  return arr(o, key).map((value) => {
    if (typeof value !== "string") throw new Invalid(`${key}[] must be a string`);
    return value;
  });
}

/** An array of numbers or nulls (`Vec<Option<f64>>`). */
function numbers(o: JsonObject, key: string): (number | null)[] {
  return arr(o, key).map((value) => {
    if (value !== null && typeof value !== "number") throw new Invalid(`${key}[] must be a number or null`);
    return value;
  });
}

/** Sets `key` only when `value` is present, so absent optional fields stay absent (as serde skips them). */
function withOptional<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): T {
  if (value !== undefined) target[key] = value;
  return target;
}

function safeJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asObject(value: JsonValue | undefined, key: string): JsonObject {
  if (!isObject(value)) throw new Invalid(`${key} must be an object`);
  return value;
}

function str(o: JsonObject, key: string): string {
  const value = o[key];
  if (typeof value !== "string") throw new Invalid(`${key} must be a string`);
  return value;
}

function optStr(o: JsonObject, key: string): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : str(o, key);
}

function bool(o: JsonObject, key: string): boolean {
  const value = o[key];
  if (typeof value !== "boolean") throw new Invalid(`${key} must be true or false`);
  return value;
}

function seq(o: JsonObject, key: string): number {
  const value = o[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Invalid(`${key} must be a whole number >= 0`);
  }
  return value;
}

function obj(o: JsonObject, key: string): JsonObject {
  return asObject(o[key], key);
}

function arr(o: JsonObject, key: string): JsonValue[] {
  const value = o[key];
  if (!Array.isArray(value)) throw new Invalid(`${key} must be an array`);
  return value;
}

function oneOf<T extends string>(o: JsonObject, key: string, allowed: readonly T[]): T {
  const value = str(o, key);
  if (!(allowed as readonly string[]).includes(value)) throw new Invalid(`unknown ${key} ${JSON.stringify(value)}`);
  return value as T;
}
