import type { StoreConfig } from '../config.ts';
import { databaseFile, openDatabase } from './database.ts';
import { openPostgresDatabase } from './postgres-database.ts';
import type { Database } from './sql.ts';

/**
 * The product's state: PostgreSQL when DATABASE_URL is set (several instances share it),
 * otherwise the SQLite file in STATE_DIR. Either way the stores get the same Database, or
 * opening fails with a StateError of one line naming the file or database and the fix.
 */
export function openStore(config: StoreConfig, options: { warn?: (message: string) => void } = {}): Promise<Database> {
  if (config.databaseUrl) return openPostgresDatabase(config.databaseUrl);
  return openDatabase(databaseFile(config.stateDir), options);
}
