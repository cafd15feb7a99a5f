// A minimal JavaScript hub: the reference point that `scripts/bench connect` measures the Rust Worker against.
//
// It does what the Rust hub must do on the happy path of a handshake, and nothing more:
//   GET /ws/device/{id}     the SHA-256 of the bearer token must equal `devices.token_sha256` of a device that is
//                           not disabled; the device's Durable Object accepts the socket (101).
//   GET /ws/dashboard/{id}  the token's hash must name a row of `dashboard_tokens` that is not revoked and whose
//                           scope is "*" or lists {id}; the Durable Object accepts the socket and sends a snapshot.
// Same D1 schema as the hub (schema.sql). No failed-authentication guard, no token format check, no rotation
// grace, no presence, no telemetry: a refusal is a bare 403 and there is nothing to do after the handshake.

import { DurableObject } from "cloudflare:workers";

const ROUTE = /^\/ws\/(device|dashboard)\/([A-Za-z0-9_-]{1,64})$/;

export default {
  async fetch(request, env) {
    const route = ROUTE.exec(new URL(request.url).pathname);
    if (!route) return new Response("not found", { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const token = bearerToken(request);
    if (!token) return forbidden();
    const [, role, deviceId] = route;
    const hash = await sha256Hex(token);
    const admitted =
      role === "device"
        ? await deviceMayConnect(env.DB, deviceId, hash)
        : await dashboardMayWatch(env.DB, deviceId, hash);
    if (!admitted) return forbidden();
    // The Durable Object gets a fresh request: the client's credentials stay here.
    const hub = env.DEVICE_HUB.get(env.DEVICE_HUB.idFromName(deviceId));
    return hub.fetch(`https://device-hub/${role}/${deviceId}`, { headers: { Upgrade: "websocket" } });
  },
};

/** One device's sockets (Hibernation API): the device's, tagged "device", and its dashboards', "dashboard". */
export class DeviceHub extends DurableObject {
  async fetch(request) {
    const [, role, deviceId] = new URL(request.url).pathname.split("/");
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [role]);
    if (role === "dashboard") {
      const online = this.ctx.getWebSockets("device").length > 0;
      server.send(JSON.stringify({ type: "snapshot", device_id: deviceId, online, last: null }));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  // Completes the closing handshake (1005 and 1006 may not be sent back).
  async webSocketClose(ws, code) {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // Already closed (the runtime may answer the Close itself).
    }
  }
}

async function deviceMayConnect(db, deviceId, hash) {
  const row = await db
    .prepare("SELECT token_sha256, disabled_at FROM devices WHERE id = ?")
    .bind(deviceId)
    .first();
  return row !== null && row.disabled_at === null && sameHex(row.token_sha256, hash);
}

async function dashboardMayWatch(db, deviceId, hash) {
  const row = await db
    .prepare("SELECT devices, revoked_at FROM dashboard_tokens WHERE token_sha256 = ?")
    .bind(hash)
    .first();
  if (row === null || row.revoked_at !== null) return false;
  return row.devices.trim() === "*" || row.devices.split(",").some((id) => id.trim() === deviceId);
}

function bearerToken(request) {
  const header = request.headers.get("Authorization") ?? "";
  return header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Compares in time that depends only on the length, like the Rust hub's hash comparison.
function sameHex(stored, presented) {
  if (typeof stored !== "string" || stored.length !== presented.length) return false;
  let difference = 0;
  for (let i = 0; i < stored.length; i++) difference |= stored.charCodeAt(i) ^ presented.charCodeAt(i);
  return difference === 0;
}

function forbidden() {
  return new Response("forbidden", { status: 403 });
}
