/**
 * A sliding-window limit per key (a user id): at most `limit` events in any `windowMs`.
 * A refused caller is told how long to wait, and whether this is the first refusal of the
 * episode (answer that one; ignore the rest, so a flood does not double the traffic).
 */

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

/**
 * Where the events are counted: in this process (LocalRateLimiter, one instance), or for
 * a whole fleet in PostgreSQL (store/postgres-rate-limiter.ts).
 */
export interface RateLimiter {
  take(key: string | number): Promise<RateDecision>;
}

/** Makes the limiter named `scope` ("question", "button"…): `limit` events per `windowMs` per key. */
export type RateLimiterFactory = (scope: string, limit: number, windowMs: number) => RateLimiter;

export class LocalRateLimiter implements RateLimiter {
  private readonly events = new Map<string | number, { times: number[]; notified: boolean }>();
  private takes = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string | number): Promise<RateDecision> {
    return this.takeNow(key);
  }

  takeNow(key: string | number): RateDecision {
    const t = this.now();
    if (++this.takes % 1000 === 0) this.sweep(t);
    const entry = this.events.get(key) ?? { times: [], notified: false };
    this.events.set(key, entry);
    while (entry.times.length > 0 && entry.times[0]! <= t - this.windowMs) entry.times.shift();
    if (entry.times.length < this.limit) {
      entry.times.push(t);
      entry.notified = false;
      return { allowed: true };
    }
    const firstRefusal = !entry.notified;
    entry.notified = true;
    return { allowed: false, retryAfterMs: entry.times[0]! + this.windowMs - t, firstRefusal };
  }

  private sweep(t: number): void {
    for (const [key, entry] of this.events) if ((entry.times.at(-1) ?? 0) <= t - this.windowMs) this.events.delete(key);
  }
}
