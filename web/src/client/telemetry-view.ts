// What a view shows about one device: an immutable snapshot that the client replaces after every change.

import type { CommandRecord } from "./command-log";
import type { ConnectionState } from "./connection-state";
import type { SampleHistory } from "./history";
import type { DashboardTelemetry, PresenceReason } from "./protocol";

/** The range of the hub's history the charts show, and how loading it went. */
export interface HistoryRange {
  /** How far back from now, in ms (e.g. one hour). */
  readonly ms: number;
  /** `idle` until a view asks for it; `loading` again on a change of range and after a reconnect. */
  readonly status: "idle" | "loading" | "ready" | "failed";
  /** The end of the range last loaded (Unix ms): the charts span `[to - ms, to]` and on; null before. */
  readonly to: number | null;
  /** Width of the answer's buckets in ms; 0 when it held raw samples. */
  readonly bucketMs: number;
  /** Whether the hub could not answer the whole range (the charts start late). */
  readonly truncated: boolean;
  /** Why the last load failed (the live samples are still shown). */
  readonly message: string | null;
}

/** Everything a view shows about one device. A new object after every change; `history` is shared. */
export interface TelemetryView {
  readonly deviceId: string;
  readonly connection: ConnectionState;
  /** Whether the device is connected to the hub, as last heard; null until the first snapshot. */
  readonly online: boolean | null;
  /** The last presence change seen, if any. */
  readonly presence: { readonly at: string; readonly reason: PresenceReason } | null;
  /** The newest sample by time received on the socket (from the snapshot or live). */
  readonly last: DashboardTelemetry | null;
  /** The charts' points: the hub's history and live samples (mutable; compare `historyVersion`). */
  readonly history: SampleHistory;
  readonly historyVersion: number;
  /** The range of history shown. */
  readonly range: HistoryRange;
  /** Recent commands, newest first. */
  readonly commands: readonly CommandRecord[];
  /** The last `error` frame not matched to a command, or a frame that did not parse. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
}

/** The view before anything arrived: connecting, nothing known. */
export function initialView(deviceId: string, history: SampleHistory): TelemetryView {
  return {
    deviceId,
    connection: { kind: "connecting", attempt: 1 },
    online: null,
    presence: null,
    last: null,
    history,
    historyVersion: history.version,
    range: { ms: history.limits.windowMs, status: "idle", to: null, bucketMs: 0, truncated: false, message: null },
    commands: [],
    lastError: null,
  };
}
