import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
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
}

/** The database file inside STATE_DIR. */
export function databaseFile(stateDir: string): string {
  return path.join(stateDir, 'plan-qa.sqlite');
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, options.migrations ?? MIGRATIONS);
  return db;
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
    throw new Error(`store: the database has migrations this program does not know (${unknown.join(', ')}); it was written by a newer version`);
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
