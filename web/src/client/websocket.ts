// The part of the browser's WebSocket the client uses, so tests can inject a fake class.

/** The events the client reads. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** A close event: the code and the reason text. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** A WebSocket as the client uses it (the DOM's `WebSocket` fits). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: MessageEventLike) => void) | null;
  onclose: ((event: CloseEventLike) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;
