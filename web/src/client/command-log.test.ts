import { describe, expect, it } from "vitest";

import { CommandLog, detailText, refusalOf, type CommandRecord } from "./command-log";
import type { CommandState, CommandStatusEntry } from "./protocol";

const record = (id: string, connection = 1): CommandRecord => ({
  id,
  name: "ping",
  args: {},
  sentAt: 0,
  status: "pending",
  detail: "sent",
  connection,
});

describe("CommandLog", () => {
  it("keeps the newest settled commands and every pending one", () => {
    let log = CommandLog.empty(2);
    for (const id of ["a", "b", "c"]) log = log.add(record(id));
    expect(log.records.map((r) => r.id)).toEqual(["c", "b", "a"]); // all pending: none dropped
    [log] = log.settle("a", true, "pong", 1);
    [log] = log.settle("b", true, "pong", 2);
    log = log.add(record("d"));
    expect(log.records.map((r) => r.id)).toEqual(["d", "c"]);
  });

  it("settles a pending command once", () => {
    const log = CommandLog.empty().add(record("a"));
    const [settled, outcome] = log.settle("a", false, "device offline", 5);
    expect(outcome).toMatchObject({ status: "failed", detail: "device offline", settledAt: 5 });
    expect(settled.settle("a", true, "late", 6)[1]).toBeUndefined();
  });

  it("matches an error frame to the oldest pending command of the same connection", () => {
    const log = CommandLog.empty().add(record("old", 1)).add(record("a", 2)).add(record("b", 2));
    expect(log.oldestPendingOn(2)?.id).toBe("a");
    expect(log.oldestPendingOn(3)).toBeUndefined();
  });

  it("shows any JSON detail as text", () => {
    expect(detailText("pong")).toBe("pong");
    expect(detailText(null)).toBe("");
    expect(detailText({ interval: 5 })).toBe('{"interval":5}');
  });
});

describe("CommandLog with queued commands", () => {
  const QUEUED_AT = "2026-02-03T12:00:00.000Z";
  const status = (id: string, state: CommandState, name = "relay"): CommandStatusEntry => ({
    device_id: "ems_001",
    id,
    name,
    state,
    queued_at: QUEUED_AT,
    expires_at: "2026-02-03T13:00:00.000Z",
  });
  const queuedRecord = (id: string, connection = 1, sentAt = 0): CommandRecord => ({
    ...record(id, connection),
    sentAt,
    ttlS: 3600,
  });
  const one = (log: CommandLog, id: string) => log.records.find((r) => r.id === id);

  it("moves queued → sent → done, settled by the relayed result", () => {
    let log = CommandLog.empty().add(queuedRecord("c"));
    [log] = log.applyStatus(status("c", "queued"), 1);
    expect(one(log, "c")).toMatchObject({ status: "pending", queue: { state: "queued", queuedAt: QUEUED_AT } });
    [log] = log.applyStatus(status("c", "sent"), 2);
    expect(one(log, "c")).toMatchObject({ status: "pending", queue: { state: "sent" } });
    const [done, none] = log.applyStatus(status("c", "done"), 3);
    expect(none).toBeUndefined(); // done waits for the command_result the hub relays
    const [settled, outcome] = done.settle("c", true, "relay on", 4);
    expect(outcome).toMatchObject({ status: "ok", detail: "relay on", queue: { state: "done" } });
    expect(settled.records).toHaveLength(1);
  });

  it("moves queued → expired, failed with the expired result whichever comes first", () => {
    const queued = CommandLog.empty().add(queuedRecord("c")).applyStatus(status("c", "queued"), 1)[0];
    const [byStatus, outcome] = queued.applyStatus(status("c", "expired"), 2);
    expect(outcome).toMatchObject({ status: "failed", detail: "expired", queue: { state: "expired" } });
    const [byResult, result] = queued.settle("c", false, "expired", 2);
    expect(result).toMatchObject({ status: "failed", detail: "expired" });
    const [afterBoth, late] = byResult.applyStatus(status("c", "expired"), 3);
    expect(late).toBeUndefined();
    expect(one(afterBoth, "c")).toEqual(one(byStatus, "c"));
  });

  it("moves queued → cancelled, clearing the cancel on its way", () => {
    let log = CommandLog.empty().add(queuedRecord("c")).applyStatus(status("c", "queued"), 1)[0];
    log = log.markCancelling("c", true);
    expect(one(log, "c")?.cancelling).toBe(true);
    const [cancelled, outcome] = log.applyStatus(status("c", "cancelled"), 2);
    expect(outcome).toMatchObject({ status: "failed", detail: "cancelled", queue: { state: "cancelled" } });
    expect(one(cancelled, "c")?.cancelling).toBeUndefined();
  });

  it("adds a queued command another dashboard sent, and no error frame is matched to a queued one", () => {
    let log = CommandLog.empty().add(queuedRecord("mine", 2));
    [log] = log.applyStatus(status("theirs", "queued", "gpio_write"), 1);
    expect(one(log, "theirs")).toMatchObject({
      name: "gpio_write",
      args: {},
      status: "pending",
      connection: 0,
      sentAt: Date.parse(QUEUED_AT),
    });
    expect(log.oldestPendingOn(2)?.id).toBe("mine"); // not yet taken by the hub: an error may refuse it
    [log] = log.applyStatus(status("mine", "queued"), 2);
    expect(log.oldestPendingOn(2)).toBeUndefined();
  });

  it("is seeded by a snapshot: states, finished commands, and ours that finished while away", () => {
    let log = CommandLog.empty()
      .add(queuedRecord("gone", 1))
      .add(queuedRecord("answered", 1))
      .add(queuedRecord("new-here", 2, Date.parse("2026-02-03T12:30:00Z")));
    const listed = [status("waiting", "queued"), status("answered", "done"), status("old", "expired")];
    const [seeded, settled] = log.seed(listed, 10, 2);
    log = seeded;
    expect(one(log, "waiting")).toMatchObject({ status: "pending", queue: { state: "queued" } });
    expect(one(log, "answered")).toMatchObject({
      status: "unknown",
      detail: "answered while this page was not connected",
    });
    expect(one(log, "old")).toMatchObject({ status: "failed", detail: "expired" });
    expect(one(log, "gone")).toMatchObject({
      status: "unknown",
      detail: "not in the hub's list after the reconnect",
    });
    expect(one(log, "new-here")?.status).toBe("pending"); // sent on this connection, after the snapshot
    expect(settled.map((r) => r.id).sort()).toEqual(["answered", "gone", "old"]);
    // Newest first by when each was sent or queued, wherever the hub's list put them.
    expect(log.records.map((r) => r.id)).toEqual(["new-here", "old", "waiting", "answered", "gone"]);
  });

  it("says when a cancel found nothing queued", () => {
    expect(refusalOf({ type: "error", code: "not_queued", message: "m" })).toBe(
      "not cancelled: it was no longer queued",
    );
  });
});
