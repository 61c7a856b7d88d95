import { parseArgs } from 'node:util';
import hnswlib from 'hnswlib-node';
import { parseConfig } from '../src/config.ts';
import { LocalEmbedder } from '../src/index/local-embedder.ts';
import { foldVector } from '../src/index/embedder.ts';
import { BENCH_QUESTIONS } from './bench-questions.ts';
import { corpusSentences, syntheticChunks } from './synthetic-corpus.ts';

/**
 * What HNSW insertion costs, and what recall it buys, for hnswlib-node's build parameters:
 * `npx tsx bench/bench-hnsw-params.ts --n 10000 [--m 16,12,8] [--ef 200,100,64,40,32]`
 * with STATE_DIR holding a built corpus index (its sentences make the synthetic chunks,
 * synthetic-corpus.ts, embedded by the local embedder fitted on them).
 * Per (M, efConstruction): insertion CPU µs per vector (one thread), and recall@K at
 * efSearch 64 against exact search, over the bench questions and held-out synthetic
 * chunks. Also what handing a vector to hnswlib costs apart from the insertion: building
 * the JS array (`Array.from`) and the addon reading it element by element (measured as a
 * brute-force index's addPoint, which only copies). Prints a table and one JSON line.
 * Two further studies, at the first --m and --ef (see each below):
 * `--partitions 5 [--runs 1,512,1024]`, insertion into interleaved partitions; and
 * `--nav-dims 256,512 [--candidates 64,100,200]`, a two-stage search. `--k 30`: recall@30. `--studies-only`
 * skips the table (and, without --nav-dims, the exact search).
 */

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    m: { type: 'string', default: '16,12,8' },
    ef: { type: 'string', default: '200,100,64,40,32' },
    queries: { type: 'string', default: '200' },
    partitions: { type: 'string' },
    runs: { type: 'string', default: '1,512,1024' },
    'nav-dims': { type: 'string' },
    candidates: { type: 'string', default: '64,100,200' },
    'studies-only': { type: 'boolean', default: false },
    k: { type: 'string', default: '10' },
  },
});
const N = Number(values.n);
const Ms = values.m.split(',').map(Number);
const EFs = values.ef.split(',').map(Number);
const HELD_OUT = Number(values.queries);
/** Recall is of the K nearest (`--k`; retrieval asks the vector index for 30). */
const K = Number(values.k);
const EF_SEARCH = 64;

const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

const sentences = await corpusSentences(parseConfig(process.env));

let t = process.cpuUsage();
const contexts = Array.from(syntheticChunks(sentences, N + HELD_OUT), (c) => c.context);
const embedder = LocalEmbedder.fit(contexts.slice(0, Math.min(N, 20_000)));
const dims = embedder.info.dimensions;
const vectors = new Float32Array(N * dims);
for (let i = 0; i < N; i++) vectors.set(embedder.embed(contexts[i]!), i * dims);
const queries = [...BENCH_QUESTIONS.map((q) => embedder.embed(q)), ...contexts.slice(N).map((c) => embedder.embed(c))];
contexts.length = 0;
const vectorAt = (i: number) => vectors.subarray(i * dims, (i + 1) * dims);
process.stderr.write(`hnsw-params: ${N} vectors of ${dims} dims and ${queries.length} queries made in ${Math.round(cpuMs(t))} CPU ms\n`);

// Exact 10 nearest by inner product, for every query.
t = process.cpuUsage();
const exact = queries.map(() => ({ labels: new Int32Array(K).fill(-1), scores: new Float64Array(K).fill(-Infinity) }));
const needExact = !values['studies-only'] || values['nav-dims'] !== undefined;
for (let i = 0; i < (needExact ? N : 0); i++) {
  const v = vectorAt(i);
  for (const [qi, q] of queries.entries()) {
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += q[d]! * v[d]!;
    const best = exact[qi]!;
    if (dot <= best.scores[K - 1]!) continue;
    let j = K - 1;
    while (j > 0 && best.scores[j - 1]! < dot) {
      best.scores[j] = best.scores[j - 1]!;
      best.labels[j] = best.labels[j - 1]!;
      j--;
    }
    best.scores[j] = dot;
    best.labels[j] = i;
  }
}
process.stderr.write(`hnsw-params: exact search done in ${Math.round(cpuMs(t))} CPU ms\n`);

