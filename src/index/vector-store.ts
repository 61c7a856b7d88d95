import path from 'node:path';
import type { IndexConfig } from '../config.ts';
import { IndexMismatchError } from '../errors.ts';
import type { Postgres } from '../postgres-client.ts';
import { HnswVectorSearch } from './hnsw-vector-search.ts';
import type { IndexManifest } from './index-store.ts';
import { HnswVectorIndex, type VectorIndexOptions } from './vector-index.ts';
import { createVectorIndexWriter, type VectorIndexWriter } from './vector-index-writer.ts';
import type { VectorBackend, VectorSearch } from './vector-search.ts';

/**
 * Which backend holds a build's searchable vectors, as config asks (VECTOR_BACKEND) and
 * as the manifest records: writing them at build time and opening them at load time.
 * The next build reuses a kept chunk's vector from whichever backend holds it
 * (VectorSearch.vectorsOf).
 *
 * The PostgreSQL handle is passed in by a caller that holds one for the process (main);
 * without one, a handle is opened from DATABASE_URL and closed with the index (or at the
 * end of the build).
 */

export type VectorStoreRecord = NonNullable<IndexManifest['vectorStore']>;

/** The backend a build's vectors are in (builds before the choice existed: hnswlib). */
export function manifestVectorBackend(manifest: IndexManifest): VectorBackend {
  return manifest.vectorStore?.backend ?? 'hnswlib';
}

/**
 * PostgreSQL's driver and the pgvector backend, loaded only for a build whose vectors are
 * there: a process on hnswlib (the default) never loads them, and starts faster.
 */
async function pgvector() {
  const [{ PgvectorIndex, vectorOrigin }, { createPostgres }] = await Promise.all([import('./pgvector-index.ts'), import('../postgres-client.ts')]);
  return { PgvectorIndex, vectorOrigin, createPostgres };
}

async function openDatabase(index: IndexConfig, what: string): Promise<Postgres> {
  if (index.vectors.backend !== 'pgvector')
    throw new IndexMismatchError(`index: ${what} in PostgreSQL (pgvector) but VECTOR_BACKEND is hnswlib; set VECTOR_BACKEND=pgvector and DATABASE_URL, or re-ingest`);
  const { createPostgres } = await pgvector();
  return createPostgres(index.vectors.databaseUrl, { max: 4, applicationName: 'plan-qa-bot vectors', allowExitOnIdle: true });
}

/**
 * Where a build's vectors go as they are made, in label order: the HNSW index file (built
 * in a worker thread for large builds, vector-index-writer.ts), or a PostgreSQL table
 * written when the build finishes (one transaction: never visible half-written).
 */
export interface BuildVectorSink {
  add(vector: Float32Array): Promise<void>;
  /** Writes the searchable form; `hnswFile` names the build folder's HNSW file, when there is one. */
  finish(dir: string): Promise<{ vectorStore: VectorStoreRecord; hnswFile?: string }>;
  /**
   * After the build folder is committed (true: drops what it replaced, pgvector tables two
   * builds old) or abandoned (false: drops what this build wrote).
   */
  settle(committed: boolean): Promise<void>;
}

const HNSW_FILE = 'hnsw.bin';

class HnswSink implements BuildVectorSink {
  constructor(private readonly writer: VectorIndexWriter) {}
  add(vector: Float32Array): Promise<void> {
    return this.writer.add(vector);
  }
  async finish(dir: string): Promise<{ vectorStore: VectorStoreRecord; hnswFile: string }> {
    await this.writer.save(path.join(dir, HNSW_FILE));
    return { vectorStore: { backend: 'hnswlib' }, hnswFile: HNSW_FILE };
  }
  async settle(committed: boolean): Promise<void> {
    if (!committed) await this.writer.close();
  }
}

/**
 * Holds the build's vectors until the table is written at the end (4 bytes a dimension a
 * chunk: a million 1,024-dimension vectors are 4 GB), since a table is written and indexed
 * in one transaction.
 */
class PgvectorSink implements BuildVectorSink {
  private readonly vectors: Float32Array[] = [];
  private table: string | undefined;

  constructor(
    private readonly db: Postgres,
    private readonly ownsDb: boolean,
    private readonly dimensions: number,
    private readonly origin: string,
  ) {}

  async add(vector: Float32Array): Promise<void> {
    this.vectors.push(vector);
  }

  async finish(): Promise<{ vectorStore: VectorStoreRecord }> {
    const { PgvectorIndex } = await pgvector();
    this.table = await PgvectorIndex.write(this.db, this.vectors, this.dimensions, this.origin);
    this.vectors.length = 0;
    return { vectorStore: { backend: 'pgvector', table: this.table, database: this.db.name } };
  }

  async settle(committed: boolean): Promise<void> {
    const { PgvectorIndex } = await pgvector();
    try {
      if (committed && this.table) await PgvectorIndex.prune(this.db, this.origin, [this.table]);
      else if (this.table) await PgvectorIndex.drop(this.db, this.table);
    } finally {
      if (this.ownsDb) await this.db.close();
    }
  }
}

/** The sink config asks for (VECTOR_BACKEND); `capacity`: the chunks expected. */
export async function openVectorSink(
  index: IndexConfig,
  dimensions: number,
  capacity: number,
  options: { postgres?: Postgres; hnsw?: VectorIndexOptions & { thread?: boolean } } = {},
): Promise<BuildVectorSink> {
  if (index.vectors.backend === 'hnswlib') return new HnswSink(createVectorIndexWriter(dimensions, capacity, options.hnsw));
  const { vectorOrigin } = await pgvector();
  const db = options.postgres ?? (await openDatabase(index, 'vectors are to be written'));
  return new PgvectorSink(db, !options.postgres, dimensions, vectorOrigin(index.stateDir));
}

/** An HNSW sink outside any config (the scale bench). */
export function hnswVectorSink(dimensions: number, capacity: number, options?: VectorIndexOptions & { thread?: boolean }): BuildVectorSink {
  return new HnswSink(createVectorIndexWriter(dimensions, capacity, options));
}

/** Opens the vectors of the build in `dir` for search, wherever its manifest says they are. */
export async function openVectors(dir: string, manifest: IndexManifest, index: IndexConfig, postgres?: Postgres): Promise<VectorSearch> {
  const store = manifest.vectorStore ?? { backend: 'hnswlib' };
  if (store.backend === 'hnswlib') {
    if (!manifest.files.hnsw) throw new IndexMismatchError(`index: manifest in ${dir} names no hnsw file; run \`npm run ingest -- --rebuild\``);
    return new HnswVectorSearch(await HnswVectorIndex.load(path.join(dir, manifest.files.hnsw), manifest.embedder.dimensions, manifest.chunkCount));
  }
  const { PgvectorIndex } = await pgvector();
  const db = postgres ?? (await openDatabase(index, `the index's vectors are`));
  try {
    return await PgvectorIndex.open(db, store.table, manifest.embedder.dimensions, manifest.chunkCount, { ownsDb: !postgres });
  } catch (err) {
    if (!postgres) await db.close();
    throw err;
  }
}
