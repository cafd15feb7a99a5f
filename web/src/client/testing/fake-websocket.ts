// A scripted stand-in for the browser's WebSocket: records what the client sends and lets a test play the hub.

import type { CloseEventLike, MessageEventLike, WebSocketLike } from "../websocket";

/** Every socket the client opened, oldest first, and helpers to play the hub's side. */
export class FakeWebSocket implements WebSocketLike {
  static readonly instances: FakeWebSocket[] = [];

  /** The newest socket. */
  static last(): FakeWebSocket {
    const socket = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  /** Forgets every socket (call in beforeEach). */
  static reset(): void {
    FakeWebSocket.instances.length = 0;
  }

  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: MessageEventLike) => void) | null = null;
  onclose: ((event: CloseEventLike) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(data);
  }

  close(code = 1000): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.closedByClient = code;
  }

  /** The hub accepted the handshake. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The hub sends `message` (an object is sent as JSON). */
  receive(message: object | string): void {
    this.onmessage?.({ data: typeof message === "string" ? message : JSON.stringify(message) });
  }

  /** The socket ends from the hub's side (or the network's: 1006). */
  end(code: number, reason = ""): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason });
  }

  /** The messages the client sent, parsed. */
  sentJson(): unknown[] {
    return this.sent.map((text): unknown => JSON.parse(text));
  }

  /** Whether the client still listens to this socket. */
  get attached(): boolean {
    return this.onmessage !== null || this.onclose !== null;
  }
}
