import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { databaseFile, openDatabase } from '../../src/store/database.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { openPostgresDatabase } from '../../src/store/postgres-database.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.ts';
import type { Database, Migration } from '../../src/store/sql.ts';
import { createTestDatabase, postgresAvailable } from './postgres.ts';

/**
 * The stores' two engines for `describe.each(STORE_ENGINES)`: a SQLite file in a temporary
 * folder, and a fresh PostgreSQL database on the run's server (left out when the run has
 * none: test/postgres-global-setup.ts said why, once).
 */

export type Engine = 'sqlite' | 'postgres';

export const STORE_ENGINES: Array<{ engine: Engine }> = [{ engine: 'sqlite' }, ...(postgresAvailable ? [{ engine: 'postgres' as const }] : [])];

/** The product's migration list for an engine. */
export function migrationsOf(engine: Engine): readonly Migration[] {
  return engine === 'sqlite' ? MIGRATIONS : POSTGRES_MIGRATIONS;
}

export interface TestStore {
  /** Opens (and migrates) another connection to the same database. */
  open(options?: { migrations?: readonly Migration[] }): Promise<Database>;
  /** Closes every connection opened and removes the database. */
  cleanup(): Promise<void>;
}

/** A new, empty database of `engine`, not yet opened. */
export async function newTestStore(engine: Engine): Promise<TestStore> {
  const opened: Database[] = [];
  const track = (db: Database) => (opened.push(db), db);
  const closeAll = async () => {
    for (const db of opened) await db.close();
  };
  if (engine === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-store-'));
    return {
      open: async (options = {}) => track(await openDatabase(databaseFile(dir), options)),
      cleanup: async () => {
        await closeAll();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const pg = await createTestDatabase();
  return {
    open: async (options = {}) => track(await openPostgresDatabase(pg.url, { ...options, maxConnections: 4 })),
    cleanup: async () => {
      await closeAll();
      await pg.drop();
    },
  };
}
