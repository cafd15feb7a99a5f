// Commands for control-scoped tokens: the edge agent's allowlist (set_interval, gpio_write, ping), sent at once or
// queued at the hub for an offline device (a time to live), each with its state and result as they arrive.

import { useState } from "preact/hooks";

import type { CancelOutcome, CommandOptions, CommandOutcome, CommandRecord, JsonObject } from "../client";
import { CommandResults } from "./command-results";

/** How long a command may wait for an offline device: the choices offered, in seconds ("" = not at all). */
const TTL_CHOICES: readonly { seconds: string; label: string }[] = [
  { seconds: "", label: "fail at once" },
  { seconds: "600", label: "wait up to 10 min" },
  { seconds: "3600", label: "wait up to 1 h" },
  { seconds: "86400", label: "wait up to 24 h" },
];

interface Props {
  deviceId: string;
  commands: readonly CommandRecord[];
  /** Whether the socket is open (commands need it). */
  connected: boolean;
  /** Whether the device is online (the hub answers "device offline" otherwise). */
  online: boolean;
  send: (name: string, args?: JsonObject, options?: CommandOptions) => Promise<CommandOutcome>;
  /** Cancels a queued command. */
  cancel: (id: string) => Promise<CancelOutcome>;
}

/** The command forms, the time-to-live choice and the list of recent commands. */
export function Commands({ deviceId, commands, connected, online, send, cancel }: Props) {
  const [seconds, setSeconds] = useState("5");
  const [pin, setPin] = useState("17");
  const [level, setLevel] = useState("1");
  const [ttl, setTtl] = useState("");
  const id = (name: string) => `${name}-${deviceId}`;
  const submit = (name: string, args: JsonObject) => (event: Event) => {
    event.preventDefault();
    void send(name, args, ttl === "" ? {} : { ttlS: Number(ttl) });
  };

  return (
    <section class="card commands-card" aria-labelledby={id("commands")}>
      <div class="card-head">
        <h3 id={id("commands")}>Commands</h3>
        {!connected && <span class="muted small">need a live connection</span>}
        {connected && !online && <span class="muted small">the device is offline</span>}
      </div>
      <div class="command-ttl">
        <label for={id("ttl")}>If the device is offline</label>
        <select
          id={id("ttl")}
          value={ttl}
          aria-describedby={id("ttl-hint")}
          onChange={(e) => setTtl((e.target as HTMLSelectElement).value)}
        >
          {TTL_CHOICES.map((choice) => (
            <option key={choice.seconds} value={choice.seconds}>
              {choice.label}
            </option>
          ))}
        </select>
        <span id={id("ttl-hint")} class="muted small">
          {ttl === ""
            ? "A command to an offline device fails."
            : "The hub keeps the command and sends it when the device connects; it can be cancelled until then."}
        </span>
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
      <CommandResults commands={commands} connected={connected} cancel={cancel} />
    </section>
  );
}
