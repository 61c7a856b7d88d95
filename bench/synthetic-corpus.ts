import type { Config } from '../src/config.ts';
import type { IndexedDocumentMeta, StoredChunk } from '../src/index/index-store.ts';
import { contextText, loadPlanIndex, type PlanIndex } from '../src/index/plan-index.ts';
import { splitSentences } from '../src/retrieve/sentences.ts';

/**
 * Synthetic chunks for the scale bench (bench-scale.ts) and the build studies
 * (bench-hnsw-params.ts, bench-build-main.ts): ~250 characters of the corpus' sentences
 * drawn at random (seeded, so always the same), under one of ten districts, three of them
 * real (so the bench questions' district filters apply), each document a five-year plan
 * spanning the years the questions name.
 */

/** The sentences of 8 characters or more of an index's chunks. */
export function sentencesOf(index: PlanIndex): string[] {
  return [...index.chunks].flatMap((c) => splitSentences(c.text).map((u) => u.text)).filter((s) => s.length >= 8);
}

/** The corpus' sentences, from the index in `config`'s state folder. */
export async function corpusSentences(config: Config): Promise<string[]> {
  const corpus = await loadPlanIndex(config.index, config.llm);
  try {
    return sentencesOf(corpus);
  } finally {
    await corpus.close();
  }
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const DISTRICTS = ['武清区', '河北区', '津南区', ...Array.from({ length: 7 }, (_, i) => `合成${i + 1}区`)];
export const SYNTHETIC_DOCUMENTS: IndexedDocumentMeta[] = DISTRICTS.map((district, i) => ({
  file: `synthetic-${i}.txt`, title: `${district}规划`, district, year: 2021, years: [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025], kind: '五年规划', checksum: '0'.repeat(64), chunkCount: 0,
}));

/** The first `n` synthetic chunks and their context texts (what BM25 and the embedder read). */
export function* syntheticChunks(sentences: readonly string[], n: number): Generator<{ chunk: StoredChunk; context: string }> {
  const rand = rng(42);
  for (let i = 0; i < n; i++) {
    let text = '';
    while (text.length < 250) text += sentences[Math.floor(rand() * sentences.length)]!;
    const doc = SYNTHETIC_DOCUMENTS[i % SYNTHETIC_DOCUMENTS.length]!;
    const start = i * 300;
    const chunk: StoredChunk = { id: `${doc.file}#${start}-${start + text.length}`, file: doc.file, section: [`第${(i % 10) + 1}章`], start, end: start + text.length, text, quote: text, kind: 'text' };
    yield { chunk, context: contextText(chunk, doc) };
  }
}
