// The commands a dashboard sent (and, with queued commands, those the hub reports for the device) and their
// outcomes: pending until a `command_result` with the same id, an `error` frame, a timeout or a lost connection
// settles them. A command sent with `ttl_s` also follows its state in the hub's queue (`command_status`, seeded
// from `snapshot.commands`) and outlives a lost connection, since the hub holds it. Pure bookkeeping; the client
// does the I/O.

import type { CommandResult, CommandState, CommandStatusEntry, ErrorFrame, JsonObject, JsonValue } from "./protocol";

/** Where a queued command stands at the hub (extension). */
export interface QueuedAt {
  readonly state: CommandState;
  /** When the hub stored it, RFC 3339. */
  readonly queuedAt: string;
  /** When its time to live ends, RFC 3339. */
  readonly expiresAt: string;
}

/** One command and what became of it. */
export interface CommandRecord {
  readonly id: string;
  readonly name: string;
  /** What it was sent with; `{}` for a command another dashboard sent (the hub does not repeat the args). */
  readonly args: JsonObject;
  /** When it was sent (or queued, for another dashboard's), ms since the Unix epoch. */
  readonly sentAt: number;
  /**
   * `pending` until settled; `ok` or `failed` after; `unknown` when it finished without its result reaching this
   * page (answered while the page was not connected).
   */
  readonly status: "pending" | "ok" | "failed" | "unknown";
  /** The device's (or the hub's) answer as text, or why it failed. */
  readonly detail: string;
  /** When it was settled, ms since the Unix epoch. */
  readonly settledAt?: number;
  /** The connection it was sent on (errors are matched to commands of the same connection); 0 if not sent here. */
  readonly connection: number;
  /** How long it may wait for the device, in seconds, when sent with `ttl_s`. */
  readonly ttlS?: number;
  /** Its state in the hub's queue, once the hub reported it. */
  readonly queue?: QueuedAt;
  /** A `cancel_command` for it is on its way. */
  readonly cancelling?: boolean;
}

/** A settled command, for whoever awaits it. */
export type CommandOutcome = CommandRecord & { status: "ok" | "failed" | "unknown" };

/** The last `max` commands (and every pending one), newest first. Immutable: every change returns a new log. */
export class CommandLog {
  private constructor(
    readonly records: readonly CommandRecord[],
    private readonly max: number,
  ) {}

  /** An empty log keeping at most `max` commands. */
  static empty(max = 20): CommandLog {
    return new CommandLog([], Math.max(1, max));
  }

  /** The log with `record` added in front; beyond the limit the oldest settled records go (pending ones stay). */
  add(record: CommandRecord): CommandLog {
    return this.with([record, ...this.records]);
  }

  /** The record with `id`, if any. */
  get(id: string): CommandRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  /** The pending record with `id`, if any. */
  pending(id: string): CommandRecord | undefined {
    return this.records.find((r) => r.id === id && r.status === "pending");
  }

  /**
   * The oldest pending command sent on `connection` that the hub has not taken into its queue: the one an
   * `error` frame most likely answers.
   */
  oldestPendingOn(connection: number): CommandRecord | undefined {
    return [...this.records]
      .reverse()
      .find((r) => r.status === "pending" && r.connection === connection && r.queue === undefined);
  }

  /** Settles the pending command `id`; returns the new log and the settled record (undefined if none). */
  settle(id: string, ok: boolean | "unknown", detail: string, at: number): [CommandLog, CommandOutcome | undefined] {
    let settled: CommandOutcome | undefined;
    const status = ok === "unknown" ? "unknown" : ok ? "ok" : "failed";
    const records = this.records.map((r) => {
      if (r.id !== id || r.status !== "pending") return r;
      settled = { ...r, status, detail, settledAt: at };
      return settled;
    });
    return [settled ? new CommandLog(records, this.max) : this, settled];
  }

