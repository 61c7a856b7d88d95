import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StateError } from '../errors.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

/**
 * The one owner of better-sqlite3: opens the product's SQLite file (WAL, foreign keys,
 * a busy timeout for a second process such as a CLI reading stats) and brings its schema
 * up to date. Every table lives in migrations.ts; stores (bot-store.ts, the digest's)
 * take the opened database.
 */

export type Database = BetterSqlite3.Database;

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

/** Every table the migrations create: each must exist once they have run. */
function expectedTables(migrations: readonly Migration[]): string[] {
  return migrations.flatMap((m) => [...m.up.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((x) => x[1]!));
}

/** The database file inside STATE_DIR. */
export function databaseFile(stateDir: string): string {
  return path.join(stateDir, 'plan-qa.sqlite');
}

/**
 * Opens and checks the database, or throws a StateError whose message is one line naming
 * the file and what to do: a folder or an unwritable file in its place, a file that is not
 * SQLite, a damaged page (`quick_check`), a table that is missing. Found at start, not by
 * every question failing later.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  const migrations = options.migrations ?? MIGRATIONS;
  if (file !== ':memory:') checkPath(file, options.warn ?? (() => {}));
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(file);
    db.pragma('busy_timeout = 5000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw unusable(file, `is damaged (SQLite quick_check: ${String(check).split('\n')[0]})`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    const missing = expectedTables(migrations).filter((t) => !present.has(t));
    if (missing.length > 0) throw unusable(file, `has lost tables its migrations created (${missing.join(', ')})`);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StateError) throw err;
    if (err instanceof BetterSqlite3.SqliteError) {
      if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(err.code)) throw unwritable(file, err.code);
      throw unusable(file, `cannot be read as a SQLite database (${err.code}: ${err.message})`, err);
    }
    throw err;
  }
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in list order, each
 * in its own transaction. Refuses a database that records a migration this program does
 * not know (written by a newer version).
 */
export function migrate(db: Database, migrations: readonly Migration[]): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).map((r) => r.id));
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...applied].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new StateError(`store: the database has migrations this program does not know (${unknown.join(', ')}); it was written by a newer version of plan-qa-bot: run that version`);
  }
  const ran: string[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.up);
      record.run(m.id, Date.now());
    })();
    ran.push(m.id);
  }
  return ran;
}
