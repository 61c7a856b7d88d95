import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexCorruptError, IndexMismatchError, StateError } from '../../src/errors.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import { l2Normalize } from '../../src/index/embedder.ts';
import { ensureIndex } from '../../src/index/ensure-index.ts';
import { currentBuildDir, readManifest } from '../../src/index/index-store.ts';
import { PgvectorIndex } from '../../src/index/pgvector-index.ts';
import { loadPlanIndex, type PlanIndex } from '../../src/index/plan-index.ts';
import type { VectorScope, VectorSearch } from '../../src/index/vector-search.ts';
import { silentLogger } from '../../src/logger.ts';
import { createPostgres, type Postgres } from '../../src/postgres-client.ts';
import { HybridRetriever } from '../../src/retrieve/hybrid-retriever.ts';
import { startPgliteServer, type PgliteServer } from '../helpers/pglite-server.ts';
import { copyCorpusIndex, testConfig } from '../helpers/test-index.ts';

/**
 * The pgvector backend against PostgreSQL with pgvector (PGlite on 127.0.0.1), through the
 * product's own pg pool: building, loading, scoped search, build isolation, and hybrid
 * retrieval on the shipped corpus beside the hnswlib default.
 */

function randomVectors(n: number, dims: number, seed = 1): Float32Array[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: n }, () => l2Normalize(Float32Array.from({ length: dims }, rnd)));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Exact cosine top k among the allowed labels. */
function exactTop(vectors: readonly Float32Array[], q: Float32Array, k: number, scope?: VectorScope): number[] {
  return vectors
    .map((v, label) => ({ label, score: dot(v, q) }))
    .filter((h) => !scope || scope.flags[h.label] === 1)
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.label);
}

function scopeOf(n: number, allowed: (label: number) => boolean): VectorScope {
  const flags = Uint8Array.from({ length: n }, (_, i) => (allowed(i) ? 1 : 0));
  return { flags, share: flags.reduce((a, b) => a + b, 0) / n };
}

async function recall(index: VectorSearch, vectors: readonly Float32Array[], queries: readonly Float32Array[], k: number, scope?: VectorScope): Promise<number> {
  let found = 0;
  for (const q of queries) {
    const want = new Set(exactTop(vectors, q, k, scope));
    const got = await index.search(q, k, scope);
    found += got.filter((h) => want.has(h.label)).length;
  }
  return found / (queries.length * k);
}

let server: PgliteServer;
let db: Postgres;
beforeAll(async () => {
  server = await startPgliteServer();
  db = createPostgres(server.url, { max: 4 });
});
afterAll(async () => {
  await db?.close();
  await server?.stop();
});

