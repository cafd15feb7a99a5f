// Reconnect delays: capped exponential backoff with full jitter, pure and deterministic under an injected RNG.
//
// The n-th consecutive failure waits a uniformly random time in `[min, min(cap, base · 2^n))`, as the edge agent
// does (AWS "full jitter", plus a small floor so a browser never spins), so dashboards dropped by one hub deploy
// spread their reconnects instead of stampeding. The ceiling uses `Math.min`: `max` there would make every
// delay the cap.

/** Backoff parameters, in milliseconds. */
export interface BackoffPolicy {
  /** Ceiling after the first failure. */
  baseMs: number;
  /** The ceiling never grows past this. */
  capMs: number;
  /** No delay is shorter than this (unless the cap is). */
  minMs: number;
}

/** Base 1 s, cap 30 s, floor 100 ms. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000, minMs: 100 };

/** Largest exponent used; the ceiling saturates long before. */
const MAX_EXPONENT = 30;

/** A consecutive-failure counter that draws the delay before the next attempt. */
export class Backoff {
  private failureCount = 0;

  /** `random` returns a number in [0, 1), like `Math.random` (inject a fixed one in tests). */
  constructor(
    readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {
    if (!(policy.baseMs > 0 && policy.capMs >= policy.baseMs && policy.minMs >= 0)) {
      throw new RangeError("backoff needs 0 < baseMs <= capMs and minMs >= 0");
    }
  }

  /** Consecutive failures since the last {@link reset}. */
  get failures(): number {
    return this.failureCount;
  }

  /** Upper bound of the next delay: `min(cap, base · 2^failures)`. */
  ceilingMs(): number {
    const factor = 2 ** Math.min(this.failureCount, MAX_EXPONENT);
    return Math.min(this.policy.capMs, this.policy.baseMs * factor);
  }

  /** Draws the delay before the next attempt, between the floor and the ceiling, and counts one more failure. */
  next(): number {
    const ceiling = this.ceilingMs();
    const floor = Math.min(this.policy.minMs, ceiling);
    const r = Math.min(Math.max(this.random(), 0), 1);
    this.failureCount += 1;
    return Math.floor(floor + r * (ceiling - floor));
  }

  /** Forgets the failures, after a connection that stayed up. */
  reset(): void {
    this.failureCount = 0;
  }
}
