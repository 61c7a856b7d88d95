import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { IndexCorruptError, IndexMismatchError, PlanQaError, StateError } from '../errors.ts';
import { isUniqueViolation, toStateError, type PgClient, type Postgres } from '../postgres-client.ts';
import { PGVECTOR_TABLE } from './vector-search.ts';
import type { VectorBackend, VectorHit, VectorScope, VectorSearch } from './vector-search.ts';

/**
 * The pgvector backend: an index's vectors in PostgreSQL, searched through an HNSW index
 * (cosine), for corpora whose vectors outgrow one process's memory. The database handle
 * comes from postgres-client.ts (the owner of `pg`); this file owns the SQL.
 *
 * Each build writes a table of its own, `plan_vectors_<build>`, in one transaction: the
 * table, its rows, its HNSW index and its row in `plan_vector_builds` commit together, so
 * no query ever sees a half-written build. The build's manifest (on disk, switched in by
 * rename) names the table only after that commit; until then every reader keeps the
 * previous build's table, which is dropped only two builds later.
 *
 * A scope (a question's districts or years) is a WHERE on the chunk ordinal. HNSW with a
 * WHERE filters after the graph walk and may return too few rows; pgvector 0.8's iterative
 * scan walks on until LIMIT rows pass, and whatever still comes back short is answered
 * exactly. A narrow scope is answered exactly from the start (through the primary key):
 * a few thousand distances cost less than a graph walk that discards most of what it finds.
 * A search is one call of a SQL function (SEARCH_FUNCTION_SQL): one round trip.
 */

const REGISTRY = 'plan_vector_builds';
/** Versioned: a changed function gets a new name, so builds of both versions can coexist. */
const SEARCH_FN = 'plan_vectors_search_v1';
const SEARCH_SIGNATURE = `${SEARCH_FN}(text,text,vector,integer,integer,integer[],bytea,boolean,integer)`;

/**
 * One search in one round trip. Planner and HNSW settings are made with set_config(…, true):
 * local to the statement's own transaction, so nothing leaks into the pooled connection.
 * The dynamic query names the table with %I; the vector and the scope are parameters.
 * - ids: only these ordinals, searched exactly (no index scan: the rows come by primary key);
 * - bits: a bitmap of allowed ordinals, through the HNSW index with an iterative scan that
 *   walks on until k rows pass (at most max_scan tuples), or exactly when `exact`.
 */
const SEARCH_FUNCTION_SQL = `
CREATE OR REPLACE FUNCTION ${SEARCH_FN}(tbl text, typ text, q vector, k integer, ef integer, ids integer[], bits bytea, exact boolean, max_scan integer)
RETURNS TABLE (ordinal integer, distance double precision) LANGUAGE plpgsql AS $fn$
DECLARE
  dist text := format('embedding <=> $1::%s', typ);
  filter text := CASE WHEN ids IS NOT NULL THEN ' WHERE ordinal = ANY($2)' WHEN bits IS NOT NULL THEN ' WHERE get_bit($3, ordinal) = 1' ELSE '' END;
BEGIN
  IF typ NOT IN ('vector', 'halfvec') THEN
    RAISE EXCEPTION 'plan_vectors_search: typ must be vector or halfvec';
  END IF;
  PERFORM set_config('hnsw.ef_search', ef::text, true);
  IF exact OR ids IS NOT NULL THEN
    PERFORM set_config('enable_indexscan', 'off', true);
  ELSIF bits IS NOT NULL THEN
    PERFORM set_config('hnsw.iterative_scan', 'strict_order', true);
    PERFORM set_config('hnsw.max_scan_tuples', max_scan::text, true);
    -- The filter's selectivity is unknown to the planner: without this it may sort the whole table.
    PERFORM set_config('enable_seqscan', 'off', true);
  END IF;
  RETURN QUERY EXECUTE format('SELECT ordinal, (%s)::double precision FROM %I%s ORDER BY %s LIMIT %s', dist, tbl, filter, dist, k) USING q, ids, bits;
END
$fn$`;
/** Iterative index scans (hnsw.iterative_scan) came in pgvector 0.8.0. */
const MIN_VERSION = [0, 8, 0] as const;
const REBUILD = 'run `npm run ingest -- --rebuild`';

