import { describe, expect, it } from "vitest";

import { Backoff, DEFAULT_BACKOFF } from "./backoff";

const policy = { baseMs: 1_000, capMs: 30_000, minMs: 100 };

describe("Backoff", () => {
  it("doubles the ceiling per failure and never passes the cap", () => {
    const backoff = new Backoff(policy, () => 0.5);
    const ceilings: number[] = [];
    for (let i = 0; i < 12; i++) {
      ceilings.push(backoff.ceilingMs());
      backoff.next();
    }
    expect(ceilings).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("draws every delay between the floor and the ceiling", () => {
    for (const r of [0, 0.25, 0.5, 0.999_999]) {
      const backoff = new Backoff(policy, () => r);
      for (let i = 0; i < 40; i++) {
        const ceiling = backoff.ceilingMs();
        const delay = backoff.next();
        expect(delay).toBeGreaterThanOrEqual(policy.minMs);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it("is jittered: the delay follows the random draw", () => {
    const low = new Backoff(policy, () => 0).next();
    const high = new Backoff(policy, () => 0.99).next();
    expect(low).toBe(100);
    expect(high).toBe(Math.floor(100 + 0.99 * 900));
  });

  it("stays bounded after a huge number of failures", () => {
    const backoff = new Backoff(policy, () => 0.999);
    for (let i = 0; i < 10_000; i++) backoff.next();
    expect(backoff.ceilingMs()).toBe(30_000);
    expect(backoff.next()).toBeLessThan(30_000);
  });

  it("starts over after reset", () => {
    const backoff = new Backoff(policy, () => 0.5);
    backoff.next();
    backoff.next();
    expect(backoff.failures).toBe(2);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.ceilingMs()).toBe(1_000);
  });

  it("refuses a policy whose cap is below its base", () => {
    expect(() => new Backoff({ baseMs: 10, capMs: 5, minMs: 0 })).toThrow(RangeError);
    expect(new Backoff(DEFAULT_BACKOFF).ceilingMs()).toBe(1_000);
  });
});
