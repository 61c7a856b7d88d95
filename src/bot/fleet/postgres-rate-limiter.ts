import type { Postgres } from '../../postgres-client.ts';
import type { RateDecision, RateLimiter, RateLimiterFactory } from '../rate-limiter.ts';

/**
 * The per-user limits for a whole fleet, counted in PostgreSQL: the same sliding window
 * as LocalRateLimiter (events in rate_events, the episode's first refusal in
 * rate_refusals), each take one transaction under an advisory lock on its scope and key
 * so two instances never both see room for the last event.
 */

/** First key of the two-key advisory locks taken here (a namespace of its own). */
const LOCK_SPACE = 0x7261;

export class PostgresRateLimiter implements RateLimiter {
  constructor(
    private readonly pg: Postgres,
    private readonly scope: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private takes = 0;

  async take(key: string | number): Promise<RateDecision> {
    // Now and then, the rows of keys that never came back (each take clears its own key's old rows).
    if (++this.takes % 1000 === 0) {
      const before = this.now() - this.windowMs;
      await this.pg.query('DELETE FROM rate_events WHERE scope = $1 AND at <= $2', [this.scope, before]);
      await this.pg.query('DELETE FROM rate_refusals WHERE scope = $1 AND at <= $2', [this.scope, before]);
    }
    const k = String(key);
    return this.pg.transaction(async (tx) => {
      const t = this.now();
      await this.pg.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, `${this.scope}:${k}`], tx);
      await this.pg.query('DELETE FROM rate_events WHERE scope = $1 AND key = $2 AND at <= $3', [this.scope, k, t - this.windowMs], tx);
      const { rows } = await this.pg.query<{ at: number }>('SELECT at FROM rate_events WHERE scope = $1 AND key = $2 ORDER BY at LIMIT $3', [this.scope, k, this.limit], tx);
      if (rows.length < this.limit) {
        await this.pg.query('INSERT INTO rate_events (scope, key, at) VALUES ($1, $2, $3)', [this.scope, k, t], tx);
        await this.pg.query('DELETE FROM rate_refusals WHERE scope = $1 AND key = $2', [this.scope, k], tx);
        return { allowed: true } as const;
      }
      const notified = await this.pg.query('INSERT INTO rate_refusals (scope, key, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [this.scope, k, t], tx);
      return { allowed: false, retryAfterMs: rows[0]!.at + this.windowMs - t, firstRefusal: notified.rowCount === 1 } as const;
    });
  }
}

export function postgresRateLimiters(pg: Postgres): RateLimiterFactory {
  return (scope, limit, windowMs) => new PostgresRateLimiter(pg, scope, limit, windowMs);
}
