import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StateError } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';
import { expectedTables, migrate, type Database, type Migration, type Sql, type SqlValue } from './sql.ts';

/**
 * The one owner of better-sqlite3: opens the product's SQLite file (WAL, foreign keys,
 * a busy timeout for a second process such as a CLI reading stats), brings its schema up
 * to date, and serves it through the stores' async SQL layer (sql.ts). Every table lives
 * in migrations.ts; stores (bot-store.ts, digest-store.ts, update-journal.ts) take the
 * opened database.
 */

export type { Database };

export interface OpenDatabaseOptions {
  /** Defaults to the product's migrations; tests may pass their own list. */
  migrations?: readonly Migration[];
  /** Told about state that is used but worth a person's attention (a zero-length database file). */
  warn?: (message: string) => void;
}

/** What to do about a database that cannot be used: said once, in every message. */
function unusable(file: string, what: string, cause?: unknown): StateError {
  return new StateError(
    `store: ${file} ${what}; move it away to start with an empty database (the chats' history, feedback and subscriptions in it are lost), or restore it from a backup`,
    cause === undefined ? undefined : { cause },
  );
}

function unwritable(target: string, code: string): StateError {
  return new StateError(`store: cannot write ${target} (${code}); give this user write access to it, or point STATE_DIR at a writable folder`);
}

/**
 * What is at `file` before SQLite sees it: a folder, a read-only file or folder, and an
 * empty file are told apart here (SQLite would report them as a raw error, or silently
 * turn an empty file into a new database).
 */
function checkPath(file: string, warn: (message: string) => void): void {
  const dir = path.dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new StateError(`store: ${dir} is not a folder; move that file away, or point STATE_DIR elsewhere`, { cause: err });
    throw unwritable(dir, code);
  }
  let stat;
  try {
    stat = statSync(file);
  } catch {
    stat = undefined; // a new database
  }
  if (stat?.isDirectory()) throw unusable(file, 'is a folder, not a SQLite database');
  // SQLite writes a journal (-wal, -shm) next to the database: the folder must be writable too.
  for (const target of stat ? [file, dir] : [dir]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      throw unwritable(target, (err as NodeJS.ErrnoException).code ?? 'EACCES');
    }
  }
  if (stat && stat.size === 0) warn(`store: ${file} was empty (0 bytes); starting a new database in it. If it held data, restore it from a backup.`);
}

/** The database file inside STATE_DIR. */
export function databaseFile(stateDir: string): string {
  return path.join(stateDir, 'plan-qa.sqlite');
}

/** Statements run at once on the connection (the database's own calls queue; see SqliteDatabase). */
class SqliteSession implements Sql {
  readonly engine = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly raw: BetterSqlite3.Database) {}

  private prepare(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.prepare(sql).get(...params) as T | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const stmt = this.prepare(sql);
    // A statement with RETURNING must be stepped through all its rows to take effect.
    return stmt.reader ? stmt.all(...params).length : stmt.run(...params).changes;
  }

  async exec(sql: string): Promise<void> {
    this.raw.exec(sql);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

/**
 * One better-sqlite3 connection behind the async interface. Its statements are
 * synchronous, but a transaction's callback awaits between them, so every call is queued:
 * nothing from elsewhere can run inside an open transaction (and a second transaction
 * waits for the first instead of failing "cannot start a transaction within a transaction").
 */
class SqliteDatabase implements Database {
  readonly engine = 'sqlite' as const;
  private readonly session: SqliteSession;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly raw: BetterSqlite3.Database,
    readonly name: string,
  ) {
    this.session = new SqliteSession(raw);
  }

  get open(): boolean {
    return this.raw.open;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => {});
    return result;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.serial(() => this.session.all<T>(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.serial(() => this.session.get<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serial(() => this.session.run(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.serial(() => this.session.exec(sql));
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      // IMMEDIATE: take the write lock now, so a second process cannot make us fail mid-way.
      this.raw.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.session);
        this.raw.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async tables(): Promise<Set<string>> {
    const rows = await this.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    return new Set(rows.map((r) => r.name.toLowerCase()));
  }

  async close(): Promise<void> {
    await this.tail;
    if (this.raw.open) this.raw.close();
  }
}

/**
 * Opens and checks the database, or throws a StateError whose message is one line naming
 * the file and what to do: a folder or an unwritable file in its place, a file that is not
 * SQLite, a damaged page (`quick_check`), a table that is missing. Found at start, not by
 * every question failing later.
 */
export async function openDatabase(file: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const migrations = options.migrations ?? MIGRATIONS;
  if (file !== ':memory:') checkPath(file, options.warn ?? (() => {}));
  let raw: BetterSqlite3.Database | undefined;
  try {
    raw = new BetterSqlite3(file);
    raw.pragma('busy_timeout = 5000');
    const check = raw.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw unusable(file, `is damaged (SQLite quick_check: ${String(check).split('\n')[0]})`);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    const db = new SqliteDatabase(raw, file);
    await migrate(db, migrations);
    const present = await db.tables();
    const missing = expectedTables(migrations).filter((t) => !present.has(t));
    if (missing.length > 0) throw unusable(file, `has lost tables its migrations created (${missing.join(', ')})`);
    return db;
  } catch (err) {
    raw?.close();
    if (err instanceof StateError) throw err;
    if (err instanceof BetterSqlite3.SqliteError) {
      if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(err.code)) throw unwritable(file, err.code);
      throw unusable(file, `cannot be read as a SQLite database (${err.code}: ${err.message})`, err);
    }
    throw err;
  }
}
