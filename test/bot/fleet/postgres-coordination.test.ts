import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChatLock } from '../../../src/bot/fleet/postgres-chat-lock.ts';
import { PostgresRateLimiter } from '../../../src/bot/fleet/postgres-rate-limiter.ts';
import { PostgresSendBudget } from '../../../src/bot/fleet/postgres-send-budget.ts';
import { LocalRateLimiter, type RateLimiter } from '../../../src/bot/rate-limiter.ts';
import { createThrottle } from '../../../src/bot/throttle.ts';
import { createPostgres, type Postgres } from '../../../src/postgres-client.ts';
import { FLEET_TABLES } from '../../../src/store/postgres-fleet-migrations.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../helpers/postgres.ts';

/**
 * What a fleet shares through PostgreSQL, with two "instances" (two pools, two lock
 * holders) on a real server: the per-user limits count both, the outgoing budget holds
 * for both together, a chat's lock is held by one at a time and outlives no dead holder.
 */

let database: TestDatabase;
let a: Postgres;
let b: Postgres;

beforeAll(async () => {
  if (!postgresAvailable) return;
  database = await createTestDatabase();
  a = createPostgres(database.url, { max: 4 });
  b = createPostgres(database.url, { max: 4 });
  await a.query(FLEET_TABLES.up);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
});

describe.skipIf(!postgresAvailable)('fleet coordination in PostgreSQL', () => {
  it('per-user limits: the same decisions as in one process, counted across instances', async () => {
    let now = 1_000_000;
    const local = new LocalRateLimiter(3, 60_000, () => now);
    const one = new PostgresRateLimiter(a, 'question', 3, 60_000, () => now);
    const two = new PostgresRateLimiter(b, 'question', 3, 60_000, () => now);
    const run = async (first: RateLimiter, second: RateLimiter) => {
      const out = [];
      for (const limiter of [first, second, first, second, first]) out.push(await limiter.take('u1'));
      now += 10_000;
      out.push(await second.take('u1'), await first.take('u2'));
      now += 50_001;
      out.push(await first.take('u1'));
      return out;
    };
    const shared = await run(one, two);
    now = 1_000_000;
    expect(shared).toEqual(await run(local, local));
    expect(shared.slice(3, 6)).toEqual([
      { allowed: false, retryAfterMs: 60_000, firstRefusal: true },
      { allowed: false, retryAfterMs: 60_000, firstRefusal: false },
      { allowed: false, retryAfterMs: 50_000, firstRefusal: false },
    ]);
  });

  it('outgoing budget: two instances together never put more than the limit in any window', async () => {
    const sent: number[] = [];
    const prev = async () => {
      sent.push(Date.now());
      await new Promise((r) => setTimeout(r, 5));
      return { ok: true as const, result: true };
    };
    const throttles = [a, b].map((pg) => createThrottle({ globalPerSecond: 10 }, undefined, new PostgresSendBudget(pg)));
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => throttles[i % 2]!.transformer(prev as never, 'sendMessage', { chat_id: 100 + i, text: 'x' } as never)));
    expect(sent).toHaveLength(30);
    for (const t of sent) expect(sent.filter((x) => x > t - 1000 && x <= t).length).toBeLessThanOrEqual(10);
    // About 10 a second: the budget is used, not just respected.
    expect(Date.now() - t0).toBeLessThan(4_500);
  });

  it("a chat's lock: one holder at a time across instances; a dead holder's lease expires", async () => {
    const locks = [new PostgresChatLock(a), new PostgresChatLock(b)];
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        locks[i % 2]!.run('chat-1', async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 20));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // An instance killed while holding a chat: its lease stays until it expires, then the chat goes on.
    await a.query('INSERT INTO chat_leases (chat_key, holder, expires_at) VALUES ($1, $2, $3)', ['chat-2', 'dead', Date.now() + 300]);
    const t0 = Date.now();
    await locks[1]!.run('chat-2', async () => {});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });
});
