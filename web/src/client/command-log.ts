// The commands a dashboard sent and their outcomes: pending until a `command_result` with the same id, an
// `error` frame, a timeout or a lost connection settles them. Pure bookkeeping; the client does the I/O.

import type { CommandResult, ErrorFrame, JsonObject, JsonValue } from "./protocol";

/** One command and what became of it. */
export interface CommandRecord {
  readonly id: string;
  readonly name: string;
  readonly args: JsonObject;
  /** When it was sent, ms since the Unix epoch. */
  readonly sentAt: number;
  /** `pending` until settled; `ok` or `failed` after. */
  readonly status: "pending" | "ok" | "failed";
  /** The device's (or the hub's) answer as text, or why it failed. */
  readonly detail: string;
  /** When it was settled, ms since the Unix epoch. */
  readonly settledAt?: number;
  /** The connection it was sent on (errors are matched to commands of the same connection). */
  readonly connection: number;
}

/** A settled command, for whoever awaits it. */
export type CommandOutcome = CommandRecord & { status: "ok" | "failed" };

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
    const records = [record, ...this.records];
    let excess = records.length - this.max;
    for (let i = records.length - 1; i >= 0 && excess > 0; i--) {
      if (records[i].status !== "pending") {
        records.splice(i, 1);
        excess -= 1;
      }
    }
    return new CommandLog(records, this.max);
  }

  /** The pending record with `id`, if any. */
  pending(id: string): CommandRecord | undefined {
    return this.records.find((r) => r.id === id && r.status === "pending");
  }

  /** The oldest pending command sent on `connection`: the one an `error` frame most likely answers. */
  oldestPendingOn(connection: number): CommandRecord | undefined {
    return [...this.records].reverse().find((r) => r.status === "pending" && r.connection === connection);
  }

  /** Settles the pending command `id`; returns the new log and the settled record (undefined if none). */
  settle(id: string, ok: boolean, detail: string, at: number): [CommandLog, CommandOutcome | undefined] {
    let settled: CommandOutcome | undefined;
    const records = this.records.map((r) => {
      if (r.id !== id || r.status !== "pending") return r;
      settled = { ...r, status: ok ? "ok" : "failed", detail, settledAt: at };
      return settled;
    });
    return [settled ? new CommandLog(records, this.max) : this, settled];
  }

  /** Ids of every pending command. */
  pendingIds(): string[] {
    return this.records.filter((r) => r.status === "pending").map((r) => r.id);
  }
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

/** What an `error` frame means for the command it refused. */
export function refusalOf(error: ErrorFrame): string {
  if (error.code === "read_only") return "refused: this token has read access only";
  return `refused by the hub (${error.code}): ${error.message}`;
}
