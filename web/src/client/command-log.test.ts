import { describe, expect, it } from "vitest";

import { CommandLog, detailText, type CommandRecord } from "./command-log";

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