export interface PgvectorOptions {
  /** HNSW graph degree and build beam (pgvector's defaults). */
  m?: number;
  efConstruction?: number;
  /**
   * HNSW search beam; raised to k when k is larger. 100, not pgvector's 40: on 20,000
   * clustered vectors of 1,024 dims (bench, VECTOR_BENCH_CHUNKS) recall of the top 30 was
   * 0.49 at 40, 0.72 at 64 and 0.82 at 100, for under a millisecond more.
   */
  efSearch?: number;
  /**
   * A scope allowing at most this many chunks is searched exactly. On 20,000 vectors of
   * 1,024 dims (local PostgreSQL 15, pgvector 0.8.6) exact beat the HNSW iterative scan at
   * every scope of up to 2,000 chunks: 2.9 vs 96 ms for 400, 12 vs 53 ms for 1,000, 21 vs
   * 26 ms for 2,000 (p50, 30 neighbours, on a busy machine).
   */
  exactScopeLimit?: number;
  /** Upper bound on each statement of a build (creating the HNSW index is the long one). */
  buildTimeoutMs?: number;
}

const DEFAULTS = { m: 16, efConstruction: 64, efSearch: 100, exactScopeLimit: 2000, buildTimeoutMs: 3_600_000 } as const;

/** vector up to 2,000 dimensions (HNSW's limit for it), halfvec up to 4,000. */
function columnType(dimensions: number): 'vector' | 'halfvec' {
  if (dimensions <= 2000) return 'vector';
  if (dimensions <= 4000) return 'halfvec';
  throw new IndexMismatchError(`vector-index: pgvector's HNSW index takes at most 4000 dims, the embedder gives ${dimensions}; set EMBEDDING_DIMENSIONS or VECTOR_BACKEND=hnswlib`);
}

/**
 * pgvector's binary form of a vector (int16 dims, int16 unused, float4 each, big-endian):
 * node-postgres sends a Buffer parameter as binary, which the server reads without parsing
 * text (ten times faster to load than '[…]' literals).
 */
function binaryVector(v: Float32Array): Buffer {
  const buf = Buffer.allocUnsafe(4 + v.length * 4);
  buf.writeInt16BE(v.length, 0);
  buf.writeInt16BE(0, 2);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new IndexMismatchError('vector-index: a vector holds a value that is not a finite number');
    buf.writeFloatBE(v[i]!, 4 + i * 4);
  }
  return buf;
}

/** Which state folder a build came from: builds are pruned only by the folder that made them. */
export function vectorOrigin(stateDir: string): string {
  return createHash('sha256').update(`${os.hostname()}:${stateDir}`).digest('hex').slice(0, 16);
}

async function run<T>(db: Postgres, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // postgres-client's translation says "store: …"; say what really failed. Our own errors pass as they are.
    if (err instanceof StateError && !err.message.startsWith('vector-index:') && err.cause) {
      // A transaction passes on what was thrown inside it as a StateError: ours come out as they were.
      if (err.cause instanceof PlanQaError) throw err.cause;
      throw toStateError(db.name, what, err.cause);
    }
    if (err instanceof PlanQaError) throw err;
    throw toStateError(db.name, what, err);
  }
}

function driverMessage(err: unknown): string {
  const cause = (err instanceof StateError ? err.cause : err) as { code?: string; message?: string } | undefined;
  return `${cause?.code ? `${cause.code}: ` : ''}${(cause?.message ?? String(err)).split('\n')[0]}`;
}

