import pg from 'pg';
import { StateError } from './errors.ts';

/**
 * The one owner of the `pg` driver: builds a pool from DATABASE_URL and translates the
 * driver's errors into a StateError whose message is one line naming the database
 * (user, host, port, name — never the password) and what to do. The store (src/store),
 * the fleet's coordination and the pgvector backend import from here, never from `pg`.
 *
 * BIGINT columns (Telegram ids, Unix-ms times, COUNT(*)) come back as JS numbers: every
 * such value the project stores is below 2^53. NUMERIC (what SUM over BIGINT returns)
 * too, for the same reason.
 */

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;
/** A pool or a client checked out of it (inside a transaction or holding a session lock). */
export type PgQueryable = pg.Pool | pg.PoolClient;

const BIGINT_OID = 20;
const NUMERIC_OID = 1700;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === BIGINT_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** `postgres://user@host:port/name`: how a database is named in messages and logs (no password, no query). */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'the PostgreSQL database in DATABASE_URL';
  }
}

export interface CreatePoolOptions {
  /** Connections at most (pg's default is 10). */
  max?: number;
  /** Shown in pg_stat_activity, e.g. "plan-qa-bot". */
  applicationName?: string;
  /** How long to wait for a connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /** Each statement is cancelled by the server after this long (default 30 s): no query hangs the bot. */
  statementTimeoutMs?: number;
  /** Idle connections do not keep the process alive (a command-line run exits when its work is done). */
  allowExitOnIdle?: boolean;
}

export interface Postgres {
  pool: PgPool;
  /** `postgres://user@host:port/name`, for messages. */
  name: string;
  /** Runs one statement; a driver error becomes a one-line StateError naming the database. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], on?: PgQueryable): Promise<{ rows: T[]; rowCount: number }>;
  /** BEGIN … COMMIT on one connection (ROLLBACK when `fn` throws). */
  transaction<T>(fn: (client: PgClient) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` holding a session-level advisory lock on `key`, on one connection that `fn`
   * may use; the lock is released when `fn` settles. Waits for the lock at most `waitMs`
   * (default: the statement timeout), then fails with a StateError (SQLSTATE 57014).
   */
  withAdvisoryLock<T>(key: bigint | number, fn: (client: PgClient) => Promise<T>, options?: { waitMs?: number }): Promise<T>;
  /** Fails with one clear line when the server cannot be reached or refuses us (for start-up). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Connection-level failures: the server is down, unknown, refusing us, or gone mid-query. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** The fix to suggest for a SQLSTATE class or a socket error. */
function advice(code: string | undefined): string {
  if (code === undefined) return 'check DATABASE_URL and that the server is running';
  if (UNREACHABLE.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03')
    return 'check DATABASE_URL (host and port) and that the server is running';
  if (code === '28P01' || code === '28000') return 'check the user and password in DATABASE_URL';
  if (code === '3D000') return 'create the database, or fix its name in DATABASE_URL';
  if (code === '42501') return 'grant this user the rights it needs on that database';
  if (code === '57014') return 'a statement took too long and was cancelled';
  return '';
}

/**
 * One line, naming the database and never the password: what failed, the driver's code
 * and message, and the fix. `what` says the work that failed ("store: migrating").
 */
export function toStateError(name: string, what: string, err: unknown): StateError {
  if (err instanceof StateError) return err;
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // A host with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError whose own message is empty.
  const first = err instanceof AggregateError ? (err.errors[0] as Error | undefined)?.message : undefined;
  const message = (e?.message || first || String(err)).split('\n')[0]!.replace(/postgres(ql)?:\/\/[^\s'"]*/gi, (u) => describeDatabase(u));
  const fix = advice(code);
  return new StateError(`${what}: PostgreSQL ${name} failed (${code ? `${code}: ` : ''}${message})${fix ? `; ${fix}` : ''}`, { cause: err });
}

/** Whether an error (ours or the driver's) is a unique-key violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const e = (err instanceof StateError ? err.cause : err) as { code?: string } | undefined;
  return e?.code === '23505';
}

/**
 * Opens a pool on `url` (postgres://…). Nothing connects until the first query: call
 * check() at start to fail early with one line.
 */
export function createPostgres(url: string, options: CreatePoolOptions = {}): Postgres {
  const name = describeDatabase(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    allowExitOnIdle: options.allowExitOnIdle ?? false,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: options.applicationName ?? 'plan-qa-bot',
    types,
  });
  // An idle connection that the server drops emits 'error' on the pool: without a listener
  // that would crash the process. The next query reconnects (or fails with a StateError).
  pool.on('error', () => {});

  const query: Postgres['query'] = async (sql, params = [], on = pool) => {
    try {
      const r = await on.query(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw toStateError(name, 'store', err);
    }
  };

  const connect = async (): Promise<PgClient> => {
    try {
      return await pool.connect();
    } catch (err) {
      throw toStateError(name, 'store', err);
    }
  };

  const transaction: Postgres['transaction'] = async (fn) => {
    const client = await connect();
    let broken = false;
    try {
      await query('BEGIN', [], client);
      const result = await fn(client);
      await query('COMMIT', [], client);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err; // the driver's errors are translated by query(); fn's own pass as they are
    } finally {
      client.release(broken);
    }
  };

  const withAdvisoryLock: Postgres['withAdvisoryLock'] = async (key, fn, lockOptions = {}) => {
    const client = await connect();
    let broken = false;
    try {
      if (lockOptions.waitMs !== undefined) await query(`SET statement_timeout = ${Math.max(1, Math.round(lockOptions.waitMs))}`, [], client);
      try {
        await query('SELECT pg_advisory_lock($1::bigint)', [String(key)], client);
      } finally {
        if (lockOptions.waitMs !== undefined) await client.query('RESET statement_timeout').catch(() => (broken = true));
      }
      try {
        return await fn(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [String(key)]).catch(() => {
          broken = true; // a connection whose unlock failed is closed, which releases the lock
        });
      }
    } finally {
      client.release(broken);
    }
  };

  return {
    pool,
    name,
    query,
    transaction,
    withAdvisoryLock,
    check: async () => {
      await query('SELECT 1');
    },
    close: async () => {
      await pool.end().catch(() => {});
    },
  };
}
