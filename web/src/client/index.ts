// The dashboard client library: typed wire messages, a live connection per device, and the Preact hook.
//
//   const client = createTelemetryClient({ baseUrl: location.origin, deviceId: "ems_001", token });
//   const off = client.subscribe((view) => render(view.connection, view.last, view.history));
//   await client.sendCommand("set_interval", { seconds: 5 });
//   await client.sendCommand("relay", { on: true }, { ttlS: 3600 }); // waits up to 1 h for an offline device
//   client.close();

export * from "./api";
export * from "./backoff";
export * from "./command-log";
export * from "./command-tracker";
export * from "./connection-state";
export * from "./fields";
export * from "./history";
export * from "./history-api";
export * from "./parse";
export * from "./protocol";
export * from "./telemetry-client";
export * from "./telemetry-view";
export * from "./use-telemetry";
export type * from "./websocket";
