// The list of recent commands: each with its state in words (queued, sent, done, expired, cancelled for a command
// the hub queued; waiting, ok or failed for one sent at once), its result, and a Cancel button while queued.

import type { CancelOutcome, CommandRecord, CommandState, JsonObject } from "../client";
import { clockTime } from "./format";

interface Props {
  commands: readonly CommandRecord[];
  /** Whether the socket is open (a cancel needs it). */
  connected: boolean;
  cancel: (id: string) => Promise<CancelOutcome>;
}

/** What each state of a queued command is called on the page. */
const STATE_LABEL: Record<CommandState, string> = {
  queued: "Queued",
  sent: "Sent",
  done: "Done",
  expired: "Expired",
  cancelled: "Cancelled",
};

/** The recent commands, newest first. */
export function CommandResults({ commands, connected, cancel }: Props) {
  return (
    <>
      <h4 class="visually-hidden">Results</h4>
      <ol class="results" aria-live="polite" aria-label="Command results" data-testid="command-results">
        {commands.map((c) => {
          const state = c.queue?.state;
          const what = `${c.name} ${argsText(c.args)}`.trim();
          return (
            <li
              key={c.id}
              class={`result ${c.status}${state ? ` state-${state}` : ""}`}
              data-status={c.status}
              data-state={state}
              data-command={c.name}
              data-id={c.id}
            >
              <span class="result-mark" aria-hidden="true">
                {markOf(c)}
              </span>
              <span class="result-what">
                <code>{c.name}</code> {argsText(c.args)}
              </span>
              <span class="result-detail">
                {state ? (
                  <span class="state-label">{STATE_LABEL[state]}</span>
                ) : (
                  <span class="visually-hidden">{c.status === "pending" ? "waiting" : c.status}: </span>
                )}{" "}
                {detailOf(c)}
              </span>
              <time class="muted small" dateTime={new Date(c.settledAt ?? c.sentAt).toISOString()}>
                {clockTime(c.settledAt ?? c.sentAt)}
              </time>
              {state === "queued" && c.status === "pending" && (
                <button
                  type="button"
                  class="secondary cancel"
                  aria-label={`Cancel ${what}`}
                  disabled={!connected || c.cancelling === true}
                  onClick={() => void cancel(c.id)}
                >
                  {c.cancelling ? "Cancelling…" : "Cancel"}
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}

/** The line after the state: the result once settled, else what the command waits for. */
function detailOf(c: CommandRecord): string {
  if (c.status !== "pending") return c.detail === c.queue?.state ? "" : c.detail; // the label says it already
  switch (c.queue?.state) {
    case "queued": {
      const until = Date.parse(c.queue.expiresAt);
      return Number.isNaN(until) ? "waiting for the device" : `waiting for the device until ${clockTime(until)}`;
    }
    case "sent":
      return "sent to the device, waiting for its answer…";
    case undefined:
      return c.ttlS === undefined ? "waiting for the device…" : "waiting for the hub…";
    default:
      return "waiting for the result…";
  }
}

function markOf(c: CommandRecord): string {
  if (c.status === "ok") return "✓";
  if (c.status === "failed") return "✕";
  if (c.status === "unknown") return "?";
  return c.queue?.state === "queued" ? "◷" : "…";
}

function argsText(args: JsonObject): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
}
