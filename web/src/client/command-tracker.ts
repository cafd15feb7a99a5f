// The commands of one live connection in flight: the log, who awaits each command and each cancel, their
// timeouts, and what each message of the hub means for them. It sends and sets timers only through the ports
// the client gives it; the bookkeeping is `command-log.ts`.

import { CommandLog, isHeld, outcomeOf, refusalOf, type CommandOutcome, type CommandRecord } from "./command-log";
import { isCommandTtl } from "./parse";
import {
  MAX_COMMAND_TTL_S,
  type Command,
  type CommandResult,
  type CommandStatusEntry,
  type ErrorFrame,
  type JsonObject,
} from "./protocol";

/** How to send one command. */
export interface CommandOptions {
  /**
   * Extension: wait for an offline device up to this many seconds (whole, 1 to 604800): the hub queues the
   * command, its state shows in the view's `commands`, and it outlives a lost connection.
   */
  ttlS?: number;
}

/** What became of a `cancel_command`. */
export interface CancelOutcome {
  /** Whether the hub cancelled it. */
  ok: boolean;
  /** "cancelled", or why not. */
  detail: string;
}

/** What the tracker needs from the connection. */
export interface CommandPorts {
  /** Sends `text` on the open socket; false when there is none. */
  send(text: string): boolean;
  /** The number of the current connection. */
  connection(): number;
  /** The log changed. */
  changed(records: readonly CommandRecord[]): void;
  setTimer(key: string, ms: number, run: () => void): void;
  clearTimer(key: string): void;
  /** Source of randomness in [0, 1) for the ids of new commands. */
  random(): number;
}

/** The commands of a live connection; see the module comment. */
export class CommandTracker {
  private log: CommandLog;
  private readonly waiters = new Map<string, (outcome: CommandOutcome) => void>();
  /** The cancels sent on the current connection and not answered yet, oldest first. */
  private cancels: { id: string; resolve: (outcome: CancelOutcome) => void }[] = [];
  /** Commands sent so far. */
  private sent = 0;

  constructor(
    maxCommands: number,
    private readonly timeoutMs: number,
    private readonly ports: CommandPorts,
  ) {
    this.log = CommandLog.empty(maxCommands);
  }

  /** Sends a command; resolves when it is settled. */
  send(name: string, args: JsonObject, { ttlS }: CommandOptions): Promise<CommandOutcome> {
    // Unique per page (a queued command's id must not repeat one the hub still holds).
    const count = (this.sent++).toString(36);
    const id = `c-${Date.now().toString(36)}-${count}-${Math.floor(this.ports.random() * 2 ** 32).toString(36)}`;
    const record: CommandRecord = {
      id,
      name,
      args,
      sentAt: Date.now(),
      status: "pending",
      detail: "sent",
      connection: this.ports.connection(),
      ...(ttlS === undefined ? {} : { ttlS }),
    };
    const settled = new Promise<CommandOutcome>((resolve) => this.waiters.set(id, resolve));
    this.setLog(this.log.add(record));
    const command: Command = { type: "command", id, name, args, ...(ttlS === undefined ? {} : { ttl_s: ttlS }) };
    if (ttlS !== undefined && !isCommandTtl(ttlS)) {
      this.settle(id, false, `the time to live must be whole seconds from 1 to ${MAX_COMMAND_TTL_S}`);
    } else if (!this.ports.send(JSON.stringify(command))) {
      this.settle(id, false, "not connected to the hub");
    } else {
      // A queued command may wait days: the timeout only covers the hub's first word about it.
      this.ports.setTimer(`command:${id}`, this.timeoutMs, () => this.settle(id, false, this.noAnswer()));
    }
    return settled;
  }

