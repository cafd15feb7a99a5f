// Wire types of `telemetry.v1`, written by hand to mirror the Rust crate in `protocol/` (see docs/protocol.md).
//
// `protocol.test.ts` parses every file of `protocol/golden/` with `parse.ts` and fails when the two drift.

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The subprotocol a dashboard offers and the hub selects. */
export const SUBPROTOCOL = "telemetry.v1";

/** Prefix of the subprotocol that carries a dashboard token from a browser (`bearer.<token>`). */
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";

/** The exact ping text the hub answers with {@link PONG_TEXT} without waking the Durable Object. */
export const PING_TEXT = '{"type":"ping"}';

/** The answer to {@link PING_TEXT}. */
export const PONG_TEXT = '{"type":"pong"}';

/** Close codes the hub uses. */
export const CloseCode = {
  /** Normal close (echoed when the client closes). */
  Normal: 1000,
  /** Past a flood limit (an `error` frame with `rate_limited` or `too_many_dashboards` comes first). */
  PolicyViolation: 1008,
  /** A frame over {@link MAX_FRAME_BYTES}. */
  MessageTooBig: 1009,
  /** A newer connection of the same device took over (device sockets only). */
  Replaced: 4000,
  /** The credential was disabled or revoked: do not reconnect with it. */
  Revoked: 4001,
} as const;

/** Largest text frame the hub accepts, in bytes. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Longest command `id`, in bytes. */
export const MAX_COMMAND_ID_LEN = 128;
/** Longest command `name`, in bytes. */
export const MAX_COMMAND_NAME_LEN = 64;
/** Most samples in one `batch`. */
export const MAX_BATCH_ITEMS = 500;

/** A sample as dashboards see it: the device's sample plus the authenticated id and the hub's receive time. */
export interface DashboardTelemetry {
  /** The authenticated device id (never taken from the payload). */
  device_id: string;
  /** Extension: the device's epoch; `seq` restarts when it changes. */
  epoch?: string;
  /** The sample's position within its epoch. */
  seq: number;
  /** When the device took the sample, RFC 3339. */
  ts: string;
  /** When the hub accepted it, RFC 3339 with milliseconds, UTC. */
  received_at: string;
  /** The measured values. */
  data: JsonObject;
}

/** Why a device's presence changed. */
export type PresenceReason = "connected" | "replaced" | "disconnected" | "error" | "revoked" | "timeout";

/** Every {@link PresenceReason}. */
export const PRESENCE_REASONS: readonly PresenceReason[] = [
  "connected",
  "replaced",
  "disconnected",
  "error",
  "revoked",
  "timeout",
];

/** Why the hub refused a message. */
export type ErrorCode =
  | "invalid_json"
  | "not_an_object"
  | "binary_not_supported"
  | "unknown_type"
  | "invalid_message"
  | "wrong_direction"
  | "batch_too_large"
  | "device_id_mismatch"
  | "read_only"
  | "internal"
  | "rate_limited"
  | "too_many_dashboards";

/** Every {@link ErrorCode}. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "invalid_json",
  "not_an_object",
  "binary_not_supported",
  "unknown_type",
  "invalid_message",
  "wrong_direction",
  "batch_too_large",
  "device_id_mismatch",
  "read_only",
  "internal",
  "rate_limited",
  "too_many_dashboards",
];

/** Sent at once on connect: presence and the last sample (or `null` if the device never sent one). */
export interface Snapshot {
  type: "snapshot";
  device_id: string;
  online: boolean;
  last: DashboardTelemetry | null;
}

/** Every accepted sample, as it is accepted. */
export interface TelemetryMessage extends DashboardTelemetry {
  type: "telemetry";
}

/** The device came online or went offline. */
export interface Presence {
  type: "presence";
  device_id: string;
  online: boolean;
  /** When the hub saw the change, RFC 3339. */
  at: string;
  reason: PresenceReason;
}

/** The outcome of a command: from the device, or `device offline` from the hub. */
export interface CommandResult {
  type: "command_result";
  /** The `id` of the command this answers. */
  id: string;
  ok: boolean;
  /** A reason or a result: any JSON value, usually a string (`null` when absent). */
  detail: JsonValue;
  /** Added by the hub on the way to dashboards. */
  device_id?: string;
}

/** Answer to a ping. */
export interface Pong {
  type: "pong";
}

/** The last message was refused; the connection stays open. */
export interface ErrorFrame {
  type: "error";
  code: ErrorCode;
  /** Human-readable detail; never echoes a credential. */
  message: string;
}

/** A message from the hub to a dashboard. */
export type HubToDashboard = Snapshot | TelemetryMessage | Presence | CommandResult | Pong | ErrorFrame;

/** A command for the device (control-scoped dashboard tokens only). */
export interface Command {
  type: "command";
  /** Chosen by the sender to match the result; 1 to 128 bytes. */
  id: string;
  /** What to do, e.g. `set_interval`; 1 to 64 bytes. The device decides what it allows. */
  name: string;
  args: JsonObject;
}

/** Keep-alive; answered with {@link Pong}. */
export interface Ping {
  type: "ping";
}

/** A message from a dashboard to the hub. */
export type DashboardMessage = Command | Ping;

/** One measurement as a device sends it. */
export interface Telemetry {
  epoch: string;
  seq: number;
  ts: string;
  data: JsonObject;
  /** Optional; if present it must equal the authenticated device id. */
  device_id?: string;
}

/** A typed message from a device to the hub. */
export type DeviceMessage = ({ type: "telemetry" } & Telemetry) | { type: "batch"; items: Telemetry[] } | CommandResult;

/** Every sample of `epoch` up to `seq` is safe at the hub. */
export interface Ack {
  type: "ack";
  seq: number;
  epoch?: string;
}

/** A message from the hub to a device. */
export type HubToDevice = Ack | Command | ErrorFrame | Pong;
