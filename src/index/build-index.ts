import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { IndexConfig, LlmConfig } from '../config.ts';
import { readCorpus, type SkippedFile } from '../ingest/corpus.ts';
import { extractedDir } from '../ingest/extracted-store.ts';
import { ingestDocument, type IngestedDocument } from '../ingest/chunk.ts';
import { quotableSpans } from '../ingest/normalize.ts';
import { describeEmbedder, type Embedder } from './embedder.ts';
import { BuildWriter } from './build-writer.ts';
import { currentBuildDir, readManifest, verifyBuildFiles, type IndexManifest, type StoredChunk } from './index-store.ts';
import { LocalEmbedder } from './local-embedder.ts';
import { OpenAiEmbedder } from './openai-embedder.ts';
import { checkEmbedderMatches, configuredEmbedder, contextText, readChunkTable } from './plan-index.ts';
import { openVectors, openVectorSink } from './vector-store.ts';
import { planPartitions } from './vector-partitions.ts';
import type { VectorSearch } from './vector-search.ts';
import type { Postgres } from '../postgres-client.ts';

/**
 * corpus → ingest → embed → write a build. Incremental: a document whose checksum,
 * chunking settings and embedder are unchanged keeps its stored vectors (no
 * re-embedding); `rebuild` starts from nothing (and refits the local embedder).
 */

export type IngestProgress =
  | { phase: 'load'; documents: number }
  | { phase: 'skip'; file: string; reason: string }
  | { phase: 'document'; file: string; chunks: number; reused: boolean; done: number; total: number }
  | { phase: 'embed'; done: number; total: number }
  | { phase: 'write'; chunks: number };

export interface BuildResult {
  dir: string;
  documents: number;
  chunks: number;
  embedded: number;
  reused: number;
  embedder: string;
  ms: number;
  /** Files in the corpus folder that could not be read or described, and why. */
  skipped: SkippedFile[];
}

interface PreviousBuild {
  manifest: IndexManifest;
  /** Per file: its chunks' ids, in order, and their labels in `vectors`. */
  chunksByFile: Map<string, Array<{ id: string; label: number }>>;
  /** Wherever the previous build keeps them (its HNSW file or its pgvector table); closed after the build. */
  vectors: VectorSearch;
  /** The local embedder's state file, as read. */
  embedderState?: Uint8Array;
}

async function readPreviousBuild(index: IndexConfig, postgres: Postgres | undefined): Promise<PreviousBuild | undefined> {
  try {
    const dir = await currentBuildDir(index.stateDir);
    const manifest = await readManifest(dir);
    // hnswlib trusts its file: a damaged one is never opened.
    await verifyBuildFiles(dir, manifest);
    const table = await readChunkTable(dir, manifest);
    const vectors = await openVectors(dir, manifest, index, postgres);
    const embedderState = manifest.files.embedder ? await fs.readFile(path.join(dir, manifest.files.embedder)) : undefined;
    const chunksByFile = new Map<string, Array<{ id: string; label: number }>>();
    for (const chunk of table) {
      const list = chunksByFile.get(chunk.file) ?? [];
      list.push({ id: chunk.id, label: chunk.ordinal });
      chunksByFile.set(chunk.file, list);
    }
    return { manifest, chunksByFile, vectors, embedderState };
  } catch {
    // Missing or damaged: build from scratch.
    return undefined;
  }
}

function storedChunks(doc: IngestedDocument): StoredChunk[] {
  return doc.chunks.map((c) => {
    const spans = c.kind === 'text' ? quotableSpans(doc.norm, c.start, c.end) : [];
    return {
      id: c.id,
      file: c.file,
      section: c.section,
      start: c.start,
      end: c.end,
      text: c.text,
      quote: c.quote,
      kind: c.kind,
      ...(spans.length > 1 ? { spans } : {}),
      ...(c.indicator ? { indicator: c.indicator } : {}),
    };
  });
}

