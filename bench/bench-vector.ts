import { cpSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type Config } from '../src/config.ts';
import { InputError } from '../src/errors.ts';
import { ensureIndex } from '../src/index/ensure-index.ts';
import { l2Normalize } from '../src/index/embedder.ts';
import { HnswVectorSearch } from '../src/index/hnsw-vector-search.ts';

import { PgvectorIndex } from '../src/index/pgvector-index.ts';
import type { PlanIndex } from '../src/index/plan-index.ts';
import { HnswVectorIndex } from '../src/index/vector-index.ts';
import type { VectorScope, VectorSearch } from '../src/index/vector-search.ts';
import { silentLogger } from '../src/logger.ts';
import { createPostgres, type Postgres } from '../src/postgres-client.ts';
import { HybridRetriever } from '../src/retrieve/hybrid-retriever.ts';
import { startPgliteServer } from '../test/helpers/pglite-server.ts';
import { benchTempDir } from './bench-temp.ts';
import { percentiles, type Percentiles } from './bench-stats.ts';

/**
 * `--sections vector`: the same chunks searched by hnswlib in process and by pgvector in
 * PostgreSQL. The database is PGVECTOR_BENCH_URL's when set (a real server with pgvector;
 * the bench writes its own tables there and drops them at the next builds of the same
 * origin), otherwise PGlite (PostgreSQL compiled to WASM) served on 127.0.0.1: a test
 * stand-in whose speed is WASM's, not a native server's. The result says which.
 * VECTOR_BENCH_CHUNKS=N adds a run on N synthetic vectors (raw vector search, both backends).
 */

export interface VectorBackendTimes {
  /** Nearest 30 chunks of the whole corpus. */
  searchMs: Percentiles;
  /** Nearest 30 within one district (the scope a district question gets). */
  scopedSearchMs: Percentiles;
  /** The whole hybrid retrieval (BM25 + vectors + fusion + re-ranking). */
  retrieveMs: Percentiles;
  /** Share of the exact cosine top 30 found, unscoped and district-scoped. */
  recallAt30: number;
  scopedRecallAt30: number;
}

export interface VectorBenchResult {
  chunks: number;
  dimensions: number;
  database: string;
  pgvectorBuildMs: number;
  hnswlib: VectorBackendTimes;
  pgvector: VectorBackendTimes;
  /** With VECTOR_BENCH_CHUNKS=N: N synthetic vectors, raw vector search only. */
  synthetic?: SyntheticResult;
}

interface SyntheticTimes {
  buildMs: number;
  searchMs: Percentiles;
  /** Within a scope of a tenth of the chunks. */
  scopedSearchMs: Percentiles;
  recallAt30: number;
  scopedRecallAt30: number;
}

interface SyntheticResult {
  chunks: number;
  hnswlib: SyntheticTimes;
  pgvector: SyntheticTimes & { exactFallbacks: number };
}

/**
 * N vectors near the corpus's (each a corpus vector plus noise, normalized), so that they
 * cluster like real ones; queries are the bench questions' embeddings.
 */
