import path from 'node:path';
import type { IndexConfig } from '../config.ts';
import { IndexCorruptError, IndexMismatchError, StateError } from '../errors.ts';
import type { Postgres } from '../postgres-client.ts';
import { HnswVectorSearch } from './hnsw-vector-search.ts';
import type { IndexManifest } from './index-store.ts';
import { HnswVectorIndex } from './vector-index.ts';
import { createVectorIndexWriter, type VectorIndexWriter, type VectorIndexWriterOptions } from './vector-index-writer.ts';
import type { PartitionPlan } from './vector-partitions.ts';
import { foldVector, type Embedder } from './embedder.ts';
import { HalfVectors, HalfVectorWriter } from './half-vectors.ts';
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
  /** Before the first vector: the build folder its files go to. */
  start(dir: string): Promise<void>;
  /** The next chunk's vector and its partition (PartitionPlan; a database backend ignores it). */
  add(vector: Float32Array, partition: number): Promise<void>;
  /** Writes the searchable form (files in the build folder, or a table) and says where it is. */
  finish(): Promise<VectorStoreRecord>;
  /**
   * After the build folder is committed (true: drops what it replaced, pgvector tables two
   * builds old) or abandoned (false: drops what this build wrote).
   */
  settle(committed: boolean): Promise<void>;
}

/** The file of partition p's HNSW index in a build folder. */
const hnswFile = (p: number) => `hnsw-${p}.bin`;
/** The full vectors of a two-stage build, in half precision (half-vectors.ts). */
const RERANK_FILE = 'vectors-f16.bin';

/**
 * Vectors of this many dimensions or more, from an embedder whose vectors fold
 * (Embedder.foldable), are searched in two stages: HNSW over the vectors folded to half
 * their dimensions finds candidates, and the full vectors, kept in half precision,
 * re-rank them (hnsw-vector-search.ts). HNSW insertion, most of a large build's time,
 * costs half as much at half the dimensions (on 10,000 of the scale bench's passages: 400
 * against 823 µs a vector, `bench/bench-hnsw-params.ts --nav-dims 512`), and the re-ranked
 * results were nearer the exact ones than one HNSW search over the full vectors (recall@10
 * 0.984 against 0.956).
 */
const TWO_STAGE_MIN_DIMENSIONS = 1024;

/** The dimensions a build's HNSW index is made over for this embedder: half its own when its vectors fold, else undefined (one stage). */
export function navigationDimensions(embedder: Pick<Embedder, 'info' | 'foldable'>): number | undefined {
  const dims = embedder.info.dimensions;
  return embedder.foldable && dims >= TWO_STAGE_MIN_DIMENSIONS && dims % 2 === 0 ? dims / 2 : undefined;
}

export interface HnswSinkOptions extends VectorIndexWriterOptions {
  /** Build the HNSW index over vectors folded to this many dimensions, and keep the full ones to re-rank (navigationDimensions). */
  navigation?: number;
}

class HnswSink implements BuildVectorSink {
  private readonly writer: VectorIndexWriter;
  private readonly counts: number[];
  private readonly navigation: number | undefined;
  private dir: string | undefined;
  private rerank: HalfVectorWriter | undefined;
  /** The vector as stored in half precision, and its fold: reused for every vector (the writer copies them). */
  private readonly rounded: Float32Array;
  private readonly folded: Float32Array | undefined;

  constructor(
    private readonly dimensions: number,
    private readonly plan: PartitionPlan,
    options: HnswSinkOptions = {},
  ) {
    const { navigation, ...writerOptions } = options;
    if (navigation !== undefined && !(navigation > 0 && dimensions % navigation === 0))
      throw new StateError(`vector-index: cannot fold ${dimensions} dimensions to ${navigation}`);
    this.navigation = navigation;
    this.writer = createVectorIndexWriter(navigation ?? dimensions, plan.partitions.map((p) => p.chunks), writerOptions);
    this.counts = plan.partitions.map(() => 0);
    this.rounded = new Float32Array(navigation ? dimensions : 0);
    this.folded = navigation ? new Float32Array(navigation) : undefined;
  }
  async start(dir: string): Promise<void> {
    this.dir = dir;
    if (this.navigation) this.rerank = new HalfVectorWriter(path.join(dir, RERANK_FILE), this.dimensions);
  }
  async add(vector: Float32Array, partition: number): Promise<void> {
    if (this.rerank && this.folded) {
      this.rerank.add(vector, this.rounded);
      await this.writer.add(foldVector(this.rounded, this.folded.length, this.folded), partition);
    } else {
      await this.writer.add(vector, partition);
    }
    this.counts[partition]!++;
  }
  async finish(): Promise<VectorStoreRecord> {
    if (this.dir === undefined) throw new StateError('vector-index: the sink was not started');
    const dir = this.dir;
    const files = this.plan.partitions.map((_, p) => hnswFile(p));
    this.rerank?.close();
    await this.writer.save(files.map((f) => path.join(dir, f)));
    return {
      backend: 'hnswlib',
      partitions: this.plan.partitions.map((p, i) => ({ file: files[i]!, districts: p.districts, count: this.counts[i]! })),
      ...(this.navigation ? { navigation: { dimensions: this.navigation, vectors: RERANK_FILE } } : {}),
    };
  }
  async settle(committed: boolean): Promise<void> {
    this.rerank?.abort();
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

  async start(): Promise<void> {}

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

/**
 * The sink config asks for (VECTOR_BACKEND) for this embedder's vectors; `plan`: the
 * partitions of the chunks to come.
 */
export async function openVectorSink(
  index: IndexConfig,
  embedder: Pick<Embedder, 'info' | 'foldable'>,
  plan: PartitionPlan,
  options: { postgres?: Postgres; hnsw?: VectorIndexWriterOptions } = {},
): Promise<BuildVectorSink> {
  const dimensions = embedder.info.dimensions;
  if (index.vectors.backend === 'hnswlib') {
    const navigation = navigationDimensions(embedder);
    return new HnswSink(dimensions, plan, { ...options.hnsw, ...(navigation ? { navigation } : {}) });
  }
  const { vectorOrigin } = await pgvector();
  const db = options.postgres ?? (await openDatabase(index, 'vectors are to be written'));
  return new PgvectorSink(db, !options.postgres, dimensions, vectorOrigin(index.stateDir));
}

/** An HNSW sink outside any config (the scale bench). */
export function hnswVectorSink(dimensions: number, plan: PartitionPlan, options?: HnswSinkOptions): BuildVectorSink {
  return new HnswSink(dimensions, plan, options);
}

/** Opens the vectors of the build in `dir` for search, wherever its manifest says they are. */
export async function openVectors(dir: string, manifest: IndexManifest, index: IndexConfig, postgres?: Postgres): Promise<VectorSearch> {
  const store = manifest.vectorStore;
  if (store.backend === 'hnswlib') {
    const { navigation } = store;
    const dims = manifest.embedder.dimensions;
    // HnswVectorSearch checks that the partitions' dimensions fold from the full vectors'.
    const [partitions, rerank] = await Promise.all([
      Promise.all(store.partitions.map((p) => HnswVectorIndex.load(path.join(dir, p.file), navigation?.dimensions ?? dims, p.count))),
      navigation ? HalfVectors.load(path.join(dir, navigation.vectors), dims, manifest.chunkCount) : undefined,
    ]);
    const search = new HnswVectorSearch(partitions, rerank);
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
