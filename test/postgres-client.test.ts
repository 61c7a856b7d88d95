import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateError } from '../src/errors.ts';
import { databasePassword } from '../src/config.ts';
import { createPostgres, describeDatabase, isUniqueViolation, type Postgres } from '../src/postgres-client.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.ts';

describe('describeDatabase', () => {
  it('names the database without the password', () => {
    const url = 'postgres://bot:s3cr3t-pass@db.example:5433/plans?sslmode=require';
    expect(describeDatabase(url)).toBe('postgres://bot@db.example:5433/plans');
    expect(databasePassword(url)).toBe('s3cr3t-pass');
    expect(databasePassword('postgres://bot@db/plans')).toBeUndefined();
  });
});

describe('an unreachable server', () => {
  it('fails with one line naming the database, not the password', async () => {
    const pg = createPostgres('postgres://bot:hunter2-secret@127.0.0.1:1/plans', { connectionTimeoutMs: 2000 });
    const err = await pg.check().then(
      () => undefined,
      (e: unknown) => e,
    );
    await pg.close();
    expect(err).toBeInstanceOf(StateError);
    const message = (err as Error).message;
    expect(message).toContain('postgres://bot@127.0.0.1:1/plans');
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('hunter2');
    expect(message.split('\n')).toHaveLength(1);
  });
});

describe.skipIf(!postgresAvailable)('on a real server', () => {
  let db: TestDatabase;
  let pg: Postgres;
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = createPostgres(db.url);
  });
  afterAll(async () => {
    await pg?.close();
    await db?.drop();
  });

  it('returns BIGINT as numbers and rolls a failed transaction back', async () => {
    await pg.query('CREATE TABLE t (id BIGINT PRIMARY KEY)');
    const { rows } = await pg.query<{ id: number; n: number }>('INSERT INTO t VALUES ($1) RETURNING id, (SELECT COUNT(*) FROM t) AS n', [-1001234567890]);
    expect(rows[0]).toEqual({ id: -1001234567890, n: 0 });
    const err = await pg
      .transaction(async (client) => {
        await pg.query('INSERT INTO t VALUES (1)', [], client);
        await pg.query('INSERT INTO t VALUES (-1001234567890)', [], client);
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect(isUniqueViolation(err)).toBe(true);
    expect((await pg.query<{ n: number }>('SELECT COUNT(*) AS n FROM t')).rows[0]!.n).toBe(1);
  });

  it('an unknown database is named with the fix', async () => {
    const url = new URL(db.url);
    url.pathname = '/no_such_db';
    const other = createPostgres(url.toString());
    const err = await other.check().catch((e: unknown) => e);
    await other.close();
    expect((err as Error).message).toMatch(/no_such_db failed \(3D000: .*create the database/);
  });

  it('withAdvisoryLock lets one holder in at a time', async () => {
    const order: string[] = [];
    const hold = (name: string) =>
      pg.withAdvisoryLock(42, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i]!.replace('+', '-'));
  });

  it('withAdvisoryLock gives up waiting after waitMs, and the connection is usable after', async () => {
    let release!: () => void;
    const held = pg.withAdvisoryLock(7, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    const err = await pg.withAdvisoryLock(7, async () => 'got it', { waitMs: 100 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/57014/);
    release();
    await held;
    expect(await pg.withAdvisoryLock(7, async (client) => (await pg.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t", [], client)).rows[0]!.t, { waitMs: 100 })).toBe('30s');
  });
});