async function benchSynthetic(base: readonly Float32Array[], queries: readonly Float32Array[], n: number, db: Postgres, log: (msg: string) => void): Promise<SyntheticResult> {
  let s = 42;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const dims = base[0]!.length;
  const vectors = Array.from({ length: n }, (_, i) => {
    const b = base[i % base.length]!;
    return l2Normalize(Float32Array.from(b, (x) => x + rnd() * 0.03));
  });
  const flags = Uint8Array.from({ length: n }, (_, i) => (i % 10 === 3 ? 1 : 0));
  const tenth: VectorScope = { flags, share: 0.1 };
  const exact = (q: Float32Array, scope?: VectorScope) =>
    new Set(
      vectors
        .map((v, label) => ({ label, score: dot(v, q) }))
        .filter((h) => !scope || scope.flags[h.label] === 1)
        .sort((a, b) => b.score - a.score)
        .slice(0, 30)
        .map((h) => h.label),
    );
  const truth = queries.map((q) => exact(q));
  const scopedTruth = queries.map((q) => exact(q, tenth));
  const run = async (index: VectorSearch, buildMs: number): Promise<SyntheticTimes> => {
    const plain: number[] = [];
    const scoped: number[] = [];
    let found = 0;
    let scopedFound = 0;
    for (let round = 0; round < 6; round++) {
      for (const [i, q] of queries.entries()) {
        let t = performance.now();
        const hits = await index.search(q, 30);
        const a = performance.now() - t;
        t = performance.now();
        const scopedHits = await index.search(q, 30, tenth);
        const b = performance.now() - t;
        if (round === 0) {
          found += hits.filter((h) => truth[i]!.has(h.label)).length;
          scopedFound += scopedHits.filter((h) => scopedTruth[i]!.has(h.label)).length;
        } else {
          plain.push(a);
          scoped.push(b);
        }
      }
    }
    const r = (x: number) => Math.round((x / (queries.length * 30)) * 1000) / 1000;
    return { buildMs: Math.round(buildMs), searchMs: percentiles(plain), scopedSearchMs: percentiles(scoped), recallAt30: r(found), scopedRecallAt30: r(scopedFound) };
  };
  let t = performance.now();
  const hnsw = new HnswVectorSearch([HnswVectorIndex.build(vectors, dims)]);
  const hnswlib = await run(hnsw, performance.now() - t);
  log(`vector: ${n} synthetic vectors: hnswlib built in ${hnswlib.buildMs} ms, search p50 ${hnswlib.searchMs.p50} ms, in a tenth ${hnswlib.scopedSearchMs.p50} ms`);
  t = performance.now();
  const table = await PgvectorIndex.write(db, vectors, dims, 'bench-synthetic');
  try {
    const pg = await PgvectorIndex.open(db, table, dims, n);
    const pgvector = { ...(await run(pg, performance.now() - t)), exactFallbacks: pg.exactFallbacks };
    log(`vector: ${n} synthetic vectors: pgvector built in ${pgvector.buildMs} ms, search p50 ${pgvector.searchMs.p50} ms, in a tenth ${pgvector.scopedSearchMs.p50} ms`);
    return { chunks: n, hnswlib, pgvector };
  } finally {
    await PgvectorIndex.drop(db, table);
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

async function measure(index: PlanIndex, vectors: readonly Float32Array[], questions: readonly string[], scopeFor: (q: string) => VectorScope): Promise<VectorBackendTimes> {
  const vector: VectorSearch = index.vector;
  const retriever = new HybridRetriever(index);
  const queries = await Promise.all(questions.map((q) => index.embedder.embedQuery(q)));
  const search: number[] = [];
  const scoped: number[] = [];
  const retrieve: number[] = [];
  for (let round = 0; round < 6; round++) {
    for (const [i, q] of questions.entries()) {
      let t = performance.now();
      await vector.search(queries[i]!, 30);
      const a = performance.now() - t;
      t = performance.now();
      await vector.search(queries[i]!, 30, scopeFor(q));
      const b = performance.now() - t;
      t = performance.now();
      await retriever.retrieve(q, 5);
      const c = performance.now() - t;
      if (round > 0) {
        search.push(a);
        scoped.push(b);
        retrieve.push(c);
      }
    }
  }
  const recall = async (scoped: boolean) => {
    let found = 0;
    for (const [i, q] of questions.entries()) {
      const scope = scoped ? scopeFor(q) : undefined;
      const exact = vectors
        .map((v, label) => ({ label, score: dot(v, queries[i]!) }))
        .filter((h) => !scope || scope.flags[h.label] === 1)
        .sort((x, y) => y.score - x.score)
        .slice(0, 30);
      const want = new Set(exact.map((h) => h.label));
      found += (await vector.search(queries[i]!, 30, scope)).filter((h) => want.has(h.label)).length / exact.length;
    }
    return Math.round((found / questions.length) * 1000) / 1000;
  };
  return {
    searchMs: percentiles(search),
    scopedSearchMs: percentiles(scoped),
    retrieveMs: percentiles(retrieve),
    recallAt30: await recall(false),
    scopedRecallAt30: await recall(true),
  };
}

export async function benchVector(config: Config, index: PlanIndex, questions: readonly string[], log: (msg: string) => void): Promise<VectorBenchResult> {
  if (index.vector.backend !== 'hnswlib') throw new InputError('bench: the vector section compares pgvector with hnswlib; run it with VECTOR_BACKEND unset (PGVECTOR_BENCH_URL names a real server)');
  const configured = process.env.PGVECTOR_BENCH_URL?.trim() || undefined;
  const pglite = configured ? undefined : await startPgliteServer();
  const url = configured ?? pglite!.url;
  const db = createPostgres(url, { max: 4, statementTimeoutMs: 600_000 });
  const state = benchTempDir('plan-qa-bench-vector-');
  let table: string | undefined;
  try {
    const server = (await db.query<{ version: string }>('SELECT version() AS version')).rows[0]!.version.split(' on ')[0]!;
    const extension = (await db.query<{ v: string }>("SELECT default_version AS v FROM pg_available_extensions WHERE name = 'vector'")).rows[0]?.v;
    const database = `${server}${pglite ? ' (PGlite, WASM)' : ''}, pgvector ${extension ?? '?'}`;
    log(`vector: pgvector on ${database}`);
    cpSync(config.index.stateDir, state.path, { recursive: true });
    const env = { STATE_DIR: state.path, CORPUS_DIR: config.index.corpusDir, LOG_LEVEL: 'silent', VECTOR_BACKEND: 'pgvector', DATABASE_URL: url };
    const pgConfig = parseConfig(env);
    let t = performance.now();
    const pg = await ensureIndex(pgConfig, silentLogger(), undefined, db); // moves the stored vectors, no re-embedding
    const pgvectorBuildMs = Math.round(performance.now() - t);
    table = pg.manifest.vectorStore?.backend === 'pgvector' ? pg.manifest.vectorStore.table : undefined;
    log(`vector: ${pg.chunks.length} vectors written to PostgreSQL with their HNSW index in ${pgvectorBuildMs} ms`);
    const vectors = await index.vector.vectorsOf(Array.from({ length: index.chunks.length }, (_, i) => i));
    // A district question's scope: that district's chunks (as the retriever's scope flags).
    const districts = [...new Set(index.documents.map((d) => d.district))];
    const scopes = new Map(
      districts.map((d) => {
        const flags = Uint8Array.from(index.chunks, (c) => (c.doc.district === d ? 1 : 0));
        return [d, { flags, share: flags.reduce((a, b) => a + b, 0) / flags.length }];
      }),
    );
    const scopeFor = (q: string) => scopes.get(districts.find((d) => q.includes(d.slice(0, 2))) ?? districts[0]!)!;
    t = performance.now();
    const hnswlib = await measure(index, vectors, questions, scopeFor);
    const pgvector = await measure(pg, vectors, questions, scopeFor);
    log(`vector: search p50 hnswlib ${hnswlib.searchMs.p50} ms, pgvector ${pgvector.searchMs.p50} ms; in a district hnswlib ${hnswlib.scopedSearchMs.p50} ms, pgvector ${pgvector.scopedSearchMs.p50} ms`);
    log(`vector: hybrid retrieval p50 hnswlib ${hnswlib.retrieveMs.p50} ms, pgvector ${pgvector.retrieveMs.p50} ms; recall@30 ${hnswlib.recallAt30} / ${pgvector.recallAt30}`);
    await pg.close();
    const syntheticChunks = Number(process.env.VECTOR_BENCH_CHUNKS ?? 0);
    const synthetic =
      Number.isInteger(syntheticChunks) && syntheticChunks > 0
        ? await benchSynthetic(vectors, await Promise.all(questions.map((q) => index.embedder.embedQuery(q))), syntheticChunks, db, log)
        : undefined;
    return { chunks: index.chunks.length, dimensions: index.vector.dimensions, database, pgvectorBuildMs, hnswlib, pgvector, ...(synthetic ? { synthetic } : {}) };
  } finally {
    state.remove();
    if (table) await PgvectorIndex.drop(db, table);
    await db.close();
    await pglite?.stop();
  }
}
