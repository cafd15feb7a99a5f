// `useTelemetry(deviceId, options)`: the Preact hook over `createTelemetryClient`. Connects on mount and when the
// device, token or hub changes; closes on unmount, leaving no socket or timer behind.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { CommandOutcome } from "./command-log";
import type { CancelOutcome, CommandOptions } from "./command-tracker";
import { SampleHistory } from "./history";
import type { JsonObject } from "./protocol";
import { createTelemetryClient, type TelemetryClient, type TelemetryClientOptions } from "./telemetry-client";
import { initialView, type TelemetryView } from "./telemetry-view";

/** Options of {@link useTelemetry}: those of the client, less the device id. */
export type UseTelemetryOptions = Omit<TelemetryClientOptions, "deviceId">;

/** The live view of one device, plus what a component can do with it. */
export interface UseTelemetry extends TelemetryView {
  /** Sends a command; resolves when it is settled (never rejects). A plain function: safe to pass on. */
  sendCommand: (name: string, args?: JsonObject, options?: CommandOptions) => Promise<CommandOutcome>;
  /** Cancels a queued command; resolves with the hub's answer (never rejects). */
  cancelCommand: (id: string) => Promise<CancelOutcome>;
  /** Shows the last `ms` of the hub's history with about `points` points (see the client's `showRange`). */
  showRange: (ms: number, points?: number) => Promise<void>;
}

/** Watches `deviceId` live. Only `deviceId`, `options.token` and `options.baseUrl` reconnect when changed. */
export function useTelemetry(deviceId: string, options: UseTelemetryOptions): UseTelemetry {
  const latestOptions = useRef(options);
  latestOptions.current = options;
  const client = useRef<TelemetryClient | null>(null);
  const placeholder = useMemo(() => initialView(deviceId, new SampleHistory()), [deviceId]);
  const [view, setView] = useState<TelemetryView>(placeholder);

  useEffect(() => {
    const live = createTelemetryClient({ ...latestOptions.current, deviceId });
    client.current = live;
    setView(live.getView());
    const unsubscribe = live.subscribe(setView);
    return () => {
      unsubscribe();
      live.close();
      if (client.current === live) client.current = null;
    };
  }, [deviceId, options.token, options.baseUrl]);

  const current = view.deviceId === deviceId ? view : placeholder;
  return useMemo(
    () => ({
      ...current,
      sendCommand: (name: string, args?: JsonObject, options?: CommandOptions) =>
        client.current
          ? client.current.sendCommand(name, args, options)
          : Promise.resolve(notConnected(name, args ?? {})),
      cancelCommand: (id: string) =>
        client.current?.cancelCommand(id) ?? Promise.resolve({ ok: false, detail: "not connected" }),
      showRange: (ms: number, points?: number) => client.current?.showRange(ms, points) ?? Promise.resolve(),
    }),
    [current],
  );
}

function notConnected(name: string, args: JsonObject): CommandOutcome {
  const now = Date.now();
  return { id: "", name, args, sentAt: now, settledAt: now, status: "failed", detail: "not connected", connection: 0 };
}
