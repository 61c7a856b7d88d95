import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config.ts';
import { BuildWriter } from '../src/index/build-writer.ts';
import type { StoredChunk } from '../src/index/index-store.ts';
import { LocalEmbedder } from '../src/index/local-embedder.ts';
import type { BuildVectorSink } from '../src/index/vector-store.ts';
import { planPartitions } from '../src/index/vector-partitions.ts';
import { benchTempDir } from './bench-temp.ts';
import { corpusSentences, SYNTHETIC_DOCUMENTS, syntheticChunks } from './synthetic-corpus.ts';

/**
 * The main thread's share of a build, in CPU time (on a shared machine wall time says
 * little): `npx tsx bench/bench-build-main.ts --n 20000` with STATE_DIR holding a built
 * corpus index. N synthetic chunks go through the product's BuildWriter as the scale bench
 * sends them (batches of 256: generated, embedded, added) but the vectors are dropped (a
 * sink that keeps nothing), so what is measured is all the main thread does: generating,
 * embedding, the chunk table, BM25, and the files written at the end. Prints CPU µs per
 * chunk per phase, and one JSON line.
 */

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' } } });
const N = Number(values.n);

const sentences = await corpusSentences(parseConfig(process.env));
const cpuUs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return u.user + u.system;
};

let t = process.cpuUsage();
const embedder = LocalEmbedder.fit(Array.from(syntheticChunks(sentences, Math.min(N, 20_000)), (c) => c.context));
const fitUs = cpuUs(t);

/** Takes the vectors and keeps none: the HNSW thread's work is not the main thread's. */
const droppingSink: BuildVectorSink = {
  start: async () => {},
  add: async () => {},
  finish: async () => ({ backend: 'hnswlib', partitions: [] }),
  settle: async () => {},
};
const temp = benchTempDir('plan-qa-build-main-');
const phases = { generate: 0, embed: 0, add: 0, finish: 0 };
try {
  const plan = planPartitions(SYNTHETIC_DOCUMENTS.map((d) => ({ file: d.file, district: d.district, chunks: Math.ceil(N / SYNTHETIC_DOCUMENTS.length) })));
  const writer = await BuildWriter.open(temp.path, { dimensions: embedder.info.dimensions, plan, sink: droppingSink });
  const chunks = syntheticChunks(sentences, N);
  for (let done = 0; done < N; ) {
    t = process.cpuUsage();
    const batch: Array<{ chunk: StoredChunk; context: string }> = [];
    for (let r = chunks.next(); !r.done; r = batch.length < 256 ? chunks.next() : { done: true, value: undefined }) batch.push(r.value);
    phases.generate += cpuUs(t);
    t = process.cpuUsage();
    const vectors = await embedder.embedDocuments(batch.map((b) => b.context));
    phases.embed += cpuUs(t);
    t = process.cpuUsage();
    for (const [i, { chunk, context }] of batch.entries()) await writer.add(chunk, context, vectors[i]!);
    phases.add += cpuUs(t);
    done += batch.length;
  }
  t = process.cpuUsage();
  await writer.finish({ builtAt: new Date().toISOString(), embedder: embedder.info, chunking: { chunkSize: 300, chunkOverlap: 0 }, documents: SYNTHETIC_DOCUMENTS }, embedder);
  phases.finish = cpuUs(t);
  // The writer's own split of `add` (wall time; one thread, nothing awaited) apportions its CPU.
  const { chunkTableMs, lexicalMs, vectorMs } = writer.timings;
  const addWall = chunkTableMs + lexicalMs + vectorMs;
  const perChunk = (us: number) => Math.round((us / N) * 10) / 10;
  const result = {
    n: N,
    fitUsPerFittedText: Math.round(fitUs / Math.min(N, 20_000)),
    usPerChunk: {
      generate: perChunk(phases.generate),
      embed: perChunk(phases.embed),
      chunkTable: perChunk((phases.add * chunkTableMs) / addWall),
      lexical: perChunk((phases.add * lexicalMs) / addWall),
      vectorHandOff: perChunk((phases.add * vectorMs) / addWall),
      finish: perChunk(phases.finish),
      total: perChunk(phases.generate + phases.embed + phases.add + phases.finish),
    },
  };
  console.log(`main thread, ${N} chunks, CPU µs per chunk: ` + Object.entries(result.usPerChunk).map(([k, v]) => `${k} ${v}`).join(', '));
  console.log(JSON.stringify(result));
} finally {
  temp.remove();
}
