import path from 'node:path';
import type { IndexConfig } from '../config.ts';
import { IndexMismatchError } from '../errors.ts';
import { createPostgres, type Postgres } from '../postgres-client.ts';
import { HnswVectorSearch } from './hnsw-vector-search.ts';
import type { IndexManifest } from './index-store.ts';
import { PgvectorIndex, vectorOrigin } from './pgvector-index.ts';
import { HnswVectorIndex } from './vector-index.ts';
import type { VectorBackend, VectorSearch } from './vector-search.ts';

/**
 * Which backend holds a build's searchable vectors, as config asks (VECTOR_BACKEND) and
 * as the manifest records: writing them at build time and opening them at load time.
 * The raw vectors are always kept in the build folder too (vectors.f32): the next build
 * reuses them, whichever backend searches them.
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

function openDatabase(index: IndexConfig, what: string): Postgres {
  if (index.vectors.backend !== 'pgvector')
    throw new IndexMismatchError(`index: ${what} in PostgreSQL (pgvector) but VECTOR_BACKEND is hnswlib; set VECTOR_BACKEND=pgvector and DATABASE_URL, or re-ingest`);
  return createPostgres(index.vectors.databaseUrl, { max: 4, applicationName: 'plan-qa-bot vectors', allowExitOnIdle: true });
}

export interface WrittenVectors {
  vectorStore: VectorStoreRecord;
  writeHnsw?: (file: string) => Promise<void>;
  /**
   * After the build folder is written: when it was switched in, drops what it replaced
   * (pgvector tables two builds old); when writing it failed, drops its own table.
   */
  settle(switchedIn: boolean): Promise<void>;
}

/** Builds the configured backend's searchable form of `vectors` (label = position). */
export async function writeVectors(index: IndexConfig, vectors: Float32Array[], dimensions: number, postgres?: Postgres): Promise<WrittenVectors> {
  if (index.vectors.backend === 'hnswlib') {
    const hnsw = HnswVectorIndex.build(vectors, dimensions);
    return { vectorStore: { backend: 'hnswlib' }, writeHnsw: (file) => hnsw.save(file), settle: async () => {} };
  }
  const db = postgres ?? openDatabase(index, 'vectors are to be written');
  const origin = vectorOrigin(index.stateDir);
  try {
    const table = await PgvectorIndex.write(db, vectors, dimensions, origin);
    return {
      vectorStore: { backend: 'pgvector', table, database: db.name },
      settle: async (switchedIn) => {
        try {
          if (switchedIn) await PgvectorIndex.prune(db, origin, [table]);
          else await PgvectorIndex.drop(db, table);
        } finally {
          if (!postgres) await db.close();
        }
      },
    };
  } catch (err) {
    if (!postgres) await db.close();
    throw err;
  }
}

/** Opens the vectors of the build in `dir` for search, wherever its manifest says they are. */
export async function openVectors(dir: string, manifest: IndexManifest, index: IndexConfig, postgres?: Postgres): Promise<VectorSearch> {
  const store = manifest.vectorStore ?? { backend: 'hnswlib' };
  if (store.backend === 'hnswlib') {
    if (!manifest.files.hnsw) throw new IndexMismatchError(`index: manifest in ${dir} names no hnsw file; run \`npm run ingest -- --rebuild\``);
    return new HnswVectorSearch(await HnswVectorIndex.load(path.join(dir, manifest.files.hnsw), manifest.embedder.dimensions, manifest.chunkCount));
  }
  const db = postgres ?? openDatabase(index, `the index's vectors are`);
  try {
    return await PgvectorIndex.open(db, store.table, manifest.embedder.dimensions, manifest.chunkCount, { ownsDb: !postgres });
  } catch (err) {
    if (!postgres) await db.close();
    throw err;
  }
}
