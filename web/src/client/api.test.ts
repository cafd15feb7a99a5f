import { describe, expect, it, vi } from "vitest";

import { fetchDevices, interpret } from "./api";

describe("fetchDevices", () => {
  it("sends the token only in the Authorization header", async () => {
    const fetchImpl = vi.fn(() =>
      Promise.resolve(new Response('{"devices":["a","b"],"access":"control"}', { status: 200 })),
    );
    const result = await fetchDevices("http://hub.test:8787", "tdash_secret", fetchImpl);
    expect(result).toEqual({ ok: true, devices: ["a", "b"], access: "control" });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://hub.test:8787/api/devices");
    expect(url).not.toContain("tdash_");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tdash_secret");
  });

  it("says the hub cannot be reached when fetch fails", async () => {
    const fetchImpl = vi.fn(() => Promise.reject(new TypeError("Failed to fetch")));
    const result = await fetchDevices("http://hub.test", "t", fetchImpl);
    expect(result).toMatchObject({ ok: false, reason: "unavailable" });
  });
});

describe("interpret", () => {
  it("maps statuses to reasons a person can act on", () => {
    expect(interpret(401, null, null)).toMatchObject({ ok: false, reason: "unauthorized" });
    expect(interpret(403, null, { error: "forbidden" })).toMatchObject({ ok: false, reason: "forbidden" });
    expect(interpret(429, "17", null)).toMatchObject({ ok: false, reason: "rate_limited", retryAfterS: 17 });
    expect(interpret(429, null, null)).toMatchObject({ retryAfterS: null });
    expect(interpret(500, null, null)).toMatchObject({ ok: false, reason: "unavailable" });
  });

  it("refuses a 200 whose body is not a device list", () => {
    expect(interpret(200, null, { devices: "a", access: "read" })).toMatchObject({ ok: false });
    expect(interpret(200, null, { devices: ["a"], access: "admin" })).toMatchObject({ ok: false });
    expect(interpret(200, null, { devices: [], access: "read" })).toEqual({ ok: true, devices: [], access: "read" });
  });
});
