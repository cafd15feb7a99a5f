import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { decideAfterClose, describeConnection } from "./connection-state";
import { PING_TEXT } from "./protocol";
import { createTelemetryClient, dashboardUrl, type TelemetryClientOptions } from "./telemetry-client";
import { FakeWebSocket } from "./testing/fake-websocket";

const TOKEN = "tdash_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK";
const sample = (seq: number, volts = 53.2) => ({
  device_id: "ems_001",
  epoch: "e1",
  seq,
  ts: new Date(Date.now()).toISOString(),
  received_at: new Date(Date.now()).toISOString(),
  data: { battery: { voltage: volts, soc: 85 } },
});

function client(extra: Partial<TelemetryClientOptions> = {}) {
  return createTelemetryClient({
    baseUrl: "http://127.0.0.1:8787",
    deviceId: "ems_001",
    token: TOKEN,
    WebSocket: FakeWebSocket,
    random: () => 0.5,
    ...extra,
  });
}

/** Opens the newest socket and plays the hub's snapshot. */
function accept(last: object | null = null, online = true): FakeWebSocket {
  const socket = FakeWebSocket.last();
  socket.open();
  socket.receive({ type: "snapshot", device_id: "ems_001", online, last });
  return socket;
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers({ now: Date.parse("2026-02-03T12:00:00Z") });
});

afterEach(() => {
  vi.useRealTimers();
});

describe("connecting", () => {
  it("opens the dashboard URL with the subprotocols, never the token in the URL", () => {
    client();
    const socket = FakeWebSocket.last();
    expect(socket.url).toBe("ws://127.0.0.1:8787/ws/dashboard/ems_001");
    expect(socket.protocols).toEqual(["telemetry.v1", `bearer.${TOKEN}`]);
    expect(dashboardUrl("https://hub.example/x?y", "a b")).toBe("wss://hub.example/ws/dashboard/a%20b");
  });

  it("starts the chart from the snapshot, then adds live samples", () => {
    const live = client();
    expect(live.getView().connection).toEqual({ kind: "connecting", attempt: 1 });
    const socket = accept(sample(1, 52));
    expect(live.getView()).toMatchObject({ online: true, last: { seq: 1 }, connection: { kind: "open" } });
    expect(live.getView().history.size).toBe(1);
    vi.advanceTimersByTime(1000);
    socket.receive({ type: "telemetry", ...sample(2, 53) });
    socket.receive({ type: "telemetry", ...sample(2, 53) }); // a resend is kept once
    socket.receive({ type: "telemetry", ...sample(3, 54), device_id: "other" }); // not this device
    const view = live.getView();
    expect(view.history.size).toBe(2);
    expect(view.last?.seq).toBe(2);
    expect(view.history.columns(["battery.voltage"])[1]).toEqual([52, 53]);
  });

  it("follows presence and reports a frame that does not parse", () => {
    const live = client();
    const socket = accept(null, true);
    socket.receive({
      type: "presence",
      device_id: "ems_001",
      online: false,
      at: "2026-02-03T12:00:05Z",
      reason: "disconnected",
    });
    expect(live.getView()).toMatchObject({ online: false, presence: { reason: "disconnected" } });
    socket.receive("{nonsense");
    expect(live.getView().lastError?.code).toBe("unparsed");
  });

  it("gives the typed message stream to listeners", () => {
    const live = client();
    const seen: string[] = [];
    live.onMessage((m) => seen.push(m.type));
    const socket = accept();
    socket.receive({ type: "pong" });
    expect(seen).toEqual(["snapshot", "pong"]);
  });
});