  /**
   * Follows a `command_status`: the command's new state (a command this page did not send is added). `expired`
   * and `cancelled` settle it as failed; `done` waits for the `command_result` the hub relays with it.
   */
  applyStatus(status: CommandStatusEntry, at: number): [CommandLog, CommandOutcome | undefined] {
    const queue: QueuedAt = { state: status.state, queuedAt: status.queued_at, expiresAt: status.expires_at };
    const known = this.get(status.id);
    const cancelling = known?.cancelling && status.state === "queued";
    const updated: CommandRecord = known
      ? { ...known, queue, cancelling: cancelling || undefined }
      : { ...fromHub(status), queue };
    const log = known ? this.replace(updated) : this.add(updated);
    if (status.state === "expired" || status.state === "cancelled") {
      return log.settle(status.id, false, status.state, at);
    }
    return [log, undefined];
  }

  /**
   * Follows a snapshot's `commands` (the hub's queue and its recent finished commands) on `connection`: every
   * listed command's state, and for the queued commands of this log sent before, what became of them while the
   * page was not connected (done without its result seen here, or no longer listed). Returns the new log and the
   * commands it settled.
   */
  seed(statuses: readonly CommandStatusEntry[], at: number, connection: number): [CommandLog, CommandOutcome[]] {
    if (statuses.length === 0 && !this.records.some((r) => r.status === "pending" && isHeld(r))) return [this, []];
    const settled: CommandOutcome[] = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the log each step returns replaces it
    let log: CommandLog = this;
    const keep = (step: [CommandLog, CommandOutcome | undefined]) => {
      log = step[0];
      if (step[1]) settled.push(step[1]);
    };
    for (const status of statuses) {
      keep(log.applyStatus(status, at));
      if (status.state === "done")
        keep(log.settle(status.id, "unknown", "answered while this page was not connected", at));
    }
    const listed = new Set(statuses.map((s) => s.id));
    for (const r of log.records) {
      if (r.status === "pending" && isHeld(r) && r.connection !== connection && !listed.has(r.id)) {
        keep(log.settle(r.id, "unknown", "not in the hub's list after the reconnect", at));
      }
    }
    return [log.with([...log.records].sort((a, b) => b.sentAt - a.sentAt)), settled];
  }

  /** The log with the cancel of `id` marked on its way (`true`) or answered (`false`). */
  markCancelling(id: string, cancelling: boolean): CommandLog {
    const known = this.get(id);
    if (!known || Boolean(known.cancelling) === cancelling) return this;
    return this.replace({ ...known, cancelling: cancelling || undefined });
  }

  /** Ids of every pending command. */
  pendingIds(): string[] {
    return this.records.filter((r) => r.status === "pending").map((r) => r.id);
  }

  private replace(record: CommandRecord): CommandLog {
    return new CommandLog(
      this.records.map((r) => (r.id === record.id ? record : r)),
      this.max,
    );
  }

  /** A log of `records`, beyond the limit without the oldest settled ones. */
  private with(records: CommandRecord[]): CommandLog {
    let excess = records.length - this.max;
    for (let i = records.length - 1; i >= 0 && excess > 0; i--) {
      if (records[i].status !== "pending") {
        records.splice(i, 1);
        excess -= 1;
      }
    }
    return new CommandLog(records, this.max);
  }
}

/** Whether the hub holds `record` (or may: sent with `ttl_s`), so it outlives the connection it was sent on. */
export function isHeld(record: CommandRecord): boolean {
  return record.queue !== undefined || record.ttlS !== undefined;
}

/** A record for a queued command another dashboard (or this page before a reload) sent. */
function fromHub(status: CommandStatusEntry): CommandRecord {
  const queuedAt = Date.parse(status.queued_at);
  return {
    id: status.id,
    name: status.name,
    args: {},
    sentAt: Number.isNaN(queuedAt) ? 0 : queuedAt,
    status: "pending",
    detail: status.state,
    connection: 0,
  };
}

/** The text of a result's `detail` (any JSON value): strings as they are, `null` as "", the rest as JSON. */
export function detailText(detail: JsonValue): string {
  if (detail === null) return "";
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

/** What a `command_result` means for its command: ok and its detail text. */
export function outcomeOf(result: CommandResult): { ok: boolean; detail: string } {
  return { ok: result.ok, detail: detailText(result.detail) || (result.ok ? "done" : "failed") };
}

/** What an `error` frame means for the command (or the cancel) it refused. */
export function refusalOf(error: ErrorFrame): string {
  if (error.code === "read_only") return "refused: this token has read access only";
  if (error.code === "not_queued") return "not cancelled: it was no longer queued";
  return `refused by the hub (${error.code}): ${error.message}`;
}
