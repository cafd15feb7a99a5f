// The dashboard socket's state, and the pure rule that decides what follows a close: retry, or stop for good.

import { CloseCode } from "./protocol";

/** Why the client stopped for good. */
export type StopReason =
  /** `close()` was called (the view unmounted). */
  | "stopped"
  /** The hub closed with 4001: the token was revoked or disabled. */
  | "revoked"
  /** The hub refused the handshake and the access check says the token cannot watch this device. */
  | "forbidden";

/** The socket's own state, for display and for tests. */
export type ConnectionState =
  /** Opening a socket; `attempt` counts from 1 since the last open socket. */
  | { kind: "connecting"; attempt: number }
  /** Open since `since` (ms since the Unix epoch). */
  | { kind: "open"; since: number }
  /** Waiting `delayMs` before the next attempt, due at `retryAt`; `why` says what went wrong. */
  | { kind: "reconnecting"; retryAt: number; delayMs: number; why: string }
  /** Stopped for good; no socket and no timer is left. */
  | { kind: "closed"; reason: StopReason; message: string };

/** How a socket ended, as the client saw it. */
export interface SocketEnd {
  /** The close code (1006 when the socket failed or was presumed dead). */
  code: number;
  /** The close reason text, if any. */
  reason: string;
  /** Whether the socket had opened (false: the handshake failed or timed out). */
  opened: boolean;
}

/** What to do after a socket ended. */
export type CloseDecision =
  | { action: "stop"; reason: StopReason; message: string }
  /** Reconnect after a backoff; `checkAccess` asks whether the token still works first (handshake refused). */
  | { action: "retry"; why: string; checkAccess: boolean };

/** Decides what follows the end of a socket. Pure. */
export function decideAfterClose(end: SocketEnd): CloseDecision {
  if (end.code === CloseCode.Revoked) {
    return { action: "stop", reason: "revoked", message: "The hub closed the connection: this token was revoked." };
  }
  if (!end.opened) {
    // Browsers report a refused handshake (401, 403, 429, 500) exactly like an unreachable hub: close 1006.
    return { action: "retry", why: "could not connect", checkAccess: true };
  }
  if (end.code === CloseCode.PolicyViolation) {
    // Past a flood limit: too many dashboards on this device, or this socket sent too much. The backoff keeps
    // the retries polite, and the reason says which limit.
    return { action: "retry", why: `the hub closed the connection (${end.reason || "a limit"})`, checkAccess: false };
  }
  if (end.code === CloseCode.MessageTooBig) {
    return { action: "retry", why: "the hub refused a message that was too big", checkAccess: false };
  }
  if (end.code === CloseCode.Normal) {
    return { action: "retry", why: "the hub closed the connection", checkAccess: false };
  }
  return {
    action: "retry",
    why: end.reason ? `connection lost (${end.reason})` : "connection lost",
    checkAccess: false,
  };
}

/** A short text for the state: "connecting", "open", "reconnecting in 4 s", "closed". `now`: ms since the epoch. */
export function describeConnection(state: ConnectionState, now: number): string {
  switch (state.kind) {
    case "connecting":
      return state.attempt > 1 ? `connecting (attempt ${state.attempt})` : "connecting";
    case "open":
      return "open";
    case "reconnecting":
      return `reconnecting in ${Math.max(0, Math.ceil((state.retryAt - now) / 1000))} s`;
    case "closed":
      return "closed";
  }
}
