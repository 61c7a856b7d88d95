/**
 * What retrieval asks of a vector index, whichever backend holds the vectors: hnswlib in
 * this process (hnsw-vector-search.ts, the default) or pgvector in PostgreSQL
 * (pgvector-index.ts). Labels are chunk ordinals; vectors are unit length, so cosine
 * similarity is the score. Async because a database backend is.
 */

export type VectorBackend = 'hnswlib' | 'pgvector';

export interface VectorHit {
  label: number;
  /** Cosine similarity, 1 = identical direction. */
  score: number;
}

/**
 * The chunks a search may return (a question's districts, documents and years), as one
 * flag per chunk ordinal (1 = allowed) and the allowed share of the index. Retrieval
 * caches these per scope, so a backend may cache what it derives from one by identity.
 */
export interface VectorScope {
  flags: Uint8Array;
  share: number;
}

export interface VectorSearch {
  readonly backend: VectorBackend;
  readonly dimensions: number;
  /** Number of vectors (= chunks). */
  readonly size: number;
  /** Up to k nearest allowed chunks, nearest first; fewer only when the scope allows fewer. */
  search(query: Float32Array, k: number, scope?: VectorScope): Promise<VectorHit[]>;
  /** The stored vectors of these labels, in order (an incremental build keeps unchanged chunks' vectors). */
  vectorsOf(labels: readonly number[]): Promise<Float32Array[]>;
  /** Releases what the index holds open (a database pool it opened itself). */
  close(): Promise<void>;
}

/**
 * The name of a table holding one build's vectors in PostgreSQL (pgvector-index.ts): checked
 * before it is used in SQL. Here, not there, so that reading a manifest never loads the driver.
 */
export const PGVECTOR_TABLE = /^plan_vectors_[a-z0-9_]{1,48}$/;
