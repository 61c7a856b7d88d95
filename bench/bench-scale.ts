import { INDEX_FORMAT_VERSION, type IndexManifest, type StoredChunk } from '../src/index/index-store.ts';
import { LexicalIndex } from '../src/index/lexical-index.ts';
import { LocalEmbedder } from '../src/index/local-embedder.ts';
import { contextText, PlanIndex } from '../src/index/plan-index.ts';
import { HnswVectorIndex } from '../src/index/vector-index.ts';
import { HnswVectorSearch } from '../src/index/hnsw-vector-search.ts';
import { HybridRetriever } from '../src/retrieve/hybrid-retriever.ts';
import { percentiles, type Percentiles } from './bench-stats.ts';

/**
 * Scale run: an index of N synthetic chunks made by recombining the corpus' sentences
 * across invented districts, built and searched in process with the real components.
 */

export interface ScaleResult {
  chunks: number;
  dimensions: number;
  embedMs: number;
  vectorBuildMs: number;
  lexicalBuildMs: number;
  buildRatePerSecond: number;
  searchMs: Percentiles;
  rssMb: number;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export async function benchScale(sentences: readonly string[], questions: readonly string[], n: number, log: (msg: string) => void): Promise<ScaleResult> {
  const rand = rng(42);
  // The real districts (so the questions' district filters apply) and invented ones.
  const districts = ['武清区', '河北区', '津南区', ...Array.from({ length: 7 }, (_, i) => `合成${i + 1}区`)];
  const documents: IndexManifest['documents'] = Array.from({ length: 50 }, (_, i) => ({
    file: `synthetic-${i}.txt`, title: `${districts[i % districts.length]}规划${i}`, district: districts[i % districts.length]!,
    year: 2021, years: [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025], kind: '五年规划', checksum: '0'.repeat(64), chunkCount: 0,
  }));
  const chunks: StoredChunk[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    for (let len = 0; len < 250; ) {
      const s = sentences[Math.floor(rand() * sentences.length)]!;
      parts.push(s);
      len += s.length;
    }
    const text = parts.join('');
    const doc = documents[i % documents.length]!;
    chunks.push({ id: `${doc.file}#${i}`, file: doc.file, section: [`第${(i % 10) + 1}章`], start: i * 300, end: i * 300 + text.length, text, quote: text, kind: 'text' });
  }
  const texts = chunks.map((c) => contextText(c, documents[Number(c.file.match(/\d+/)![0])]!));
  log(`scale: ${n} synthetic chunks generated`);

  let t = performance.now();
  const embedder = LocalEmbedder.fit(texts.slice(0, Math.min(texts.length, 20_000)));
  const vectors = await embedder.embedDocuments(texts);
  const embedMs = performance.now() - t;
  log(`scale: embedded in ${Math.round(embedMs)} ms`);
  t = performance.now();
  const vector = HnswVectorIndex.build(vectors, embedder.info.dimensions, { efConstruction: 100 });
  const vectorBuildMs = performance.now() - t;
  log(`scale: hnsw built in ${Math.round(vectorBuildMs)} ms`);
  vectors.length = 0;
  t = performance.now();
  const lexical = LexicalIndex.build(texts);
  const lexicalBuildMs = performance.now() - t;
  log(`scale: lexical index built in ${Math.round(lexicalBuildMs)} ms`);

  const manifest: IndexManifest = {
    formatVersion: INDEX_FORMAT_VERSION, builtAt: new Date().toISOString(), embedder: embedder.info,
    chunking: { chunkSize: 300, chunkOverlap: 0 }, documents, chunkCount: n,
    files: { chunks: '', vectors: '', hnsw: '', lexical: '' },
  };
  const retriever = new HybridRetriever(new PlanIndex(manifest, chunks, embedder, new HnswVectorSearch(vector), lexical));
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const q of questions) {
      const s = performance.now();
      await retriever.retrieve(q, 5);
      if (round > 0) times.push(performance.now() - s); // round 0 warms caches
    }
  }
  return {
    chunks: n,
    dimensions: embedder.info.dimensions,
    embedMs: Math.round(embedMs),
    vectorBuildMs: Math.round(vectorBuildMs),
    lexicalBuildMs: Math.round(lexicalBuildMs),
    buildRatePerSecond: Math.round(n / ((embedMs + vectorBuildMs + lexicalBuildMs) / 1000)),
    searchMs: percentiles(times),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}
