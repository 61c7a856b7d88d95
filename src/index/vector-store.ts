import path from 'node:path';
import type { IndexConfig } from '../config.ts';
import { IndexCorruptError, IndexMismatchError } from '../errors.ts';
import type { Postgres } from '../postgres-client.ts';
import { HnswVectorSearch } from './hnsw-vector-search.ts';
import type { IndexManifest } from './index-store.ts';
import { HnswVectorIndex } from './vector-index.ts';
import { createVectorIndexWriter, type VectorIndexWriter, type VectorIndexWriterOptions } from './vector-index-writer.ts';
import type { PartitionPlan } from './vector-partitions.ts';
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

/** The backend a build's vectors are in. */
export function manifestVectorBackend(manifest: IndexManifest): VectorBackend {
  return manifest.vectorStore.backend;
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
  /** The next chunk's vector and its partition (PartitionPlan; a database backend ignores it). */
  add(vector: Float32Array, partition: number): Promise<void>;
  /** Writes the searchable form (files in the build folder `dir`, or a table) and says where it is. */
  finish(dir: string): Promise<VectorStoreRecord>;
  /**
   * After the build folder is committed (true: drops what it replaced, pgvector tables two
   * builds old) or abandoned (false: drops what this build wrote).
   */
  settle(committed: boolean): Promise<void>;
}

/** The file of partition p's HNSW index in a build folder. */
const hnswFile = (p: number) => `hnsw-${p}.bin`;

class HnswSink implements BuildVectorSink {
  private readonly writer: VectorIndexWriter;
  private readonly counts: number[];
  constructor(
    dimensions: number,
    private readonly plan: PartitionPlan,
    options?: VectorIndexWriterOptions,
  ) {
    this.writer = createVectorIndexWriter(dimensions, plan.partitions.map((p) => p.chunks), options);
    this.counts = plan.partitions.map(() => 0);
  }
  async add(vector: Float32Array, partition: number): Promise<void> {
    await this.writer.add(vector, partition);
    this.counts[partition]!++;
  }
  async finish(dir: string): Promise<VectorStoreRecord> {
    const files = this.plan.partitions.map((_, p) => hnswFile(p));
    await this.writer.save(files.map((f) => path.join(dir, f)));
    return { backend: 'hnswlib', partitions: this.plan.partitions.map((p, i) => ({ file: files[i]!, districts: p.districts, count: this.counts[i]! })) };
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

  async finish(): Promise<VectorStoreRecord> {
    const { PgvectorIndex } = await pgvector();
    this.table = await PgvectorIndex.write(this.db, this.vectors, this.dimensions, this.origin);
    this.vectors.length = 0;
    return { backend: 'pgvector', table: this.table, database: this.db.name };
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

/** The sink config asks for (VECTOR_BACKEND); `plan`: the partitions of the chunks to come. */
export async function openVectorSink(
  index: IndexConfig,
  dimensions: number,
  plan: PartitionPlan,
  options: { postgres?: Postgres; hnsw?: VectorIndexWriterOptions } = {},
): Promise<BuildVectorSink> {
  if (index.vectors.backend === 'hnswlib') return new HnswSink(dimensions, plan, options.hnsw);
  const { vectorOrigin } = await pgvector();
  const db = options.postgres ?? (await openDatabase(index, 'vectors are to be written'));
  return new PgvectorSink(db, !options.postgres, dimensions, vectorOrigin(index.stateDir));
}

/** An HNSW sink outside any config (the scale bench). */
export function hnswVectorSink(dimensions: number, plan: PartitionPlan, options?: VectorIndexWriterOptions): BuildVectorSink {
  return new HnswSink(dimensions, plan, options);
}

/** Opens the vectors of the build in `dir` for search, wherever its manifest says they are. */
export async function openVectors(dir: string, manifest: IndexManifest, index: IndexConfig, postgres?: Postgres): Promise<VectorSearch> {
  const store = manifest.vectorStore;
  if (store.backend === 'hnswlib') {
    const partitions = await Promise.all(store.partitions.map((p) => HnswVectorIndex.load(path.join(dir, p.file), manifest.embedder.dimensions, p.count)));
    const search = new HnswVectorSearch(partitions);
    if (search.size !== manifest.chunkCount)
      throw new IndexCorruptError(`index: manifest in ${dir} lists ${manifest.chunkCount} chunks, its vector partitions hold ${search.size}; run \`npm run ingest -- --rebuild\``);
    return search;
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