describe('PgvectorIndex', () => {
  const N = 800;
  const dims = 32;
  const vectors = randomVectors(N, dims);
  const queries = randomVectors(20, dims, 7);
  let table: string;
  let index: PgvectorIndex;
  beforeAll(async () => {
    table = await PgvectorIndex.write(db, vectors, dims, 'unit');
    // exactScopeLimit 0: every scoped search goes through the HNSW index (iterative scan).
    index = await PgvectorIndex.open(db, table, dims, N, { exactScopeLimit: 0 });
  });

  it('finds a stored vector first with cosine 1, and clamps k to the table', async () => {
    const hits = await index.search(vectors[42]!, 3);
    expect(hits[0]).toMatchObject({ label: 42 });
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    const small = await PgvectorIndex.open(db, await PgvectorIndex.write(db, vectors.slice(0, 5), dims, 'unit-small'), dims, 5);
    expect(await small.search(vectors[0]!, 50)).toHaveLength(5);
  });

  it('recalls the exact cosine neighbours, unscoped and within a scope', async () => {
    expect(await recall(index, vectors, queries, 10)).toBeGreaterThanOrEqual(0.9);
    // A 10% scope through HNSW + WHERE: the iterative scan still brings k allowed rows.
    const tenth = scopeOf(N, (l) => l % 10 === 3);
    for (const q of queries.slice(0, 5)) {
      const hits = await index.search(q, 10, tenth);
      expect(hits).toHaveLength(10);
      expect(hits.every((h) => h.label % 10 === 3)).toBe(true);
    }
    expect(await recall(index, vectors, queries, 10, tenth)).toBeGreaterThanOrEqual(0.9);
    expect(index.exactFallbacks).toBe(0); // the index answered, not the exact fallback
    // The search's planner settings were local to it: nothing is left on the (single) PGlite session.
    const settings = await db.query<{ seq: string; iter: string }>("SELECT current_setting('enable_seqscan') AS seq, current_setting('hnsw.iterative_scan') AS iter");
    expect(settings.rows[0]).toEqual({ seq: 'on', iter: 'off' });
  });

  it('answers a narrow scope exactly, and a scope smaller than k in full', async () => {
    const exact = await PgvectorIndex.open(db, table, dims, N); // default: scopes up to 2,000 chunks searched exactly
    const few = scopeOf(N, (l) => l < 40);
    for (const q of queries.slice(0, 5)) expect((await exact.search(q, 10, few)).map((h) => h.label)).toEqual(exactTop(vectors, q, 10, few));
    const three = scopeOf(N, (l) => l === 5 || l === 500 || l === 799);
    expect((await index.search(queries[0]!, 10, three)).map((h) => h.label).sort((a, b) => a - b)).toEqual([5, 500, 799]);
    expect(await index.search(queries[0]!, 10, scopeOf(N, () => false))).toEqual([]);
  });

  it('gives back the stored vectors exactly (for an incremental build to reuse)', async () => {
    const back = await index.vectorsOf([42, 7, 799]);
    expect(back).toEqual([vectors[42], vectors[7], vectors[799]]);
    await expect(index.vectorsOf([800])).rejects.toThrow(IndexCorruptError);
  });

  it('keeps vectors of more than 2,000 dimensions as halfvec (the HNSW limit for vector)', async () => {
    const wide = randomVectors(20, 2048, 3);
    const halfvec = await PgvectorIndex.open(db, await PgvectorIndex.write(db, wide, 2048, 'unit-wide'), 2048, 20);
    const hits = await halfvec.search(wide[7]!, 3);
    expect(hits[0]!.label).toBe(7);
    expect(hits[0]!.score).toBeCloseTo(1, 2);
  });

  it('refuses a query of other dimensions, and a table that is not there or disagrees', async () => {
    await expect(index.search(new Float32Array(16), 5)).rejects.toThrow(IndexMismatchError);
    await expect(PgvectorIndex.open(db, 'plan_vectors_gone', dims, N)).rejects.toThrow(IndexCorruptError);
    await expect(PgvectorIndex.open(db, table, dims, N + 1)).rejects.toThrow(/expected 801 vectors, found 800/);
    await expect(PgvectorIndex.open(db, 'x; DROP TABLE y', dims, N)).rejects.toThrow(IndexCorruptError);
  });

  it('writes a build whole or not at all', async () => {
    const before = await db.query<{ n: number }>(`SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'plan_vectors_%'`);
    const broken = [...vectors.slice(0, 10), new Float32Array(dims).fill(Number.NaN)];
    await expect(PgvectorIndex.write(db, broken, dims, 'unit')).rejects.toThrow(IndexMismatchError);
    const after = await db.query<{ n: number }>(`SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'plan_vectors_%'`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('drops only builds two generations old, of its own origin', async () => {
    const other = await PgvectorIndex.write(db, vectors.slice(0, 5), dims, 'someone-else');
    const t2 = await PgvectorIndex.write(db, vectors.slice(0, 5), dims, 'unit');
    const t3 = await PgvectorIndex.write(db, vectors.slice(0, 5), dims, 'unit');
    const dropped = await PgvectorIndex.prune(db, 'unit', [t3]);
    expect(dropped).toContain(table);
    expect(dropped).not.toContain(t2);
    await expect(PgvectorIndex.open(db, table, dims, N)).rejects.toThrow(IndexCorruptError);
    expect((await PgvectorIndex.open(db, t2, dims, 5)).size).toBe(5);
    expect((await PgvectorIndex.open(db, other, dims, 5)).size).toBe(5);
  });

  it('says in one line, without the password, that the database cannot be reached', async () => {
    const closed = createPostgres('postgres://bot:hunter2@127.0.0.1:1/plans', { connectionTimeoutMs: 2000 });
    try {
      const err = await PgvectorIndex.open(closed, table, dims, N).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateError);
      expect((err as Error).message).toMatch(/^vector-index: opening plan_vectors_\w+: PostgreSQL postgres:\/\/bot@127\.0\.0\.1:1\/plans failed/);
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as Error).message).not.toContain('\n');
    } finally {
      await closed.close();
    }
  });
});

