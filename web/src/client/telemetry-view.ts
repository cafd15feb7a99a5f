// What a view shows about one device: an immutable snapshot that the client replaces after every change.

import type { CommandRecord } from "./command-log";
import type { ConnectionState } from "./connection-state";
import type { SampleHistory } from "./history";
import type { DashboardTelemetry, PresenceReason } from "./protocol";

/** Everything a view shows about one device. A new object after every change; `history` is shared. */
export interface TelemetryView {
  readonly deviceId: string;
  readonly connection: ConnectionState;
  /** Whether the device is connected to the hub, as last heard; null until the first snapshot. */
  readonly online: boolean | null;
  /** The last presence change seen, if any. */
  readonly presence: { readonly at: string; readonly reason: PresenceReason } | null;
  /** The newest sample by time (from the snapshot or live). */
  readonly last: DashboardTelemetry | null;
  /** The bounded sample window (mutable; compare `historyVersion` to know when it changed). */
  readonly history: SampleHistory;
  readonly historyVersion: number;
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
    commands: [],
    lastError: null,
  };
}
