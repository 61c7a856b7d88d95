import { StateError } from '../errors.ts';

/**
 * The small asynchronous SQL layer the stores are written against, once, for both
 * engines: SQLite (database.ts, better-sqlite3) and PostgreSQL (postgres-database.ts, pg).
 *
 * The SQL the stores write is the common subset of both: `?` placeholders (turned into
 * $1, $2… for PostgreSQL), `INSERT … ON CONFLICT … DO UPDATE SET x = excluded.x` and
 * `ON CONFLICT DO NOTHING`, `RETURNING id` instead of a last-insert id, `CASE` instead of
 * summing booleans or two-argument MIN/MAX, `CAST(? AS BIGINT)` where PostgreSQL cannot
 * infer a parameter's type. Telegram ids and Unix-ms times are BIGINT (integers in
 * SQLite), booleans are 0/1 integers, JSON is stored as text.
 */

export type SqlValue = string | number | null;

/** Statements on a database, or inside one transaction of it. */
export interface Sql {
  readonly engine: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction (all or nothing) on `tx`, which `fn` must use for every
   * statement. Inside a transaction this simply runs `fn` in the same one.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** An open database of either engine. */
export interface Database extends Sql {
  /** How messages name it: the SQLite file, or postgres://user@host:port/name. */
  readonly name: string;
  /** False once closed (shutdown may close it under work being abandoned). */
  readonly open: boolean;
  /** The tables that exist (to check that every migration's tables are there). */
  tables(): Promise<Set<string>>;
  close(): Promise<void>;
}

export interface Migration {
  /** Stable id, applied in list order: "NNN-what". */
  id: string;
  up: string;
}

/**
 * Every instance migrating a PostgreSQL database takes this transaction-scoped advisory
 * lock first, so two instances starting together apply each migration once.
 */
const MIGRATION_LOCK_KEY = 0x70_6c61_6e71; // "planq": below 2^53, so exact as a JS number

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in list order, in one
 * transaction (PostgreSQL: under an advisory lock; SQLite: BEGIN IMMEDIATE holds the
 * file's write lock). Refuses a database that records a migration this program does not
 * know (written by a newer version). Returns the ids it applied.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    if (tx.engine === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))', [MIGRATION_LOCK_KEY]);
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const applied = new Set((await tx.all<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    const known = new Set(migrations.map((m) => m.id));
    const unknown = [...applied].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new StateError(`store: ${db.name} has migrations this program does not know (${unknown.join(', ')}); it was written by a newer version of plan-qa-bot: run that version`);
    }
    const ran: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await tx.exec(m.up);
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
      ran.push(m.id);
    }
    return ran;
  });
}

/** Every table the migrations create: each must exist once they have run. */
export function expectedTables(migrations: readonly Migration[]): string[] {
  return migrations.flatMap((m) => [...m.up.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((x) => x[1]!.toLowerCase()));
}
