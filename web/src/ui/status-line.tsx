// The status line of a device: the socket's state, the device's presence and the time of the last sample.

import { describeConnection, sampleTime, type TelemetryView } from "../client";
import { ago, dateTime } from "./format";
import { useNow } from "./use-now";

/** Presence, connection and last-sample badges. */
export function StatusLine({ live }: { live: TelemetryView }) {
  const now = useNow(1000);
  const conn = live.connection;
  const connText = describeConnection(conn, now);
  const connTitle = conn.kind === "reconnecting" ? conn.why : conn.kind === "closed" ? conn.message : undefined;
  const lastMs = live.last ? sampleTime(live.last) : null;

  return (
    <div class="status">
      <h2 class="device-title">{live.deviceId}</h2>
      <span class={`badge presence ${presenceClass(live)}`} data-testid="presence">
        <span class="badge-dot" aria-hidden="true" />
        {presenceText(live)}
      </span>
      <span class={`badge conn conn-${conn.kind}`} title={connTitle} data-testid="connection" data-state={conn.kind}>
        Socket {connText}
        {conn.kind === "reconnecting" && <span class="why"> · {conn.why}</span>}
      </span>
      {/* Announced once per change of state, not every second of a countdown. */}
      <span class="visually-hidden" role="status">
        {`${live.deviceId}: socket ${conn.kind}`}
      </span>
      <span class="last-sample muted" data-testid="last-sample">
        {lastMs === null ? (
          "no sample yet"
        ) : (
          <>
            Last sample <time dateTime={new Date(lastMs).toISOString()}>{dateTime(lastMs, now)}</time> (
            {ago(lastMs, now)}) · seq {live.last?.seq}
          </>
        )}
      </span>
    </div>
  );
}

/** Presence is only known while the socket is open; otherwise it is shown as last known. */
function presenceClass(live: TelemetryView): string {
  if (live.online === null || live.connection.kind !== "open") return "unknown";
  return live.online ? "online" : "offline";
}

function presenceText(live: TelemetryView): string {
  if (live.online === null) return "presence unknown";
  if (live.connection.kind !== "open") return live.online ? "device was online" : "device was offline";
  if (live.online) return "device online";
  const since = live.presence ? ` since ${dateTime(Date.parse(live.presence.at), Date.now())}` : "";
  const why = live.presence && live.presence.reason !== "disconnected" ? ` (${live.presence.reason})` : "";
  return `device offline${since}${why}`;
}