  /** Asks the hub to cancel the queued command `id`; resolves with its answer. */
  cancel(id: string): Promise<CancelOutcome> {
    if (!this.ports.send(JSON.stringify({ type: "cancel_command", id }))) {
      return Promise.resolve({ ok: false, detail: "not connected to the hub" });
    }
    this.setLog(this.log.markCancelling(id, true));
    const answered = new Promise<CancelOutcome>((resolve) => this.cancels.push({ id, resolve }));
    this.ports.setTimer(`cancel:${id}`, this.timeoutMs, () => this.answerCancels(id, false, this.noAnswer()));
    return answered;
  }

  /** A `command_result`: settles its command. */
  result(result: CommandResult): void {
    const { ok, detail } = outcomeOf(result);
    this.settle(result.id, ok, detail);
  }

  /** A `command_status`: the command's new state. */
  status(status: CommandStatusEntry): void {
    this.ports.clearTimer(`command:${status.id}`);
    const [log, outcome] = this.log.applyStatus(status, Date.now());
    this.setLog(log);
    if (outcome) this.resolveWaiter(outcome);
    if (status.state === "cancelled") this.answerCancels(status.id, true, "cancelled");
  }

  /** A snapshot's `commands`: the state of every listed command, and what became of ours while disconnected. */
  snapshot(statuses: readonly CommandStatusEntry[]): void {
    for (const status of statuses) this.ports.clearTimer(`command:${status.id}`);
    const [log, settled] = this.log.seed(statuses, Date.now(), this.ports.connection());
    this.setLog(log);
    for (const outcome of settled) this.resolveWaiter(outcome);
  }

  /**
   * An `error` frame: settles what it most likely refused (a cancel for `not_queued`, else the oldest command
   * the hub has not queued, else the oldest cancel). False if it refused nothing of ours.
   */
  refused(error: ErrorFrame): boolean {
    const command = error.code === "not_queued" ? undefined : this.log.oldestPendingOn(this.ports.connection());
    const cancel = this.cancels[0];
    if (command) this.settle(command.id, false, refusalOf(error));
    else if (cancel) this.answerCancels(cancel.id, false, refusalOf(error), 1);
    return command !== undefined || cancel !== undefined;
  }

  /**
   * The connection ended: pending commands fail with `detail`, but those the hub holds (sent with `ttl_s`) stay
   * pending if `willReconnect` (the next snapshot tells what became of them), else end `unknown`. Unanswered
   * cancels fail.
   */
  connectionEnded(detail: string, willReconnect: boolean): void {
    for (const id of this.log.pendingIds()) {
      const record = this.log.pending(id);
      if (!record || !isHeld(record)) this.settle(id, false, detail);
      else if (!willReconnect) this.settle(id, "unknown", "no longer followed here; the hub keeps it");
    }
    for (const { id } of [...this.cancels]) this.answerCancels(id, false, "connection lost before the hub answered");
  }

  private settle(id: string, ok: boolean | "unknown", detail: string): void {
    const [log, outcome] = this.log.settle(id, ok, detail, Date.now());
    this.ports.clearTimer(`command:${id}`);
    if (!outcome) return;
    this.setLog(log);
    this.resolveWaiter(outcome);
  }

  /** Answers the cancels of `id` (at most `count`, oldest first). */
  private answerCancels(id: string, ok: boolean, detail: string, count = Infinity): void {
    const answered = this.cancels.filter((c) => c.id === id).slice(0, count);
    if (answered.length === 0) return;
    this.cancels = this.cancels.filter((c) => !answered.includes(c));
    if (!this.cancels.some((c) => c.id === id)) {
      this.ports.clearTimer(`cancel:${id}`);
      this.setLog(this.log.markCancelling(id, false));
    }
    for (const cancel of answered) cancel.resolve({ ok, detail });
  }

  private resolveWaiter(outcome: CommandOutcome): void {
    this.waiters.get(outcome.id)?.(outcome);
    this.waiters.delete(outcome.id);
  }

  private setLog(log: CommandLog): void {
    if (log === this.log) return;
    this.log = log;
    this.ports.changed(log.records);
  }

  private noAnswer(): string {
    return `no answer within ${Math.round(this.timeoutMs / 1000)} s`;
  }
}