// Handing vectors over: the JS array, then the addon's element-by-element read (a brute-force index only copies).
t = process.cpuUsage();
let sink = 0;
for (let i = 0; i < N; i++) sink += Array.from(vectorAt(i)).length;
const arrayFromUs = (cpuMs(t) * 1000) / N;
const brute = new hnswlib.BruteforceSearch('ip', dims);
brute.initIndex(N);
const arrays = Array.from({ length: Math.min(N, 2000) }, (_, i) => Array.from(vectorAt(i)));
t = process.cpuUsage();
for (let i = 0; i < arrays.length; i++) brute.addPoint(arrays[i]!, i);
const addonReadUs = (cpuMs(t) * 1000) / arrays.length;
let acceptsFloat32Array: boolean | string;
try {
  const probe = new hnswlib.HierarchicalNSW('ip', dims);
  probe.initIndex({ maxElements: 1 });
  probe.addPoint(vectorAt(0) as unknown as number[], 0);
  acceptsFloat32Array = probe.getCurrentCount() === 1;
} catch (err) {
  acceptsFloat32Array = (err as Error).message;
}
process.stderr.write(`hnsw-params: Array.from ${arrayFromUs.toFixed(1)} µs/vector, addon read+copy ${addonReadUs.toFixed(1)} µs/vector, Float32Array accepted: ${acceptsFloat32Array} (${sink > 0})\n`);

interface Row {
  m: number;
  efConstruction: number;
  insertCpuUsPerVector: number;
  recallAtK: number;
  recallQuestions: number;
  searchCpuUsPerQuery: number;
}
const rows: Row[] = [];
const recallOf = (found: number[], qi: number) => {
  const want = exact[qi]!.labels;
  let hits = 0;
  for (const l of found) if (want.includes(l)) hits++;
  return hits / K;
};
const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;
/** One configuration's figures: insertion CPU per vector, recall@K (all queries, the bench questions), search CPU per query. */
const figures = (insertMs: number, recalls: number[], searchMs: number) => ({
  insertCpuUsPerVector: Math.round((insertMs * 1000) / N),
  recallAtK: mean(recalls),
  recallQuestions: mean(recalls.slice(0, BENCH_QUESTIONS.length)),
  searchCpuUsPerQuery: Math.round((searchMs * 1000) / queries.length),
});
for (const m of values['studies-only'] ? [] : Ms) {
  for (const efConstruction of EFs) {
    const index = new hnswlib.HierarchicalNSW('ip', dims);
    index.initIndex({ maxElements: N, m, efConstruction, randomSeed: 100 });
    // Insertion only: the arrays are made beforehand in blocks, outside the timed span.
    let insertMs = 0;
    for (let from = 0; from < N; from += 1000) {
      const block = Array.from({ length: Math.min(1000, N - from) }, (_, i) => Array.from(vectorAt(from + i)));
      const s = process.cpuUsage();
      for (const [i, a] of block.entries()) index.addPoint(a, from + i);
      insertMs += cpuMs(s);
    }
    index.setEf(EF_SEARCH);
    const s = process.cpuUsage();
    const recalls = queries.map((q, qi) => recallOf(index.searchKnn(Array.from(q), K).neighbors, qi));
    const row = { m, efConstruction, ...figures(insertMs, recalls, cpuMs(s)) };
    rows.push(row);
    process.stderr.write(`hnsw-params: M ${m} efC ${efConstruction}: insert ${row.insertCpuUsPerVector} µs/vector, recall@${K} ${row.recallAtK} (questions ${row.recallQuestions}), search ${row.searchCpuUsPerQuery} µs\n`);
  }
}

/**
 * `--partitions P [--runs 1,512,1024]`: insertion cost when vector i goes to partition
 * i % P (districts interleaved, as in the scale bench) and each partition's vectors are
 * inserted in runs of R (R = 1: one by one in turn), at the first --m and --ef.
 */
const partitionRows: Array<{ partitions: number; run: number; insertCpuUsPerVector: number }> = [];
if (values.partitions) {
  const parts = Number(values.partitions);
  for (const run of values.runs.split(',').map(Number)) {
    const indexes = Array.from({ length: parts }, () => {
      const index = new hnswlib.HierarchicalNSW('ip', dims);
      index.initIndex({ maxElements: Math.ceil(N / parts), m: Ms[0]!, efConstruction: EFs[0]!, randomSeed: 100 });
      return index;
    });
    const point = new Array<number>(dims).fill(0);
    let insertMs = 0;
    for (let from = 0; from < N; from += run * parts) {
      for (let p = 0; p < parts; p++) {
        const s = process.cpuUsage();
        for (let i = from + p; i < Math.min(N, from + run * parts); i += parts) {
          const v = vectorAt(i);
          for (let d = 0; d < dims; d++) point[d] = v[d]!;
          indexes[p]!.addPoint(point, i);
        }
        insertMs += cpuMs(s);
      }
    }
    const row = { partitions: parts, run, insertCpuUsPerVector: Math.round((insertMs * 1000) / N) };
    partitionRows.push(row);
    process.stderr.write(`hnsw-params: ${parts} partitions, runs of ${run}: insert ${row.insertCpuUsPerVector} µs/vector\n`);
  }
}