/** Fails with a StateError saying how to install pgvector when it is missing or too old. */
async function checkExtension(db: Postgres, create: boolean): Promise<void> {
  const installed = async () => (await db.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).rows[0]?.extversion;
  let version = await installed();
  if (version === undefined && create) {
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (err) {
      throw new StateError(
        `vector-index: pgvector is not available in ${db.name} (${driverMessage(err)}); install pgvector on the server and run \`CREATE EXTENSION vector\` there as a superuser (README: Vectors in PostgreSQL)`,
        { cause: err },
      );
    }
    version = await installed();
  }
  if (version === undefined) throw new StateError(`vector-index: pgvector is not installed in ${db.name}; run \`CREATE EXTENSION vector\` there as a superuser (README: Vectors in PostgreSQL)`);
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const diff = MIN_VERSION.map((min, i) => (parts[i] ?? 0) - min).find((d) => d !== 0) ?? 0;
  if (diff < 0) throw new StateError(`vector-index: pgvector ${version} in ${db.name} is too old; ${MIN_VERSION.join('.')} or newer is needed (upgrade it, then ALTER EXTENSION vector UPDATE)`);
}

async function searchFunctionExists(db: Postgres): Promise<boolean> {
  return (await db.query<{ fn: string | null }>('SELECT to_regprocedure($1)::text AS fn', [SEARCH_SIGNATURE])).rows[0]?.fn != null;
}

/** The chunk ordinals a scope allows, in the forms the SQL takes; cached per scope object. */
interface ScopeSql {
  allowed: number;
  /** The allowed ordinals, only for a scope searched exactly. */
  ordinals?: number[];
  /** A bitmap: bit n (byte n>>3, bit n&7) = ordinal n allowed, as get_bit reads a bytea. */
  bitmap?: Buffer;
}

export class PgvectorIndex implements VectorSearch {
  readonly backend: VectorBackend = 'pgvector';
  private readonly options: Required<PgvectorOptions>;
  private readonly type: 'vector' | 'halfvec';
  private readonly scopes = new WeakMap<Uint8Array, ScopeSql>();
  /** Scoped searches whose iterative scan came back short and were answered exactly (for metrics and tests). */
  exactFallbacks = 0;

  private constructor(
    private readonly db: Postgres,
    readonly table: string,
    readonly dimensions: number,
    readonly size: number,
    private readonly ownsDb: boolean,
    options: PgvectorOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.type = columnType(dimensions);
  }