describe("reconnecting", () => {
  it("reconnects after a lost connection, keeping the history", () => {
    const live = client();
    accept(sample(1)).end(1006);
    const state = live.getView().connection;
    expect(state.kind).toBe("reconnecting");
    if (state.kind !== "reconnecting") return;
    expect(state.delayMs).toBeGreaterThanOrEqual(100);
    expect(state.delayMs).toBeLessThan(1000);
    expect(describeConnection(state, Date.now())).toBe("reconnecting in 1 s");
    expect(describeConnection({ kind: "open", since: 0 }, 0)).toBe("open");
    vi.advanceTimersByTime(state.delayMs - 1);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(live.getView().connection).toEqual({ kind: "connecting", attempt: 1 });
    accept(sample(1));
    expect(live.getView().history.size).toBe(1);
  });

  it("backs off exponentially while the hub is down, capped", () => {
    const live = client({ random: () => 0.999, backoff: { baseMs: 1000, capMs: 8000, minMs: 0 } });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      FakeWebSocket.last().end(1006);
      const state = live.getView().connection;
      if (state.kind !== "reconnecting") throw new Error(state.kind);
      delays.push(state.delayMs);
      vi.advanceTimersByTime(state.delayMs);
    }
    expect(delays).toEqual([999, 1998, 3996, 7992, 7992, 7992, 7992]);
    expect(live.getView().connection).toEqual({ kind: "connecting", attempt: 8 });
  });

  it("resets the backoff after a connection that stayed up", () => {
    const live = client({ random: () => 0.999, backoff: { minMs: 0 } });
    FakeWebSocket.last().end(1006);
    vi.advanceTimersByTime(1000);
    FakeWebSocket.last().end(1006);
    vi.advanceTimersByTime(2000);
    accept();
    vi.advanceTimersByTime(15_000);
    FakeWebSocket.last().end(1006);
    const state = live.getView().connection;
    expect(state.kind === "reconnecting" && state.delayMs).toBe(999);
  });

  it("gives up on a handshake that does not finish", () => {
    const live = client({ connectTimeoutMs: 5000 });
    vi.advanceTimersByTime(5000);
    const first = FakeWebSocket.instances[0];
    expect(first.closedByClient).not.toBeNull();
    expect(first.attached).toBe(false);
    expect(live.getView().connection).toMatchObject({ kind: "reconnecting", why: "the hub did not answer in time" });
  });

  it("stops for good on 4001 revoked, leaving no timer", () => {
    const live = client();
    accept().end(4001, "revoked");
    expect(live.getView().connection).toMatchObject({ kind: "closed", reason: "revoked" });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("stops when the access check says the token is refused", async () => {
    const checkAccess = vi.fn(() => Promise.resolve("forbidden" as const));
    const live = client({ checkAccess });
    FakeWebSocket.last().end(1006);
    await vi.waitFor(() => expect(live.getView().connection).toMatchObject({ kind: "closed", reason: "forbidden" }));
    expect(checkAccess).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps retrying when the access check cannot tell, and does not check after an open socket drops", async () => {
    const checkAccess = vi.fn(() => Promise.resolve("unknown" as const));
    const live = client({ checkAccess });
    FakeWebSocket.last().end(1006);
    await Promise.resolve();
    expect(live.getView().connection.kind).toBe("reconnecting");
    vi.advanceTimersByTime(1000);
    accept().end(1006);
    expect(checkAccess).toHaveBeenCalledTimes(1);
  });
});

describe("liveness pings", () => {
  it("sends the exact ping text and stays when anything answers", () => {
    const live = client({ pingIntervalMs: 20_000, pongTimeoutMs: 5_000 });
    const socket = accept();
    vi.advanceTimersByTime(20_000);
    expect(socket.sent).toEqual([PING_TEXT]);
    vi.advanceTimersByTime(1_000);
    socket.receive({ type: "pong" });
    vi.advanceTimersByTime(10_000);
    expect(live.getView().connection.kind).toBe("open");
  });

  it("replaces a socket that does not answer a ping", () => {
    const live = client({ pingIntervalMs: 20_000, pongTimeoutMs: 5_000 });
    const socket = accept();
    vi.advanceTimersByTime(25_000);
    expect(socket.attached).toBe(false);
    expect(socket.closedByClient).toBe(1000);
    expect(live.getView().connection).toMatchObject({
      kind: "reconnecting",
      why: "connection lost (no answer to ping)",
    });
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });
});

describe("commands", () => {
  it("sends a command and settles it with its result", async () => {
    const live = client();
    const socket = accept();
    const outcome = live.sendCommand("set_interval", { seconds: 5 });
    const sent = socket.sentJson()[0] as { id: string };
    expect(sent).toEqual({ type: "command", id: sent.id, name: "set_interval", args: { seconds: 5 } });
    expect(live.getView().commands[0]).toMatchObject({ status: "pending", name: "set_interval" });
    socket.receive({
      type: "command_result",
      id: sent.id,
      ok: true,
      detail: "interval set to 5 s",
      device_id: "ems_001",
    });
    await expect(outcome).resolves.toMatchObject({ status: "ok", detail: "interval set to 5 s" });
    expect(live.getView().commands[0]).toMatchObject({ status: "ok" });
  });

  it("fails a command the hub refuses, one sent while disconnected, and one without an answer", async () => {
    const live = client({ commandTimeoutMs: 30_000 });
    await expect(live.sendCommand("ping")).resolves.toMatchObject({
      status: "failed",
      detail: "not connected to the hub",
    });
    const socket = accept();
    const refused = live.sendCommand("gpio_write", { pin: 17, level: 1 });
    socket.receive({ type: "error", code: "read_only", message: "this dashboard token is read-only" });
    await expect(refused).resolves.toMatchObject({
      status: "failed",
      detail: "refused: this token has read access only",
    });
    const silent = live.sendCommand("ping");
    vi.advanceTimersByTime(30_000);
    await expect(silent).resolves.toMatchObject({ status: "failed", detail: "no answer within 30 s" });
    expect(live.getView().commands.map((c) => c.status)).toEqual(["failed", "failed", "failed"]);
  });

  it("fails pending commands when the connection drops", async () => {
    const live = client();
    const socket = accept();
    const pending = live.sendCommand("ping");
    socket.end(1006);
    await expect(pending).resolves.toMatchObject({ status: "failed" });
    expect(vi.getTimerCount()).toBe(1); // only the reconnect
  });
});

describe("queued commands (extension)", () => {
  const entry = (id: string, state: string, name = "ping") => ({
    device_id: "ems_001",
    id,
    name,
    state,
    queued_at: "2026-02-03T12:00:00.000Z",
    expires_at: "2026-02-03T13:00:00.000Z",
  });
  const status = (id: string, state: string, name = "ping") => ({ type: "command_status", ...entry(id, state, name) });

  it("sends ttl_s, follows queued → sent → done, and needs no answer within the command timeout", async () => {
    const live = client({ commandTimeoutMs: 30_000, pingIntervalMs: 3_600_000 });
    const socket = accept(null, false);
    const outcome = live.sendCommand("ping", {}, { ttlS: 600 });
    const sent = socket.sentJson()[0] as { id: string };
    expect(socket.sent[0]).toBe(`{"type":"command","id":"${sent.id}","name":"ping","args":{},"ttl_s":600}`);
    socket.receive(status(sent.id, "queued"));
    expect(live.getView().commands[0]).toMatchObject({ status: "pending", ttlS: 600, queue: { state: "queued" } });
    vi.advanceTimersByTime(120_000); // waiting at the hub is not a timeout
    expect(live.getView().commands[0].status).toBe("pending");
    socket.receive(status(sent.id, "sent"));
    socket.receive(status(sent.id, "done"));
    socket.receive({ type: "command_result", id: sent.id, ok: true, detail: "pong", device_id: "ems_001" });
    await expect(outcome).resolves.toMatchObject({ status: "ok", detail: "pong", queue: { state: "done" } });
  });

  it("fails a queued command that expires", async () => {
    const live = client();
    const socket = accept(null, false);
    const outcome = live.sendCommand("ping", {}, { ttlS: 1 });
    const { id } = socket.sentJson()[0] as { id: string };
    socket.receive(status(id, "queued"));
    socket.receive(status(id, "expired"));
    socket.receive({ type: "command_result", id, ok: false, detail: "expired", device_id: "ems_001" });
    await expect(outcome).resolves.toMatchObject({ status: "failed", detail: "expired", queue: { state: "expired" } });
  });

  it("refuses a time to live the hub would refuse, without sending it", async () => {
    const live = client();
    const socket = accept();
    for (const ttlS of [0, 1.5, 604_801]) {
      await expect(live.sendCommand("ping", {}, { ttlS })).resolves.toMatchObject({
        status: "failed",
        detail: "the time to live must be whole seconds from 1 to 604800",
      });
    }
    expect(socket.sent).toEqual([]);
  });

  it("cancels with the exact JSON and settles the command as cancelled", async () => {
    const live = client();
    const socket = accept(null, false);
    const outcome = live.sendCommand("set_interval", { seconds: 5 }, { ttlS: 3600 });
    const { id } = socket.sentJson()[0] as { id: string };
    socket.receive(status(id, "queued", "set_interval"));
    const cancelled = live.cancelCommand(id);
    expect(socket.sent[1]).toBe(`{"type":"cancel_command","id":"${id}"}`);
    expect(live.getView().commands[0]).toMatchObject({ cancelling: true });
    socket.receive(status(id, "cancelled", "set_interval"));
    socket.receive({ type: "command_result", id, ok: false, detail: "cancelled", device_id: "ems_001" });
    await expect(cancelled).resolves.toEqual({ ok: true, detail: "cancelled" });
    await expect(outcome).resolves.toMatchObject({ status: "failed", detail: "cancelled" });
    expect(live.getView().commands[0]).toMatchObject({ queue: { state: "cancelled" }, cancelling: undefined });
  });

  it("matches not_queued to the cancel, never to a command in flight", async () => {
    const live = client();
    const socket = accept();
    const inFlight = live.sendCommand("ping");
    const cancelled = live.cancelCommand("c-gone");
    socket.receive({ type: "error", code: "not_queued", message: "no queued command has this id" });
    await expect(cancelled).resolves.toEqual({ ok: false, detail: "not cancelled: it was no longer queued" });
    expect(live.getView().commands[0].status).toBe("pending");
    expect(live.getView().lastError).toBeNull();
    const { id } = socket.sentJson()[0] as { id: string };
    socket.receive({ type: "command_result", id, ok: true, detail: "pong" });
    await expect(inFlight).resolves.toMatchObject({ status: "ok" });
    await expect(client().cancelCommand("c-1")).resolves.toEqual({ ok: false, detail: "not connected to the hub" });
  });

  it("keeps a queued command across a reconnect; the next snapshot seeds the log", async () => {
    const live = client();
    const socket = accept(null, false);
    const outcome = live.sendCommand("ping", {}, { ttlS: 600 });
    const { id } = socket.sentJson()[0] as { id: string };
    socket.receive(status(id, "queued"));
    const plain = live.sendCommand("set_interval", { seconds: 2 });
    socket.end(1006);
    await expect(plain).resolves.toMatchObject({ status: "failed" }); // not held by the hub
    expect(live.getView().commands.find((c) => c.id === id)?.status).toBe("pending");
    vi.advanceTimersByTime(1000);
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive({
      type: "snapshot",
      device_id: "ems_001",
      online: true,
      last: null,
      commands: [entry("c-other", "queued", "gpio_write"), entry(id, "done")],
    });
    await expect(outcome).resolves.toMatchObject({ status: "unknown", queue: { state: "done" } });
    expect(live.getView().commands.find((c) => c.id === "c-other")).toMatchObject({
      name: "gpio_write",
      queue: { state: "queued" },
    });
  });
});

describe("close", () => {
  it("closes the socket, clears every timer and never reconnects", () => {
    const live = client();
    const socket = accept();
    void live.sendCommand("ping");
    live.close();
    live.close();
    expect(socket.closedByClient).toBe(1000);
    expect(socket.attached).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(live.getView().connection).toMatchObject({ kind: "closed", reason: "stopped" });
    vi.advanceTimersByTime(3_600_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("cancels a pending reconnect", () => {
    const live = client();
    FakeWebSocket.last().end(1006);
    expect(vi.getTimerCount()).toBe(1);
    live.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("notifies subscribers until they unsubscribe", () => {
    const live = client();
    const kinds: string[] = [];
    const off = live.subscribe((view) => kinds.push(view.connection.kind));
    accept();
    off();
    live.close();
    expect(kinds).toEqual(["open", "open"]);
  });
});

describe("decideAfterClose after a flood limit", () => {
  it("retries with the hub's reason after 1008", () => {
    expect(decideAfterClose({ code: 1008, reason: "too many dashboards", opened: true })).toEqual({
      action: "retry",
      why: "the hub closed the connection (too many dashboards)",
      checkAccess: false,
    });
  });
});

describe("decideAfterClose", () => {
  it("stops only on revocation", () => {
    expect(decideAfterClose({ code: 4001, reason: "revoked", opened: true })).toMatchObject({ action: "stop" });
    expect(decideAfterClose({ code: 1006, reason: "", opened: false })).toMatchObject({
      action: "retry",
      checkAccess: true,
    });
    expect(decideAfterClose({ code: 1009, reason: "", opened: true })).toMatchObject({
      action: "retry",
      checkAccess: false,
    });
    expect(decideAfterClose({ code: 1001, reason: "going away", opened: true })).toMatchObject({
      action: "retry",
      why: "connection lost (going away)",
    });
  });
});

describe("the hub's history", () => {
  const NOW = Date.parse("2026-02-03T12:00:00Z");
  const answer = (times: number[]) => ({
    device_id: "ems_001",
    from: "f",
    to: "t",
    fields: ["battery.voltage"],
    bucket_ms: 0,
    samples: times.map((t) => ({ t, v: [50] })),
    buckets: [],
    truncated: false,
  });

  /** A fake fetch whose answers the test releases one by one. */
  function hubHistory() {
    const pending: { url: URL; signal?: AbortSignal; reply: (response: Response) => void }[] = [];
    const fetchImpl = vi.fn(
      (url: string, init?: RequestInit) =>
        new Promise<Response>((resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
          pending.push({ url: new URL(url), signal: init?.signal ?? undefined, reply: resolve });
        }),
    );
    return { fetch: fetchImpl as unknown as typeof fetch, pending };
  }

  it("opens on the past: the range's samples, then live ones after them", async () => {
    const hub = hubHistory();
    const live = client({ fetch: hub.fetch });
    const socket = accept(sample(5)); // the snapshot's sample comes first…
    const loaded = live.showRange(3_600_000, 640);
    expect(live.getView().range).toMatchObject({ ms: 3_600_000, status: "loading" });
    expect(Object.fromEntries(hub.pending[0].url.searchParams)).toEqual({
      from: String(NOW - 3_600_000),
      to: String(NOW),
      points: "640",
    });
    hub.pending[0].reply(new Response(JSON.stringify(answer([NOW - 20_000, NOW - 10_000, NOW]))));
    await loaded;
    // …and the answer holds it too: it is kept once.
    expect(live.getView().range).toMatchObject({ status: "ready", to: NOW, bucketMs: 0, message: null });
    expect(live.getView().history.size).toBe(3);
    vi.advanceTimersByTime(10_000);
    socket.receive({ type: "telemetry", ...sample(6, 54) });
    expect(
      live
        .getView()
        .history.points()
        .map((p) => p.t - NOW),
    ).toEqual([-20_000, -10_000, 0, 10_000]);
    expect(live.getView().last?.seq).toBe(6);
  });

  it("drops the answer of a range that a newer choice overtook", async () => {
    const hub = hubHistory();
    const live = client({ fetch: hub.fetch });
    accept();
    const hour = live.showRange(3_600_000);
    const day = live.showRange(86_400_000);
    expect(hub.pending[0].signal?.aborted).toBe(true);
    await hour;
    hub.pending[1].reply(new Response(JSON.stringify(answer([NOW - 80_000_000]))));
    await day;
    expect(live.getView().range).toMatchObject({ ms: 86_400_000, status: "ready" });
    expect(live.getView().history.limits.windowMs).toBe(86_400_000);
    expect(
      live
        .getView()
        .history.points()
        .map((p) => p.t),
    ).toEqual([NOW - 80_000_000]);
  });

  it("keeps the live samples when the history fails, and says why", async () => {
    const hub = hubHistory();
    const live = client({ fetch: hub.fetch });
    accept(sample(1));
    const loaded = live.showRange(3_600_000);
    hub.pending[0].reply(new Response("", { status: 503 }));
    await loaded;
    expect(live.getView().range).toMatchObject({
      status: "failed",
      message: expect.stringContaining("HTTP 503") as unknown,
    });
    expect(live.getView().history.size).toBe(1);
  });

  it("loads the range again after a reconnect, to fill what the socket missed", async () => {
    const hub = hubHistory();
    const live = client({ fetch: hub.fetch });
    const socket = accept();
    const first = live.showRange(3_600_000, 500);
    hub.pending[0].reply(new Response(JSON.stringify(answer([NOW - 10_000]))));
    await first;
    socket.end(1006);
    vi.advanceTimersByTime(1000);
    accept();
    expect(hub.pending).toHaveLength(2);
    expect(hub.pending[1].url.searchParams.get("points")).toBe("500");
    hub.pending[1].reply(new Response(JSON.stringify(answer([NOW - 10_000, NOW - 5_000]))));
    await vi.waitFor(() => expect(live.getView().range.status).toBe("ready"));
    expect(live.getView().history.size).toBe(2);
  });

  it("cancels a load under way on close", async () => {
    const hub = hubHistory();
    const live = client({ fetch: hub.fetch });
    const loaded = live.showRange(3_600_000);
    live.close();
    expect(hub.pending[0].signal?.aborted).toBe(true);
    await loaded;
    expect(live.getView().range.status).toBe("loading");
    await live.showRange(86_400_000);
    expect(hub.pending).toHaveLength(1);
  });
});