describe('VECTOR_BACKEND=pgvector on the shipped corpus', () => {
  let stateDir: string;
  let hnsw: PlanIndex;
  let pg: PlanIndex;
  beforeAll(async () => {
    stateDir = copyCorpusIndex();
    hnsw = await loadPlanIndex(testConfig(stateDir).index, testConfig(stateDir).llm);
    // The copied build is hnswlib's: ensureIndex moves its vectors into PostgreSQL without re-embedding.
    pg = await ensureIndex(testConfig(stateDir, { VECTOR_BACKEND: 'pgvector', DATABASE_URL: server.url }), silentLogger());
  });
  afterAll(async () => {
    await pg?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('keeps the vectors in a table the manifest names, and no hnsw file', async () => {
    const dir = await currentBuildDir(stateDir);
    const manifest = await readManifest(dir);
    expect(manifest.vectorStore).toMatchObject({ backend: 'pgvector', database: expect.stringMatching(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/) });
    expect(existsSync(path.join(dir, 'hnsw-0.bin'))).toBe(false);
    expect(pg.vector).toMatchObject({ backend: 'pgvector', size: hnsw.chunks.length, dimensions: hnsw.vector.dimensions });
  });

  it('recalls the exact cosine neighbours of real questions as well as hnswlib, unscoped and per district', async () => {
    const vectors = await hnsw.vector.vectorsOf(Array.from({ length: hnsw.chunks.length }, (_, i) => i));
    // The table holds exactly the vectors hnswlib holds.
    expect(await pg.vector.vectorsOf([0, 7, hnsw.chunks.length - 1])).toEqual([vectors[0], vectors[7], vectors.at(-1)]);
    const questions = ['武清区2025年森林覆盖率目标是多少？', '津南区小站稻振兴怎么做', '河北区养老服务有什么规划', '十三五期间津南区新增就业多少', '营商环境有哪些举措'];
    const queries = await Promise.all(questions.map((q) => pg.embedder.embedQuery(q)));
    const district = scopeOf(pg.chunks.length, (l) => pg.chunks.at(l).doc.district === '津南区');
    for (const scope of [undefined, district]) {
      const pgRecall = await recall(pg.vector, vectors, queries, 30, scope);
      const hnswRecall = await recall(hnsw.vector, vectors, queries, 30, scope);
      expect(pgRecall).toBeGreaterThanOrEqual(0.95);
      expect(pgRecall).toBeGreaterThanOrEqual(hnswRecall - 0.03);
    }
  });

  it('gives hybrid retrieval the same top passages as hnswlib', async () => {
    const questions = ['武清区2025年森林覆盖率目标是多少？', '津南区会展经济有哪些重点项目？', '河北区意风区要打造成什么', '十三五期间河北区和津南区的PM2.5各降了多少？', '武清区研发支出占比2025年目标', '津南区海河教育园怎么发展'];
    const a = new HybridRetriever(pg);
    const b = new HybridRetriever(hnsw);
    for (const q of questions) {
      const top = (await a.retrieve(q, 5)).passages.map((p) => p.chunk.id);
      const want = (await b.retrieve(q, 5)).passages.map((p) => p.chunk.id);
      expect(top[0], q).toBe(want[0]);
      expect(top.filter((id) => want.includes(id)).length, q).toBeGreaterThanOrEqual(4);
    }
  });

  it('keeps serving the previous build while a new one is written, then loads the new one', async () => {
    const config = testConfig(stateDir, { VECTOR_BACKEND: 'pgvector', DATABASE_URL: server.url });
    const before = (await readManifest(await currentBuildDir(stateDir))).vectorStore;
    const r = await buildIndex(config, { rebuild: false });
    expect(r.embedded).toBe(0);
    const after = (await readManifest(await currentBuildDir(stateDir))).vectorStore;
    expect(after).not.toEqual(before);
    // The index loaded before the build still answers from its own table.
    const q = await pg.embedder.embedQuery('津南区小站稻振兴怎么做');
    expect(await pg.vector.search(q, 5)).toHaveLength(5);
    const reloaded = await loadPlanIndex(config.index, config.llm, { postgres: db });
    try {
      expect((await reloaded.vector.search(q, 5)).map((h) => h.label)).toEqual((await pg.vector.search(q, 5)).map((h) => h.label));
    } finally {
      await reloaded.close();
    }
    await db.query('SELECT 1'); // a shared handle is not closed by the index
  });

  it('asks for DATABASE_URL when the index is in PostgreSQL but config says hnswlib, and moves the vectors back at the next start', async () => {
    await expect(loadPlanIndex(testConfig(stateDir).index, testConfig(stateDir).llm)).rejects.toThrow(/VECTOR_BACKEND is hnswlib; set VECTOR_BACKEND=pgvector and DATABASE_URL/);
    const back = await ensureIndex(testConfig(stateDir), silentLogger());
    expect(back.vector.backend).toBe('hnswlib');
    expect((await readManifest(await currentBuildDir(stateDir))).vectorStore).toMatchObject({ backend: 'hnswlib', partitions: [{ file: 'hnsw-0.bin' }] });
  });
});