  /**
   * Writes one build's vectors (label = position) into a new table with its HNSW index,
   * all in one transaction, and returns the table's name for the manifest.
   */
  static async write(db: Postgres, vectors: readonly Float32Array[], dimensions: number, origin: string, options: PgvectorOptions = {}): Promise<string> {
    const o = { ...DEFAULTS, ...options };
    const type = columnType(dimensions);
    const table = `plan_vectors_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    await run(db, 'vector-index: preparing the database', async () => {
      await checkExtension(db, true);
      // Two builds preparing at once: the loser's CREATE fails on a catalog's unique key, and the object is there.
      const tolerateRace = (err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
      };
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${REGISTRY} (table_name text PRIMARY KEY, origin text NOT NULL, dimensions integer NOT NULL, count integer NOT NULL, built_at timestamptz NOT NULL DEFAULT now())`,
      ).catch(tolerateRace);
      if (!(await searchFunctionExists(db))) await db.query(SEARCH_FUNCTION_SQL).catch(tolerateRace);
    });
    // A vector row kept in the table's page (not TOASTed) is read without decompression.
    const rowBytes = 8 + dimensions * (type === 'vector' ? 4 : 2);
    const rowsPerInsert = Math.max(1, Math.min(1000, Math.floor(4_000_000 / (dimensions * 4))));
    // halfvec has no binary input of float4s: the rows arrive as vector and are cast.
    const value = type === 'vector' ? 'vector' : 'vector::halfvec';
    await run(db, `vector-index: writing ${vectors.length} vectors to ${table}`, () =>
      db.transaction(async (client: PgClient) => {
        await client.query(`SET LOCAL statement_timeout = ${Math.round(o.buildTimeoutMs)}`);
        await client.query(`CREATE TABLE ${table} (ordinal integer PRIMARY KEY, embedding ${type}(${dimensions}) NOT NULL)`);
        if (rowBytes <= 8000) await client.query(`ALTER TABLE ${table} ALTER COLUMN embedding SET STORAGE PLAIN`);
        for (let start = 0; start < vectors.length; start += rowsPerInsert) {
          const batch = vectors.slice(start, start + rowsPerInsert);
          const params = batch.flatMap((v, i) => {
            if (v.length !== dimensions) throw new IndexMismatchError(`vector-index: expected ${dimensions} dims, got ${v.length} for item ${start + i}`);
            return [start + i, binaryVector(v)];
          });
          const rows = batch.map((_, i) => `($${2 * i + 1}::integer, $${2 * i + 2}::${value})`).join(', ');
          await client.query(`INSERT INTO ${table} (ordinal, embedding) VALUES ${rows}`, params);
        }
        await client.query(`CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding ${type}_cosine_ops) WITH (m = ${o.m}, ef_construction = ${o.efConstruction})`);
        await client.query(`ANALYZE ${table}`);
        await client.query(`INSERT INTO ${REGISTRY} (table_name, origin, dimensions, count) VALUES ($1, $2, $3, $4)`, [table, origin, dimensions, vectors.length]);
      }),
    );
    return table;
  }

  /**
   * Drops the tables of this origin's older builds, keeping the newest `retain` (the one
   * just switched in and the one before it, which a process that has not reloaded yet may
   * still be searching) and any named in `keep`.
   */
  static async prune(db: Postgres, origin: string, keep: readonly string[], retain = 2): Promise<string[]> {
    return run(db, 'vector-index: dropping old builds', async () => {
      const { rows } = await db.query<{ table_name: string }>(`SELECT table_name FROM ${REGISTRY} WHERE origin = $1 ORDER BY built_at DESC, table_name DESC`, [origin]);
      const drop = rows.slice(retain).map((r) => r.table_name).filter((t) => !keep.includes(t));
      for (const table of drop) await PgvectorIndex.drop(db, table);
      return drop;
    });
  }

  /** Drops one build's table and its registry row (a build whose folder could not be written). */
  static async drop(db: Postgres, table: string): Promise<void> {
    if (!PGVECTOR_TABLE.test(table)) return;
    await run(db, `vector-index: dropping ${table}`, () =>
      db.transaction(async (client) => {
        await client.query(`DROP TABLE IF EXISTS ${table}`);
        await client.query(`DELETE FROM ${REGISTRY} WHERE table_name = $1`, [table]);
      }),
    );
  }

  /**
   * Connects to a build's table. A table that is missing or disagrees with the manifest is
   * an IndexCorruptError (the index is rebuilt); an unreachable database a StateError.
   * `ownsDb`: close() closes the handle too.
   */
  static async open(db: Postgres, table: string, dimensions: number, expectedCount: number, options: PgvectorOptions & { ownsDb?: boolean } = {}): Promise<PgvectorIndex> {
    if (!PGVECTOR_TABLE.test(table)) throw new IndexCorruptError(`vector-index: "${table}" is not a vector table name; ${REBUILD}`);
    return run(db, `vector-index: opening ${table}`, async () => {
      await checkExtension(db, false);
      const registry = await db.query<{ present: string | null }>('SELECT to_regclass($1)::text AS present', [REGISTRY]);
      const row = registry.rows[0]?.present
        ? (await db.query<{ dimensions: number; count: number }>(`SELECT dimensions, count FROM ${REGISTRY} WHERE table_name = $1`, [table])).rows[0]
        : undefined;
      if (!row || !(await searchFunctionExists(db))) throw new IndexCorruptError(`vector-index: the index's vectors (table ${table}) are not in ${db.name}; ${REBUILD}`);
      if (row.dimensions !== dimensions) throw new IndexCorruptError(`vector-index: expected ${dimensions} dims, got ${row.dimensions} in table ${table}; ${REBUILD}`);
      if (row.count !== expectedCount) throw new IndexCorruptError(`vector-index: expected ${expectedCount} vectors, found ${row.count} in table ${table}; ${REBUILD}`);
      const { ownsDb = false, ...rest } = options;
      return new PgvectorIndex(db, table, dimensions, expectedCount, ownsDb, rest);
    });
  }

  async search(query: Float32Array, k: number, scope?: VectorScope): Promise<VectorHit[]> {
    if (query.length !== this.dimensions) throw new IndexMismatchError(`vector-index: expected ${this.dimensions} dims, got ${query.length}`);
    let n = Math.min(k, this.size);
    if (n <= 0) return [];
    const q = binaryVector(query);
    if (!scope) return this.query(q, n);
    const sql = this.scopeSql(scope);
    n = Math.min(n, sql.allowed);
    if (n === 0) return [];
    if (sql.ordinals) return this.query(q, n, { ids: sql.ordinals });
    // Enough tuples for the scope's share to yield n rows several times over.
    const maxScan = Math.max(20_000, Math.ceil((n / scope.share) * 8));
    const hits = await this.query(q, n, { bits: sql.bitmap!, maxScan });
    if (hits.length >= n) return hits;
    this.exactFallbacks++;
    return this.query(q, n, { bits: sql.bitmap!, exact: true });
  }

  /**
   * The stored vectors of these labels, in order: what an incremental build reuses instead
   * of embedding again when the previous build's vectors are here.
   */
  async vectorsOf(labels: readonly number[]): Promise<Float32Array[]> {
    const { rows } = await run(this.db, `vector-index: reading vectors from ${this.table}`, () =>
      this.db.query<{ ordinal: number; embedding: string }>(`SELECT ordinal, embedding::vector::text AS embedding FROM ${this.table} WHERE ordinal = ANY($1::integer[])`, [labels]),
    );
    const byLabel = new Map(rows.map((r) => [r.ordinal, r.embedding]));
    return labels.map((label) => {
      const text = byLabel.get(label);
      if (text === undefined) throw new IndexCorruptError(`vector-index: no vector ${label} in table ${this.table}; ${REBUILD}`);
      // pgvector prints a vector as a JSON array of numbers.
      return Float32Array.from(JSON.parse(text) as number[]);
    });
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.close();
  }

  private async query(q: Buffer, k: number, where: { ids?: number[]; bits?: Buffer; exact?: boolean; maxScan?: number } = {}): Promise<VectorHit[]> {
    const ef = Math.min(1000, Math.max(this.options.efSearch, k));
    const { rows } = await run(this.db, `vector-index: searching ${this.table}`, () =>
      this.db.query<{ ordinal: number; distance: number }>(`SELECT ordinal, distance FROM ${SEARCH_FN}($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        this.table,
        this.type,
        q,
        k,
        ef,
        where.ids ?? null,
        where.bits ?? null,
        where.exact ?? false,
        where.maxScan ?? 20_000,
      ]),
    );
    return rows.map((r) => ({ label: r.ordinal, score: 1 - r.distance }));
  }

  private scopeSql(scope: VectorScope): ScopeSql {
    let sql = this.scopes.get(scope.flags);
    if (sql) return sql;
    const { flags } = scope;
    let allowed = 0;
    for (let i = 0; i < flags.length; i++) allowed += flags[i] === 1 ? 1 : 0;
    if (allowed <= this.options.exactScopeLimit) {
      const ordinals: number[] = [];
      for (let i = 0; i < flags.length; i++) if (flags[i] === 1) ordinals.push(i);
      sql = { allowed, ordinals };
    } else {
      const bits = Buffer.alloc(Math.ceil(this.size / 8));
      for (let i = 0; i < Math.min(flags.length, this.size); i++) if (flags[i] === 1) bits[i >> 3] = bits[i >> 3]! | (1 << (i & 7));
      sql = { allowed, bitmap: bits };
    }
    this.scopes.set(flags, sql);
    return sql;
  }
}
