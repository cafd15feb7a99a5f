import { describe, expect, it, vi } from "vitest";

import {
  countCsvRows,
  csvFileName,
  fetchHistory,
  fetchHistoryCsv,
  historyPoints,
  historyUrl,
  type HubTarget,
} from "./history-api";
import type { HistoryResponse } from "./protocol";

const T0 = Date.parse("2026-02-03T12:00:00Z");

function answer(change: Partial<HistoryResponse> = {}): HistoryResponse {
  return {
    device_id: "ems_001",
    from: "f",
    to: "t",
    fields: ["battery.soc"],
    bucket_ms: 0,
    samples: [{ t: T0, v: [85] }],
    buckets: [],
    truncated: false,
    ...change,
  };
}

/** A fake fetch that plays `responses` in order and records each call's URL and headers. */
function hub(...responses: Response[]) {
  const calls: { url: URL; headers: Record<string, string> }[] = [];
  const fetchImpl = vi.fn((url: string, init?: RequestInit) => {
    calls.push({ url: new URL(url), headers: init?.headers as Record<string, string> });
    const next = responses.shift();
    return next ? Promise.resolve(next) : Promise.reject(new Error("no more responses"));
  });
  const target: HubTarget = {
    baseUrl: "http://hub.test",
    token: "tdash_secret",
    deviceId: "ems_001",
    fetch: fetchImpl as unknown as typeof fetch,
  };
  return { target, calls };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

describe("fetchHistory", () => {
  it("asks for the range with the token in the Authorization header only", async () => {
    const { target, calls } = hub(json(answer()));
    const result = await fetchHistory(target, { from: T0 - 3_600_000, to: T0, points: 812.4 });
    expect(result).toEqual({ ok: true, answers: [answer()] });
    expect(calls[0].url.pathname).toBe("/api/devices/ems_001/history");
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({
      from: String(T0 - 3_600_000),
      to: String(T0),
      points: "812",
    });
    expect(calls[0].url.toString()).not.toContain("tdash_");
    expect(calls[0].headers.Authorization).toBe("Bearer tdash_secret");
  });

  it("follows a truncated answer from its last point on", async () => {
    const first = answer({ truncated: true, samples: [{ t: T0 - 5000, v: [1] }] });
    const bucketed = answer({
      bucket_ms: 1000,
      samples: [],
      buckets: [{ t: T0 - 3000, n: 2, min: [1], max: [2], mean: [1.5] }],
      truncated: true,
    });
    const last = answer({ samples: [] });
    const { target, calls } = hub(json(first), json(bucketed), json(last));
    const result = await fetchHistory(target, { from: T0 - 10_000, to: T0 });
    expect(result).toEqual({ ok: true, answers: [first, bucketed, last] });
    expect(calls.map((c) => Number(c.url.searchParams.get("from")) - T0)).toEqual([-10_000, -4999, -2000]);
  });

  it("stops after maxAnswers, and when a truncated answer does not move on", async () => {
    const stuck = answer({ truncated: true, samples: [{ t: T0 - 10_001, v: [1] }] });
    expect(await fetchHistory(hub(json(stuck)).target, { from: T0 - 10_000, to: T0 })).toMatchObject({ ok: true });
    const moving = (t: number) => json(answer({ truncated: true, samples: [{ t, v: [1] }] }));
    const { target, calls } = hub(moving(T0 - 9000), moving(T0 - 8000), moving(T0 - 7000));
    await fetchHistory(target, { from: T0 - 10_000, to: T0 }, 2);
    expect(calls).toHaveLength(2);
  });

  it("says why it failed, in words a person can act on", async () => {
    const refused = await fetchHistory(hub(new Response("", { status: 403 })).target, { from: 0, to: 1 });
    expect(refused).toMatchObject({ ok: false, reason: "forbidden" });
    const bad = json({ error: "bad_request", message: "from is not a time" }, 400);
    expect(await fetchHistory(hub(bad).target, { from: 0, to: 1 })).toMatchObject({
      ok: false,
      message: "The hub refused the query: from is not a time",
    });
    expect(await fetchHistory(hub(json({ samples: 1 })).target, { from: 0, to: 1 })).toMatchObject({
      ok: false,
      message: "The hub answered with something unexpected.",
    });
    const old = await fetchHistory(hub(new Response("Not found", { status: 404 })).target, { from: 0, to: 1 });
    expect(old).toMatchObject({ ok: false, message: "This hub keeps no history (HTTP 404)." });
    expect(await fetchHistory(hub().target, { from: 0, to: 1 })).toMatchObject({ ok: false, reason: "unavailable" });
  });
});

describe("fetchHistoryCsv", () => {
  const csv = (rows: string[], next?: number) =>
    new Response(["ts,received_at,epoch,seq,battery.soc", ...rows].join("\n") + "\n", {
      status: 200,
      headers: next === undefined ? {} : { "Telemetry-Next-From": String(next) },
    });

  it("follows Telemetry-Next-From and keeps one header row", async () => {
    const { target, calls } = hub(csv(["a,r,e,1,80", "b,r,e,2,81"], T0 - 500), csv(["c,r,e,3,82"]));
    const result = await fetchHistoryCsv(target, { from: T0 - 1000, to: T0, fields: ["battery.soc"] });
    expect(result).toEqual({
      ok: true,
      parts: ["ts,received_at,epoch,seq,battery.soc\na,r,e,1,80\nb,r,e,2,81\n", "c,r,e,3,82\n"],
      rows: 3,
      pages: 2,
      complete: true,
    });
    expect(calls.map((c) => c.url.pathname)).toEqual([
      "/api/devices/ems_001/history.csv",
      "/api/devices/ems_001/history.csv",
    ]);
    expect(calls[1].url.searchParams.get("from")).toBe(String(T0 - 500));
    expect(calls[1].url.searchParams.get("fields")).toBe("battery.soc");
    expect(calls[1].url.searchParams.has("points")).toBe(false);
    expect(calls[1].headers.Authorization).toBe("Bearer tdash_secret");
  });

  it("ends early, and says so, when the next page would not move on or is one too many", async () => {
    const stuck = await fetchHistoryCsv(hub(csv(["a,r,e,1,80"], T0 - 1000)).target, { from: T0 - 1000, to: T0 });
    expect(stuck).toMatchObject({ ok: true, rows: 1, pages: 1, complete: false });
    const { target, calls } = hub(csv([], T0 - 900), csv([], T0 - 800), csv([]));
    expect(await fetchHistoryCsv(target, { from: T0 - 1000, to: T0 }, 2)).toMatchObject({ complete: false });
    expect(calls).toHaveLength(2);
  });

  it("fails as a whole when a page fails", async () => {
    const { target } = hub(
      csv(["a,r,e,1,80"], T0 - 500),
      new Response("", { status: 429, headers: { "Retry-After": "7" } }),
    );
    expect(await fetchHistoryCsv(target, { from: T0 - 1000, to: T0 })).toMatchObject({
      ok: false,
      reason: "rate_limited",
      retryAfterS: 7,
    });
  });
});

describe("helpers", () => {
  it("asks for about a point per pixel, within the hub's limits", () => {
    expect(historyPoints(812.6)).toBe(813);
    expect(historyPoints(12_000)).toBe(5000);
    expect(historyPoints(0)).toBe(1000); // a hidden chart has no width yet
  });

  it("builds URLs with the device id escaped", () => {
    expect(historyUrl("http://hub.test/x", "a b", { from: 1.5, to: 2.5, points: 10 })).toBe(
      "http://hub.test/api/devices/a%20b/history?from=1&to=3&points=10",
    );
  });

  it("names the file after the device and the range", () => {
    expect(csvFileName("ems/001", T0 - 3_600_000, T0)).toBe("ems_001_2026-02-03T11-00-00Z_2026-02-03T12-00-00Z.csv");
  });

  it("counts CSV records, not newlines inside quotes", () => {
    expect(countCsvRows('h\n1,"a\nb"\n2,c')).toBe(3);
    expect(countCsvRows("")).toBe(0);
  });
});