/**
 * `--nav-dims 256,512 [--candidates 64,100,200]`: a two-stage search, HNSW over each vector
 * folded into fewer dimensions (dimension d adds into d mod D: the same n-grams hashed into
 * D dimensions, renormalized), then the C candidates it returns re-ranked by the exact inner
 * product of the full vectors. Insertion cost and recall@K against exact search, at the
 * first --m and --ef, efSearch max(64, C).
 */
const twoStageRows: Array<{ navDims: number; candidates: number; insertCpuUsPerVector: number; recallAtK: number; recallQuestions: number; searchCpuUsPerQuery: number }> = [];
if (values['nav-dims']) {
  const fold = (v: Float32Array, to: number) => Array.from(foldVector(v, to));
  const dot = (a: Float32Array, b: Float32Array) => {
    let sum = 0;
    for (let d = 0; d < a.length; d++) sum += a[d]! * b[d]!;
    return sum;
  };
  for (const navDims of values['nav-dims'].split(',').map(Number)) {
    const index = new hnswlib.HierarchicalNSW('ip', navDims);
    index.initIndex({ maxElements: N, m: Ms[0]!, efConstruction: EFs[0]!, randomSeed: 100 });
    let insertMs = 0;
    for (let from = 0; from < N; from += 1000) {
      const block = Array.from({ length: Math.min(1000, N - from) }, (_, i) => fold(vectorAt(from + i), navDims));
      const s = process.cpuUsage();
      for (const [i, a] of block.entries()) index.addPoint(a, from + i);
      insertMs += cpuMs(s);
    }
    for (const candidates of values.candidates.split(',').map(Number)) {
      index.setEf(Math.max(EF_SEARCH, candidates));
      const s = process.cpuUsage();
      const recalls = queries.map((q, qi) => {
        const { neighbors } = index.searchKnn(fold(q, navDims), Math.min(candidates, N));
        const best = neighbors.map((label) => ({ label, score: dot(q, vectorAt(label)) })).sort((a, b) => b.score - a.score);
        return recallOf(best.slice(0, K).map((h) => h.label), qi);
      });
      const row = { navDims, candidates, ...figures(insertMs, recalls, cpuMs(s)) };
      twoStageRows.push(row);
      process.stderr.write(`hnsw-params: two-stage, ${navDims} dims × ${candidates} candidates: insert ${row.insertCpuUsPerVector} µs/vector, recall@${K} ${row.recallAtK} (questions ${row.recallQuestions}), search ${row.searchCpuUsPerQuery} µs\n`);
    }
  }
}

console.log(`\nN ${N}, ${dims} dims, efSearch ${EF_SEARCH}, ${queries.length} queries (${BENCH_QUESTIONS.length} bench questions + ${queries.length - BENCH_QUESTIONS.length} held-out chunks)`);
console.log(`| M | efConstruction | insert CPU µs/vector | recall@${K} (all) | recall@${K} (questions) | search CPU µs |`);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.m} | ${r.efConstruction} | ${r.insertCpuUsPerVector} | ${r.recallAtK} | ${r.recallQuestions} | ${r.searchCpuUsPerQuery} |`);
if (partitionRows.length > 0) {
  console.log('\n| partitions | run | insert CPU µs/vector |\n|---|---|---|');
  for (const r of partitionRows) console.log(`| ${r.partitions} | ${r.run} | ${r.insertCpuUsPerVector} |`);
}
if (twoStageRows.length > 0) {
  console.log(`\n| HNSW dims | candidates re-ranked | insert CPU µs/vector | recall@${K} (all) | recall@${K} (questions) | search CPU µs |\n|---|---|---|---|---|---|`);
  for (const r of twoStageRows) console.log(`| ${r.navDims} | ${r.candidates} | ${r.insertCpuUsPerVector} | ${r.recallAtK} | ${r.recallQuestions} | ${r.searchCpuUsPerQuery} |`);
}
console.log(
  JSON.stringify({
    n: N,
    dims,
    efSearch: EF_SEARCH,
    arrayFromUsPerVector: Math.round(arrayFromUs * 10) / 10,
    addonReadUsPerVector: Math.round(addonReadUs * 10) / 10,
    acceptsFloat32Array,
    rows,
    ...(partitionRows.length > 0 ? { partitionRows } : {}),
    ...(twoStageRows.length > 0 ? { twoStageRows } : {}),
  }),
);
