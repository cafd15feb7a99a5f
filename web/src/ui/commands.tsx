// Commands for control-scoped tokens: the edge agent's allowlist (set_interval, gpio_write, ping), each with its
// result or failure as it arrives.

import { useState } from "preact/hooks";

import type { CommandOutcome, CommandRecord, JsonObject } from "../client";
import { clockTime } from "./format";

interface Props {
  deviceId: string;
  commands: readonly CommandRecord[];
  /** Whether the socket is open (commands need it). */
  connected: boolean;
  /** Whether the device is online (the hub answers "device offline" otherwise). */
  online: boolean;
  send: (name: string, args?: JsonObject) => Promise<CommandOutcome>;
}

/** The command forms and the list of recent results. */
export function Commands({ deviceId, commands, connected, online, send }: Props) {
  const [seconds, setSeconds] = useState("5");
  const [pin, setPin] = useState("17");
  const [level, setLevel] = useState("1");
  const id = (name: string) => `${name}-${deviceId}`;
  const submit = (name: string, args: JsonObject) => (event: Event) => {
    event.preventDefault();
    void send(name, args);
  };

  return (
    <section class="card commands-card" aria-labelledby={id("commands")}>
      <div class="card-head">
        <h3 id={id("commands")}>Commands</h3>
        {!connected && <span class="muted small">need a live connection</span>}
        {connected && !online && <span class="muted small">the device is offline</span>}
      </div>
      <div class="command-forms">
        <form class="command" onSubmit={submit("set_interval", { seconds: Number(seconds) })}>
          <label for={id("seconds")}>Sample interval (s)</label>
          <div class="row">
            <input
              id={id("seconds")}
              type="number"
              inputMode="numeric"
              min={1}
              max={3600}
              step={1}
              required
              value={seconds}
              onInput={(e) => setSeconds((e.target as HTMLInputElement).value)}
            />
            <button type="submit" disabled={!connected}>
              Set interval
            </button>
          </div>
        </form>
        <form class="command" onSubmit={submit("gpio_write", { pin: Number(pin), level: Number(level) })}>
          <fieldset>
            <legend>Output</legend>
            <div class="row">
              <label class="inline">
                Pin
                <input
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={27}
                  step={1}
                  required
                  value={pin}
                  onInput={(e) => setPin((e.target as HTMLInputElement).value)}
                />
              </label>
              <label class="inline">
                Level
                <select value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
                  <option value="1">on (high)</option>
                  <option value="0">off (low)</option>
                </select>
              </label>
              <button type="submit" disabled={!connected}>
                Switch
              </button>
            </div>
          </fieldset>
        </form>
        <form class="command" onSubmit={submit("ping", {})}>
          <span class="label">Round trip</span>
          <div class="row">
            <button type="submit" class="secondary" disabled={!connected}>
              Ping device
            </button>
          </div>
        </form>
      </div>
      <h4 class="visually-hidden">Results</h4>
      <ol class="results" aria-live="polite" aria-label="Command results" data-testid="command-results">
        {commands.map((c) => (
          <li key={c.id} class={`result ${c.status}`} data-status={c.status} data-command={c.name}>
            <span class="result-mark" aria-hidden="true">
              {c.status === "ok" ? "✓" : c.status === "failed" ? "✕" : "…"}
            </span>
            <span class="result-what">
              <code>{c.name}</code> {argsText(c.args)}
            </span>
            <span class="result-detail">
              <span class="visually-hidden">{c.status === "pending" ? "waiting" : c.status}: </span>
              {c.status === "pending" ? "waiting for the device…" : c.detail}
            </span>
            <time class="muted small" dateTime={new Date(c.settledAt ?? c.sentAt).toISOString()}>
              {clockTime(c.settledAt ?? c.sentAt)}
            </time>
          </li>
        ))}
      </ol>
    </section>
  );
}

function argsText(args: JsonObject): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
}