export async function buildIndex(
  config: { index: IndexConfig; llm: LlmConfig },
  options: { rebuild?: boolean; onProgress?: (p: IngestProgress) => void; embedder?: Embedder; postgres?: Postgres } = {},
): Promise<BuildResult> {
  const t0 = performance.now();
  const { index } = config;
  const progress = options.onProgress ?? (() => {});
  const { documents: sources, skipped } = await readCorpus(index.corpusDir, { extractedDir: extractedDir(index.stateDir) });
  progress({ phase: 'load', documents: sources.length });
  for (const s of skipped) progress({ phase: 'skip', ...s });

  const previous = options.rebuild ? undefined : await readPreviousBuild(index, options.postgres);
  // Another embedder means re-embedding every chunk, which may cost money with a remote
  // one: never done silently, only when --rebuild is asked for (IndexMismatchError says so).
  if (previous) checkEmbedderMatches(previous.manifest, index);

  const docs: IngestedDocument[] = [];
  for (const src of sources) docs.push(await ingestDocument(src, index.chunking));
  const chunkLists = docs.map(storedChunks);

  let embedder: Embedder | undefined = options.embedder ?? (await configuredEmbedder(index, config.llm, previous?.embedderState));
  if (!embedder) {
    embedder = LocalEmbedder.fit(
      chunkLists.flatMap((list, i) => list.map((c) => contextText(c, docs[i]!.meta))),
      index.embedding.dimensions,
    );
  }
  if (embedder instanceof OpenAiEmbedder) await embedder.probe();

  const sameChunking =
    previous?.manifest.chunking.chunkSize === index.chunking.chunkSize && previous?.manifest.chunking.chunkOverlap === index.chunking.chunkOverlap;
  const dims = embedder.info.dimensions;
  const total = chunkLists.reduce((n, list) => n + list.length, 0);
  const plan = planPartitions(docs.map((d, i) => ({ file: d.meta.file, district: d.meta.district, chunks: chunkLists[i]!.length })));
  const sink = await openVectorSink(index, embedder, plan, options.postgres ? { postgres: options.postgres } : {});
  const writer = await BuildWriter.open(index.stateDir, { dimensions: dims, plan, sink });
  // Per document: the label of each chunk's vector in the previous build, when it can be kept.
  const kept = docs.map((doc, i) => {
    const list = chunkLists[i]!;
    const prevDoc = previous?.manifest.documents.find((d) => d.file === doc.meta.file);
    const prevChunks = previous?.chunksByFile.get(doc.meta.file);
    const canReuse = sameChunking && prevDoc?.checksum === doc.checksum && prevDoc.district === doc.meta.district && prevChunks?.length === list.length;
    return list.map((c, j) => (canReuse && prevChunks![j]!.id === c.id ? prevChunks![j]!.label : undefined));
  });
  const toEmbed = kept.reduce((n, labels) => n + labels.filter((l) => l === undefined).length, 0);
  let embedded = 0;
  try {
    const BATCH = 256;
    for (const [i, doc] of docs.entries()) {
      const list = chunkLists[i]!;
      for (let from = 0; from < list.length; from += BATCH) {
        const batch = list.slice(from, from + BATCH);
        const contexts = batch.map((c) => contextText(c, doc.meta));
        const prev = kept[i]!.slice(from, from + BATCH);
        const fresh = await embedder.embedDocuments(contexts.filter((_, j) => prev[j] === undefined));
        const keptLabels = prev.filter((l): l is number => l !== undefined);
        const reusedVectors = keptLabels.length > 0 ? await previous!.vectors.vectorsOf(keptLabels) : [];
        let next = 0;
        let nextKept = 0;
        for (const [j, chunk] of batch.entries()) {
          const vector = prev[j] !== undefined ? reusedVectors[nextKept++]! : fresh[next++]!;
          await writer.add(chunk, contexts[j]!, vector);
        }
        embedded += fresh.length;
        if (fresh.length > 0) progress({ phase: 'embed', done: embedded, total: toEmbed });
      }
      progress({ phase: 'document', file: doc.meta.file, chunks: list.length, reused: list.length > 0 && kept[i]!.every((l) => l !== undefined), done: i + 1, total: docs.length });
    }
    progress({ phase: 'write', chunks: total });
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await previous?.vectors.close();
  }
  const dir = await writer.finish(
    {
      builtAt: new Date().toISOString(),
      embedder: embedder.info,
      chunking: index.chunking,
      documents: docs.map((d, i) => ({ ...d.meta, checksum: d.checksum, chunkCount: chunkLists[i]!.length })),
    },
    embedder instanceof LocalEmbedder ? embedder : undefined,
  );
  return {
    dir,
    documents: docs.length,
    chunks: total,
    embedded,
    reused: total - embedded,
    embedder: describeEmbedder(embedder.info),
    ms: Math.round(performance.now() - t0),
    skipped,
  };
}
