import { StateError } from '../errors.ts';
import { createPostgres, type PgQueryable, type Postgres } from '../postgres-client.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { expectedTables, migrate, type Database, type Migration, type Sql, type SqlValue } from './sql.ts';

/**
 * The stores' SQL layer (sql.ts) on PostgreSQL, through src/postgres-client.ts (the owner
 * of `pg`): `?` placeholders become $1, $2…; a transaction runs on one pooled connection.
 * Opening checks the server answers and migrates under an advisory lock.
 */

/** `?` → `$n`, outside quoted strings and identifiers. Cached: the stores use a fixed set of statements. */
const converted = new Map<string, string>();
function numberPlaceholders(sql: string): string {
  let out = converted.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  let quote: string | undefined;
  out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  converted.set(sql, out);
  return out;
}

class PostgresSession implements Sql {
  readonly engine = 'postgres' as const;

  constructor(
    protected readonly pg: Postgres,
    private readonly on: PgQueryable,
  ) {}

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.pg.query<T>(numberPlaceholders(sql), params, this.on)).rows;
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.pg.query(numberPlaceholders(sql), params, this.on)).rowCount;
  }

  async exec(sql: string): Promise<void> {
    await this.pg.query(sql, [], this.on);
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.on !== this.pg.pool) return fn(this);
    return this.pg.transaction((client) => fn(new PostgresSession(this.pg, client)));
  }
}

class PostgresDatabase extends PostgresSession implements Database {
  private closed = false;

  constructor(pg: Postgres) {
    super(pg, pg.pool);
  }

  get name(): string {
    return this.pg.name;
  }

  get open(): boolean {
    return !this.closed;
  }

  async tables(): Promise<Set<string>> {
    const rows = await this.all<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
    return new Set(rows.map((r) => r.name.toLowerCase()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pg.close();
  }
}

export interface OpenPostgresOptions {
  /** Defaults to the product's PostgreSQL migrations; tests may pass their own list. */
  migrations?: readonly Migration[];
  /** Pool size (default 10). */
  maxConnections?: number;
}

/**
 * Connects to DATABASE_URL and brings its schema up to date, or throws a StateError whose
 * message is one line naming the database (without its password) and what to do.
 */
export async function openPostgresDatabase(url: string, options: OpenPostgresOptions = {}): Promise<Database> {
  const migrations = options.migrations ?? POSTGRES_MIGRATIONS;
  const pg = createPostgres(url, { ...(options.maxConnections ? { max: options.maxConnections } : {}) });
  const db = new PostgresDatabase(pg);
  try {
    await pg.check();
    await migrate(db, migrations);
    const present = await db.tables();
    const missing = expectedTables(migrations).filter((t) => !present.has(t));
    if (missing.length > 0) throw new StateError(`store: ${pg.name} has lost tables its migrations created (${missing.join(', ')}); restore it from a backup`);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
