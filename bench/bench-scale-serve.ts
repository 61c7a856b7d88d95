import { statSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config.ts';
import { buildFiles, currentBuildDir, readManifest } from '../src/index/index-store.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { searchTokens } from '../src/index/tokenize.ts';
import { HybridRetriever } from '../src/retrieve/hybrid-retriever.ts';
import { BENCH_QUESTIONS } from './bench-questions.ts';
import { percentiles, type Percentiles } from './bench-stats.ts';

/**
 * The serving half of the scale run, in a process of its own (bench-scale.ts starts it with
 * --expose-gc): opens the index in STATE_DIR argv[2] as the bot does, then searches it.
 * Resident memory is measured after a full garbage collection, from an "empty" process that
 * has loaded the code and jieba's dictionary (which any process answering questions holds).
 * Prints one JSON object.
 */

export interface ScaleServeResult {
  loadMs: number;
  emptyRssMb: number;
  loadedRssMb: number;
  /** After the searches: includes what the first questions build (the corpus lexicon, caches). */
  servingRssMb: number;
  /** After the searches without a district too (scope caches, allocator high-water mark). */
  servingAfterUnscopedRssMb: number;
  residentAboveEmptyMb: number;
  residentPerChunkBytes: number;
  /** Where the resident bytes go, per chunk. */
  perChunkBytes: { hnswFile: number; rerankVectors: number; lexical: number; chunkColumns: number; jsHeap: number };
  heapUsedMb: number;
  externalMb: number;
  /** Hybrid search of the bench questions, each naming a district. */
  searchMs: Percentiles;
  /**
   * The same questions without their district (searched in every district: in every
   * vector partition, then merged); one round after a warm-up.
   */
  unscopedSearchMs: Percentiles;
  /** CPU time per search (the machine is shared: wall time includes waiting for a core). */
  searchCpuMs: number;
  /**
   * Share of the exact 10 nearest vectors (brute force over every stored vector, as stored:
   * half precision in a two-stage build) that the vector search returns, over the bench
   * questions; measured up to RECALL_MAX chunks.
   */
  vectorRecallAt10?: number;
  /** The same for the 30 nearest, what retrieval asks the vector search for. */
  vectorRecallAt30?: number;
}

/**
 * Mean recall@10 and @30 (what retrieval asks for) of the vector search against exact
 * search over the stored vectors, for the given query vectors.
 */
async function vectorRecall(index: Awaited<ReturnType<typeof loadPlanIndex>>, queries: Float32Array[]): Promise<{ at10: number; at30: number }> {
  const k = 30;
  const best = queries.map(() => [] as Array<{ label: number; score: number }>);
  for (let label = 0; label < index.chunks.length; label++) {
    const [v] = await index.vector.vectorsOf([label]);
    queries.forEach((q, i) => {
      let dot = 0;
      for (let d = 0; d < q.length; d++) dot += q[d]! * v![d]!;
      const list = best[i]!;
      if (list.length < k || dot > list[k - 1]!.score) {
        list.push({ label, score: dot });
        list.sort((a, b) => b.score - a.score);
        if (list.length > k) list.pop();
      }
    });
  }
  const recallAt = async (n: number) => {
    let hits = 0;
    for (const [i, q] of queries.entries()) {
      const found = new Set((await index.vector.search(q, n)).map((h) => h.label));
      hits += best[i]!.slice(0, n).filter((h) => found.has(h.label)).length;
    }
    return Math.round((hits / (n * queries.length)) * 1000) / 1000;
  };
  return { at10: await recallAt(10), at30: await recallAt(30) };
}

const RECALL_MAX = 200_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
function rss(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

const stateDir = process.argv[2]!;
const config = parseConfig({ STATE_DIR: stateDir, LOG_LEVEL: 'silent' });
searchTokens('加载分词词典');
const heapEmpty = (gc(), process.memoryUsage().heapUsed);
const empty = rss();
const t = performance.now();
const index = await loadPlanIndex(config.index, config.llm);
const loadMs = performance.now() - t;
const loaded = rss();
process.stderr.write(`scale: index of ${index.chunks.length} chunks opened in ${Math.round(loadMs)} ms, rss ${mb(loaded)} MB (empty process ${mb(empty)} MB)\n`);

const retriever = new HybridRetriever(index);
const times: number[] = [];
let cpu = process.cpuUsage();
for (let round = 0; round < 5; round++) {
  if (round === 1) cpu = process.cpuUsage();
  for (const q of BENCH_QUESTIONS) {
    const s = performance.now();
    await retriever.retrieve(q, 5);
    if (round > 0) times.push(performance.now() - s); // round 0 warms caches
  }
}
const cpuUsed = process.cpuUsage(cpu);
const serving = rss();
// After the serving figure, as before partitions (its questions all name a district).
const unscoped = BENCH_QUESTIONS.map((q) => q.replace(/武清区?|河北区|津南区/g, ''));
const unscopedTimes: number[] = [];
for (let round = 0; round < 3; round++) {
  for (const q of unscoped) {
    const s = performance.now();
    await retriever.retrieve(q, 5);
    if (round > 0) unscopedTimes.push(performance.now() - s);
  }
}
const afterUnscoped = rss();
const n = index.chunks.length;
const dir = await currentBuildDir(stateDir);
const manifest = await readManifest(dir);
const memory = process.memoryUsage();
const result: ScaleServeResult = {
  loadMs: Math.round(loadMs),
  emptyRssMb: mb(empty),
  loadedRssMb: mb(loaded),
  servingRssMb: mb(serving),
  servingAfterUnscopedRssMb: mb(afterUnscoped),
  residentAboveEmptyMb: mb(serving - empty),
  residentPerChunkBytes: Math.round((serving - empty) / n),
  perChunkBytes: {
    hnswFile: Math.round(buildFiles(manifest).filter((f) => f.startsWith('hnsw')).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0) / n),
    rerankVectors: manifest.vectorStore.backend === 'hnswlib' && manifest.vectorStore.navigation ? Math.round(statSync(path.join(dir, manifest.vectorStore.navigation.vectors)).size / n) : 0,
    lexical: Math.round(index.lexical.byteSize / n),
    chunkColumns: Math.round(index.chunks.columnBytes / n),
    jsHeap: Math.round((memory.heapUsed - heapEmpty) / n),
  },
  heapUsedMb: mb(memory.heapUsed),
  externalMb: mb(memory.external),
  searchMs: percentiles(times),
  unscopedSearchMs: percentiles(unscopedTimes),
  searchCpuMs: Math.round(((cpuUsed.user + cpuUsed.system) / 1000 / times.length) * 100) / 100,
};
// Exact search reads every stored vector back through hnswlib: minutes at a million chunks.
if (n <= RECALL_MAX) {
  process.stderr.write(`scale: search p50 ${result.searchMs.p50} ms; measuring HNSW recall against exact search…\n`);
  const recall = await vectorRecall(index, await Promise.all(BENCH_QUESTIONS.map((q) => index.embedder.embedQuery(q))));
  result.vectorRecallAt10 = recall.at10;
  result.vectorRecallAt30 = recall.at30;
}
process.stdout.write(JSON.stringify(result) + '\n');
