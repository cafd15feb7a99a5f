// One device, live: its status line, latest values, charts of its history and (for control tokens) commands.

import { useEffect, useRef } from "preact/hooks";

import { fetchDevices, useTelemetry, type Access, type AccessCheck } from "../client";
import { Charts } from "./charts";
import { Commands } from "./commands";
import { LatestValues } from "./latest-values";
import { StatusLine } from "./status-line";

interface Props {
  baseUrl: string;
  token: string;
  deviceId: string;
  access: Access;
  /** Whether this tab is the one shown (hidden tabs stay connected). */
  visible: boolean;
  /** Called when the hub closes the socket with 4001 (token revoked). */
  onRevoked: () => void;
}

/** The live tab of one device. */
export function DevicePanel({ baseUrl, token, deviceId, access, visible, onRevoked }: Props) {
  const live = useTelemetry(deviceId, {
    baseUrl,
    token,
    checkAccess: () => checkAccess(baseUrl, token, deviceId),
  });
  const closedFor = live.connection.kind === "closed" ? live.connection.reason : null;
  // The parent's callback may be new on every render; it is called once, when the socket closes as revoked.
  const revoked = useRef(onRevoked);
  revoked.current = onRevoked;

  useEffect(() => {
    if (closedFor === "revoked") revoked.current();
  }, [closedFor]);

  useEffect(() => {
    if (visible) document.title = `${deviceId} · Telemetry hub`;
  }, [visible, deviceId]);

  return (
    <div class="device-panel" data-device={deviceId}>
      <StatusLine live={live} />
      {live.connection.kind === "closed" && live.connection.reason !== "stopped" && (
        <div class="alert" role="alert">
          {live.connection.message}
        </div>
      )}
      {live.lastError && (
        <p class="muted small" role="status">
          Hub said: {live.lastError.message} ({live.lastError.code})
        </p>
      )}
      <LatestValues last={live.last} />
      <Charts
        history={live.history}
        version={live.historyVersion}
        visible={visible}
        range={live.range}
        showRange={live.showRange}
        hub={{ baseUrl, token, deviceId }}
      />
      {access === "control" ? (
        <Commands
          deviceId={deviceId}
          commands={live.commands}
          connected={live.connection.kind === "open"}
          online={live.online === true}
          send={live.sendCommand}
          cancel={live.cancelCommand}
        />
      ) : (
        <p class="muted small">This token has read-only access: commands are not available.</p>
      )}
    </div>
  );
}

/** After a refused handshake: does the token still cover `deviceId`? */
async function checkAccess(baseUrl: string, token: string, deviceId: string): Promise<AccessCheck> {
  const result = await fetchDevices(baseUrl, token);
  if (result.ok) return result.devices.includes(deviceId) ? "ok" : "forbidden";
  return result.reason === "forbidden" || result.reason === "unauthorized" ? "forbidden" : "unknown";
}
