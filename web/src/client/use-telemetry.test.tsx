// @vitest-environment happy-dom
// The hook in a real (happy-dom) Preact tree: connects on mount, reconnects on a new device, closes on unmount.

import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { FakeWebSocket } from "./testing/fake-websocket";
import { useTelemetry, type UseTelemetry } from "./use-telemetry";

let latest: UseTelemetry | null = null;

function Probe({ deviceId }: { deviceId: string }) {
  latest = useTelemetry(deviceId, { baseUrl: "http://hub.test", token: "tdash_x", WebSocket: FakeWebSocket });
  return <p>{latest.connection.kind}</p>;
}

let root: HTMLElement;

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers();
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(async () => {
  await act(() => render(null, root));
  root.remove();
  vi.useRealTimers();
});

describe("useTelemetry", () => {
  it("connects on mount and renders what arrives", async () => {
    await act(() => render(<Probe deviceId="a" />, root));
    expect(FakeWebSocket.instances).toHaveLength(1);
    await act(() => {
      FakeWebSocket.last().open();
      FakeWebSocket.last().receive({ type: "snapshot", device_id: "a", online: true, last: null });
    });
    expect(root.textContent).toBe("open");
    expect(latest?.online).toBe(true);
  });

  it("closes on unmount, leaving no socket and no timer", async () => {
    await act(() => render(<Probe deviceId="a" />, root));
    await act(() => FakeWebSocket.last().open());
    await act(() => render(null, root));
    expect(FakeWebSocket.last().closedByClient).toBe(1000);
    expect(FakeWebSocket.last().attached).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(600_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("closes the old socket and opens a new one when the device changes", async () => {
    await act(() => render(<Probe deviceId="a" />, root));
    await act(() => render(<Probe deviceId="b" />, root));
    expect(FakeWebSocket.instances.map((s) => s.url)).toEqual([
      "ws://hub.test/ws/dashboard/a",
      "ws://hub.test/ws/dashboard/b",
    ]);
    expect(FakeWebSocket.instances[0].attached).toBe(false);
    expect(latest?.deviceId).toBe("b");
  });

  it("sends commands through the live client", async () => {
    await act(() => render(<Probe deviceId="a" />, root));
    await act(() => FakeWebSocket.last().open());
    const outcome = latest!.sendCommand("ping");
    const sent = FakeWebSocket.last().sentJson()[0] as { id: string };
    await act(() => FakeWebSocket.last().receive({ type: "command_result", id: sent.id, ok: true, detail: "pong" }));
    await expect(outcome).resolves.toMatchObject({ status: "ok", detail: "pong" });
  });
});
