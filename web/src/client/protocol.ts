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
  | "too_many_dashboards"
  /** Extension: a `cancel_command` named a command that is not queued (unknown, sent or finished). */
  | "not_queued";

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
  "not_queued",
];

/** Sent at once on connect: presence and the last sample (or `null` if the device never sent one). */
export interface Snapshot {
  type: "snapshot";
  device_id: string;
  online: boolean;
  last: DashboardTelemetry | null;
  /**
   * Extension: the device's command queue (queued and sent, oldest first), then the commands that finished
   * lately. Absent when empty (and from a hub without queued commands).
   */
  commands?: CommandStatusEntry[];
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

/**
 * Extension: where a command sent with `ttl_s` stands. `queued`: stored at the hub, waiting for the device;
 * `sent`: relayed, no result yet; `done`: the device answered (its `command_result` is relayed too); `expired`:
 * its time to live passed first; `cancelled`: a dashboard cancelled it while it was queued.
 */
export type CommandState = "queued" | "sent" | "done" | "expired" | "cancelled";

/** Every {@link CommandState}, in the order a command can move through them. */
export const COMMAND_STATES: readonly CommandState[] = ["queued", "sent", "done", "expired", "cancelled"];

/** Extension: longest time to live of a queued command, in seconds (7 days). */
export const MAX_COMMAND_TTL_S = 604_800;

/** Extension: one command of a device's queue, as `command_status` and `snapshot.commands` carry it. */
export interface CommandStatusEntry {
  device_id: string;
  /** The command's `id`. */
  id: string;
  /** The command's `name`. */
  name: string;
  state: CommandState;
  /** When the hub stored it, RFC 3339. */
  queued_at: string;
  /** When its time to live ends, RFC 3339. */
  expires_at: string;
}

/** Extension: a queued command changed state; sent to every dashboard of the device. */
export interface CommandStatus extends CommandStatusEntry {
  type: "command_status";
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
export type HubToDashboard = Snapshot | TelemetryMessage | Presence | CommandResult | CommandStatus | Pong | ErrorFrame;

/** A command for the device (control-scoped dashboard tokens only). */
export interface Command {
  type: "command";
  /** Chosen by the sender to match the result; 1 to 128 bytes. */
  id: string;
  /** What to do, e.g. `set_interval`; 1 to 64 bytes. The device decides what it allows. */
  name: string;
  args: JsonObject;
  /**
   * Extension: wait for an offline device up to this many seconds (1 to {@link MAX_COMMAND_TTL_S}): the hub
   * queues the command and reports its state with `command_status`. Absent: relayed now or refused.
   */
  ttl_s?: number;
}

/** Extension: cancels a command that is still `queued` (else the hub answers the error `not_queued`). */
export interface CancelCommand {
  type: "cancel_command";
  /** The `id` of the queued command. */
  id: string;
}

/** Keep-alive; answered with {@link Pong}. */
export interface Ping {
  type: "ping";
}

/** A message from a dashboard to the hub. */
export type DashboardMessage = Command | CancelCommand | Ping;

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

/**
 * Extension, only to a device that asked for it (`Telemetry-Ack: stored`): every sample of `epoch` with
 * `from <= seq <= to` is in the hub's history, so the device may delete them.
 */
export interface Stored {
  type: "stored";
  epoch: string;
  /** First stored seq of the run. */
  from: number;
  /** Last stored seq of the run (inclusive). */
  to: number;
}

/** A message from the hub to a device. */
export type HubToDevice = Ack | Command | ErrorFrame | Pong | Stored;

/** Default number of points a history answer holds. */
export const DEFAULT_HISTORY_POINTS = 1000;
/** Most points a history answer holds, whatever `points` asks for. */
export const MAX_HISTORY_POINTS = 5000;
/** Most fields one history query returns. */
export const MAX_HISTORY_FIELDS = 32;
/** Most samples one CSV export holds; a longer range is cut there and says where to go on. */
export const MAX_CSV_SAMPLES = 100_000;
/** Response header of a CSV export cut at {@link MAX_CSV_SAMPLES}: the `from` (Unix ms) of the next page. */
export const CSV_NEXT_FROM_HEADER = "Telemetry-Next-From";

/**
 * Extension, `GET /api/devices/{id}/history`: numeric fields of a device's samples in a time range, raw when
 * they fit in the point budget (`bucket_ms` 0, `samples`), else as time buckets with min, max and mean.
 */
export interface HistoryResponse {
  device_id: string;
  /** Start of the range (inclusive), RFC 3339. */
  from: string;
  /** End of the range (exclusive), RFC 3339. */
  to: string;
  /** Dotted paths into `data` (`battery.voltage`); each point's arrays follow this order. */
  fields: string[];
  /** Width of a bucket in milliseconds; 0 when `samples` holds raw samples. */
  bucket_ms: number;
  /** Raw samples, oldest first. */
  samples: HistorySample[];
  /** Buckets with at least one sample, oldest first. A missing bucket is a gap. */
  buckets: HistoryBucket[];
  /** The hub stopped at its row limit: the answer covers the range only up to its last point. */
  truncated: boolean;
}

/** One raw sample of a {@link HistoryResponse}. */
export interface HistorySample {
  /** The sample's time, Unix milliseconds. */
  t: number;
  /** The value of each field, `null` where the sample has no number there. */
  v: (number | null)[];
}

/** One bucket of a {@link HistoryResponse}. */
export interface HistoryBucket {
  /** Start of the bucket, Unix milliseconds. */
  t: number;
  /** Samples in the bucket. */
  n: number;
  /** Per field: the smallest value, `null` where no sample had a number there. */
  min: (number | null)[];
  /** Per field: the largest value. */
  max: (number | null)[];
  /** Per field: the mean of the values. */
  mean: (number | null)[];
}

/** What a dashboard token may do on the devices in its scope: watch only, or also send commands. */
export type Access = "read" | "control";

/** Every {@link Access}, weakest first. */
export const ACCESS_LEVELS: readonly Access[] = ["read", "control"];

/** `GET /api/devices`: the device ids the presented dashboard token can watch, and what it may do on them. */
export interface DeviceList {
  /** The covered device ids (for a `*` token every device, ordered by id, at most 1000). */
  devices: string[];
  access: Access;
}

/** The codes of {@link ErrorBody} this hub sends; the HTTP status says the class. */
export const HTTP_ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "upgrade_required",
  "invalid_field",
  "conflict",
  "too_many_requests",
  "admin_disabled",
  "internal",
] as const;

/** One of {@link HTTP_ERROR_CODES}. */
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** The body of every HTTP refusal of the hub. A 403 is always `{"error":"forbidden","message":"forbidden"}`. */
export interface ErrorBody {
  /** Stable machine-readable reason: one of {@link HTTP_ERROR_CODES}, or a code a newer hub added. */
  error: string;
  /** Human-readable text; never echoes a credential. Empty when absent. */
  message: string;
  /** The request field at fault (`invalid_field`, `conflict`); absent otherwise. */
  field?: string;
}
