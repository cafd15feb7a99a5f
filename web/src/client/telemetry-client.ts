// One device's live connection: opens `GET /ws/dashboard/{id}` with the `telemetry.v1` and `bearer.<token>`
// subprotocols, loads the chosen range of the hub's history (again after each reconnect, to fill what the
// socket missed) and adds the live samples to it, probes liveness with text pings, reconnects with capped
// jittered backoff, and leaves no socket, timer or request behind after `close()`. The decisions are in
// `connection-state.ts`, `backoff.ts`, `history.ts`, `history-api.ts` and `command-log.ts` (commands in flight:
// `command-tracker.ts`); this file only does the I/O and the timers.

import { Backoff, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff";
import type { CommandOutcome } from "./command-log";
import { CommandTracker, type CancelOutcome, type CommandOptions } from "./command-tracker";
import { decideAfterClose, type SocketEnd } from "./connection-state";
import { DEFAULT_HISTORY, SampleHistory, sampleTime, type HistoryLimits } from "./history";
import { fetchHistory, historyPoints } from "./history-api";
import { parseHubToDashboard } from "./parse";
import {
  BEARER_SUBPROTOCOL_PREFIX,
  PING_TEXT,
  SUBPROTOCOL,
  type DashboardTelemetry,
  type HubToDashboard,
  type JsonObject,
} from "./protocol";
import { initialView, type TelemetryView } from "./telemetry-view";
import type { WebSocketConstructor, WebSocketLike } from "./websocket";

/** What the access check (e.g. `GET /api/devices`) says about the token after a refused handshake. */
export type AccessCheck = "ok" | "forbidden" | "unknown";

/** Options of {@link createTelemetryClient}. Times are in milliseconds. */
export interface TelemetryClientOptions {
  /** The hub's base URL, `http(s)://host[:port]`; the socket goes to `ws(s)://host/ws/dashboard/{deviceId}`. */
  baseUrl: string;
  deviceId: string;
  /** The dashboard token (`tdash_…`); sent only as the `bearer.` subprotocol, never in the URL. */
  token: string;
  /** The WebSocket class (default: the global one); tests pass a fake. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff (default base 1 s, cap 30 s). */
  backoff?: Partial<BackoffPolicy>;
  /** Source of jitter in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** A text ping goes out this often while open (default 20 s)… */
  pingIntervalMs?: number;
  /** …and if nothing arrives within this long after it, the socket is presumed dead (default 10 s). */
  pongTimeoutMs?: number;
  /** A socket that has not opened within this long is given up (default 10 s). */
  connectTimeoutMs?: number;
  /** The backoff resets when a socket ends after being open at least this long (default 10 s). */
  stableAfterMs?: number;
  /** A command without a result after this long fails (default 30 s). */
  commandTimeoutMs?: number;
  /** History bounds (default the last hour, at most 20,000 points); `windowMs` is the range first shown. */
  history?: Partial<HistoryLimits>;
  /** The fetch function for the history (default: the global one); tests pass a fake. */
  fetch?: typeof fetch;
  /** How many commands the view keeps (default 20). */
  maxCommands?: number;
  /** Asked after a refused handshake: `forbidden` stops the client instead of retrying forever. */
  checkAccess?: () => Promise<AccessCheck>;
}

/** A live connection to one device; see {@link createTelemetryClient}. */
export interface TelemetryClient {
  /** The current view. */
  getView(): TelemetryView;
  /** Calls `listener` after every change of the view; returns the unsubscribe function. */
  subscribe(listener: (view: TelemetryView) => void): () => void;
  /** Calls `listener` with every message from the hub, typed; returns the unsubscribe function. */
  onMessage(listener: (message: HubToDashboard) => void): () => void;
  /** Sends a command (queued at the hub with `options.ttlS`); resolves when it is settled (never rejects). */
  sendCommand(name: string, args?: JsonObject, options?: CommandOptions): Promise<CommandOutcome>;
  /** Extension: cancels the queued command `id`; resolves with the hub's answer (never rejects). */
  cancelCommand(id: string): Promise<CancelOutcome>;
  /**
   * Shows the last `ms` of the hub's history, about `points` points (e.g. the chart's width in pixels), with the
   * live samples added to it; resolves when loaded or failed (see the view's `range`). Never rejects.
   */
  showRange(ms: number, points?: number): Promise<void>;
  /** Sends a text ping now (one also goes out every `pingIntervalMs`). */
  ping(): void;
  /** Closes the socket and clears every timer; the view ends `closed`/`stopped`. Idempotent. */
  close(): void;
}

/** Opens a live connection to one device at once. */
export function createTelemetryClient(options: TelemetryClientOptions): TelemetryClient {
  return new LiveConnection(options);
}

/** The dashboard WebSocket URL for `deviceId` under `baseUrl` (http → ws, https → wss). */
export function dashboardUrl(baseUrl: string, deviceId: string): string {
  const url = new URL(`/ws/dashboard/${encodeURIComponent(deviceId)}`, baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

class LiveConnection implements TelemetryClient {
  private readonly opts: Required<Omit<TelemetryClientOptions, "checkAccess" | "backoff" | "history" | "fetch">>;
  private readonly backoff: Backoff;
  private view: TelemetryView;
  private readonly commands: CommandTracker;
  private socket: WebSocketLike | null = null;
  private connection = 0;
  private openedAt: number | null = null;
  private attempt = 0;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<(view: TelemetryView) => void>();
  private readonly messageListeners = new Set<(message: HubToDashboard) => void>();
  /** The history load under way, if any, and how many were started (a newer one makes older answers moot). */
  private rangeLoad: AbortController | null = null;
  private rangeLoads = 0;
  private rangePoints: number | undefined;
  private snapshots = 0;

  constructor(private readonly options: TelemetryClientOptions) {
    const WebSocketClass = options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor);
    this.opts = {
      baseUrl: options.baseUrl,
      deviceId: options.deviceId,
      token: options.token,
      WebSocket: WebSocketClass,
      random: options.random ?? Math.random,
      pingIntervalMs: options.pingIntervalMs ?? 20_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      stableAfterMs: options.stableAfterMs ?? 10_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 30_000,
      maxCommands: options.maxCommands ?? 20,
    };
    this.backoff = new Backoff({ ...DEFAULT_BACKOFF, ...options.backoff }, this.opts.random);
    this.commands = new CommandTracker(this.opts.maxCommands, this.opts.commandTimeoutMs, {
      send: (text) => this.sendText(text),
      connection: () => this.connection,
      changed: (commands) => this.update({ commands }),
      setTimer: (key, ms, run) => this.setTimer(key, ms, run),
      clearTimer: (key) => this.clearTimer(key),
      random: this.opts.random,
    });
    this.view = initialView(options.deviceId, new SampleHistory({ ...DEFAULT_HISTORY, ...options.history }));
    this.connect();
  }

  getView(): TelemetryView {
    return this.view;
  }

  subscribe(listener: (view: TelemetryView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onMessage(listener: (message: HubToDashboard) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  sendCommand(name: string, args: JsonObject = {}, options: CommandOptions = {}): Promise<CommandOutcome> {
    return this.commands.send(name, args, options);
  }

  cancelCommand(id: string): Promise<CancelOutcome> {
    return this.commands.cancel(id);
  }

  showRange(ms: number, points?: number): Promise<void> {
    if (this.view.connection.kind === "closed") return Promise.resolve();
    if (points !== undefined) this.rangePoints = historyPoints(points);
    const { history } = this.view;
    if (ms !== history.limits.windowMs) history.setWindow(ms);
    return this.loadRange(ms);
  }

  ping(): void {
    if (!this.sendText(PING_TEXT)) return;
    if (!this.timers.has("pong")) {
      this.setTimer("pong", this.opts.pongTimeoutMs, () => this.abandon("no answer to ping"));
    }
  }

  close(): void {
    if (this.view.connection.kind === "closed") return;
    this.stop("stopped", "closed");
  }

  /** Sends `text` if the socket is open; false if not. */
  private sendText(text: string): boolean {
    if (this.view.connection.kind !== "open" || !this.socket) return false;
    this.socket.send(text);
    return true;
  }

  /** Loads the last `ms` up to now; an answer that a newer load or `close()` overtook is dropped. */
  private async loadRange(ms: number): Promise<void> {
    this.rangeLoad?.abort();
    const abort = new AbortController();
    const load = ++this.rangeLoads;
    this.rangeLoad = abort;
    const { history } = this.view;
    this.update({
      range: { ...this.view.range, ms, status: "loading", message: null },
      historyVersion: history.version,
    });
    const to = Date.now();
    const result = await fetchHistory(
      {
        baseUrl: this.opts.baseUrl,
        token: this.opts.token,
        deviceId: this.opts.deviceId,
        fetch: this.options.fetch,
        signal: abort.signal,
      },
      { from: to - ms, to, points: this.rangePoints },
    );
    if (load !== this.rangeLoads || abort.signal.aborted) return;
    this.rangeLoad = null;
    if (!result.ok) {
      this.update({ range: { ...this.view.range, status: "failed", message: result.message } });
      return;
    }
    history.load(result.answers);
    this.update({
      range: {
        ms,
        status: "ready",
        to,
        bucketMs: Math.max(0, ...result.answers.map((a) => a.bucket_ms)),
        truncated: result.answers[result.answers.length - 1]?.truncated ?? false,
        message: null,
      },
      historyVersion: history.version,
    });
  }

  private connect(): void {
    this.attempt += 1;
    this.connection += 1;
    this.openedAt = null;
    this.update({ connection: { kind: "connecting", attempt: this.attempt } });
    const url = dashboardUrl(this.opts.baseUrl, this.opts.deviceId);
    let socket: WebSocketLike;
    try {
      socket = new this.opts.WebSocket(url, [SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX + this.opts.token]);
    } catch {
      // A token with characters a subprotocol cannot carry: the browser throws SyntaxError.
      this.stop("forbidden", "This token cannot be sent to the hub (it has characters a token never has).");
      return;
    }
    this.socket = socket;
    socket.onopen = () => socket === this.socket && this.opened();
    socket.onmessage = (event) => socket === this.socket && this.received(event.data);
    socket.onclose = (event) =>
      socket === this.socket && this.ended({ code: event.code, reason: event.reason, opened: this.openedAt !== null });
    socket.onerror = () => undefined; // Always followed by close.
    this.setTimer("connect", this.opts.connectTimeoutMs, () => this.abandon("the hub did not answer in time"));
  }

  private opened(): void {
    this.clearTimer("connect");
    this.openedAt = Date.now();
    this.attempt = 0;
    this.update({ connection: { kind: "open", since: this.openedAt } });
    this.schedulePing();
  }

  private schedulePing(): void {
    this.setTimer("ping", this.opts.pingIntervalMs, () => {
      this.ping();
      this.schedulePing();
    });
  }

  private received(data: unknown): void {
    this.clearTimer("pong"); // Anything at all shows the socket is alive.
    if (typeof data !== "string") return;
    const parsed = parseHubToDashboard(data);
    if (!parsed.ok) {
      this.update({
        lastError: { code: "unparsed", message: `a message from the hub did not parse: ${parsed.error}` },
      });
      return;
    }
    this.apply(parsed.message);
    for (const listener of [...this.messageListeners]) listener(parsed.message);
  }

  private apply(message: HubToDashboard): void {
    switch (message.type) {
      case "snapshot":
        if (message.device_id !== this.opts.deviceId) return;
        this.update({ online: message.online, ...(message.last ? this.withSample(message.last) : {}) });
        this.commands.snapshot(message.commands ?? []);
        // After a reconnect, what was sent while the socket was down is only in the hub's history.
        this.snapshots += 1;
        if (this.snapshots > 1 && this.view.range.status !== "idle") void this.loadRange(this.view.range.ms);
        return;
      case "telemetry":
        if (message.device_id !== this.opts.deviceId) return;
        this.update(this.withSample(message));
        return;
      case "presence":
        if (message.device_id !== this.opts.deviceId) return;
        this.update({ online: message.online, presence: { at: message.at, reason: message.reason } });
        return;
      case "command_result":
        this.commands.result(message);
        return;
      case "command_status":
        if (message.device_id === this.opts.deviceId) this.commands.status(message);
        return;
      case "error":
        if (!this.commands.refused(message))
          this.update({ lastError: { code: message.code, message: message.message } });
        return;
      case "pong":
        return;
    }
  }

  /** Adds a sample to the history; the view's `last` follows the newest sample by time. */
  private withSample(sample: DashboardTelemetry): Partial<TelemetryView> {
    const { history, last } = this.view;
    const added = history.add(sample);
    const newest = last && sampleTime(last) >= sampleTime(sample) ? last : sample;
    if (!added && newest === last) return {};
    return { last: newest, historyVersion: history.version };
  }

  /** Gives up on the current socket without waiting for its close handshake (it may be dead). */
  private abandon(why: string): void {
    const socket = this.socket;
    if (!socket) return;
    const opened = this.openedAt !== null;
    this.detach(socket);
    this.ended({ code: 1006, reason: why, opened });
  }

  private ended(end: SocketEnd): void {
    const openFor = this.openedAt === null ? 0 : Date.now() - this.openedAt;
    if (this.socket) this.detach(this.socket);
    this.commands.connectionEnded("connection lost before the result arrived; the device may still have run it", true);
    const decision = decideAfterClose(end);
    if (decision.action === "stop") {
      this.stop(decision.reason, decision.message);
      return;
    }
    if (openFor >= this.opts.stableAfterMs) this.backoff.reset();
    const delayMs = this.backoff.next();
    const retryAt = Date.now() + delayMs;
    this.update({
      connection: {
        kind: "reconnecting",
        retryAt,
        delayMs,
        why: end.opened ? decision.why : end.reason || decision.why,
      },
    });
    this.setTimer("retry", delayMs, () => this.connect());
    if (decision.checkAccess && this.options.checkAccess) this.checkAccess(this.options.checkAccess);
  }

  private checkAccess(check: () => Promise<AccessCheck>): void {
    const connection = this.connection;
    check().then(
      (verdict) => {
        const stillWaiting = connection === this.connection && this.view.connection.kind === "reconnecting";
        if (verdict === "forbidden" && stillWaiting) {
          this.stop("forbidden", "The hub refused this token for this device (wrong, revoked or out of scope).");
        }
      },
      () => undefined,
    );
  }

  private stop(reason: "stopped" | "revoked" | "forbidden", message: string): void {
    if (this.socket) this.detach(this.socket);
    this.rangeLoad?.abort();
    this.rangeLoad = null;
    for (const key of [...this.timers.keys()]) this.clearTimer(key);
    this.commands.connectionEnded(reason === "stopped" ? "closed before the result arrived" : message, false);
    this.update({ connection: { kind: "closed", reason, message } });
  }

  /** Stops listening to `socket`, closes it, and clears the timers that belong to a socket. */
  private detach(socket: WebSocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(1000);
    } catch {
      // Already closed.
    }
    if (socket === this.socket) this.socket = null;
    for (const key of ["connect", "ping", "pong"]) this.clearTimer(key);
  }

  private update(change: Partial<TelemetryView>): void {
    this.view = { ...this.view, ...change };
    for (const listener of [...this.listeners]) listener(this.view);
  }

  private setTimer(key: string, ms: number, run: () => void): void {
    this.clearTimer(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        run();
      }, ms),
    );
  }

  private clearTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(key);
  }
}
