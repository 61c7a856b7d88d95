import path from 'node:path';
import { z } from 'zod';
import type { IndexConfig, LlmConfig } from '../config.ts';
import { readCorpus, type SkippedFile } from '../ingest/corpus.ts';
import { extractedDir } from '../ingest/extracted-store.ts';
import { ingestDocument, type IngestedDocument } from '../ingest/chunk.ts';
import { quotableSpans } from '../ingest/normalize.ts';
import { describeEmbedder, type Embedder } from './embedder.ts';
import {
  currentBuildDir,
  readJsonFile,
  readManifest,
  readVectors,
  storedChunkSchema,
  writeBuild,
  type IndexManifest,
  type StoredChunk,
} from './index-store.ts';
import { LexicalIndex } from './lexical-index.ts';
import { LocalEmbedder } from './local-embedder.ts';
import { OpenAiEmbedder } from './openai-embedder.ts';
import { checkEmbedderMatches, configuredEmbedder, contextText } from './plan-index.ts';
import { writeVectors } from './vector-store.ts';
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
  chunksByFile: Map<string, Array<{ chunk: StoredChunk; vector: Float32Array }>>;
  embedderState?: unknown;
}

async function readPreviousBuild(stateDir: string): Promise<PreviousBuild | undefined> {
  try {
    const dir = await currentBuildDir(stateDir);
    const manifest = await readManifest(dir);
    const chunks = await readJsonFile(path.join(dir, manifest.files.chunks), z.array(storedChunkSchema), 'chunk table');
    const vectors = await readVectors(path.join(dir, manifest.files.vectors), manifest.embedder.dimensions, chunks.length);
    const embedderState = manifest.files.embedder ? await readJsonFile(path.join(dir, manifest.files.embedder), z.unknown(), 'embedder state') : undefined;
    const chunksByFile = new Map<string, Array<{ chunk: StoredChunk; vector: Float32Array }>>();
    chunks.forEach((chunk, i) => {
      const list = chunksByFile.get(chunk.file) ?? [];
      list.push({ chunk, vector: vectors[i]! });
      chunksByFile.set(chunk.file, list);
    });
    return { manifest, chunksByFile, embedderState };
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

  const previous = options.rebuild ? undefined : await readPreviousBuild(index.stateDir);
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
  const chunks: StoredChunk[] = [];
  const vectors: Array<Float32Array | undefined> = [];
  const toEmbed: number[] = [];
  let reused = 0;
  docs.forEach((doc, i) => {
    const prevDoc = previous?.manifest.documents.find((d) => d.file === doc.meta.file);
    const prevChunks = previous?.chunksByFile.get(doc.meta.file);
    const canReuse = sameChunking && prevDoc?.checksum === doc.checksum && prevDoc.district === doc.meta.district && prevChunks?.length === chunkLists[i]!.length;
    for (const [j, chunk] of chunkLists[i]!.entries()) {
      const prev = canReuse ? prevChunks![j] : undefined;
      chunks.push(chunk);
      if (prev && prev.chunk.id === chunk.id) {
        vectors.push(prev.vector);
        reused++;
      } else {
        vectors.push(undefined);
        toEmbed.push(chunks.length - 1);
      }
    }
    progress({ phase: 'document', file: doc.meta.file, chunks: chunkLists[i]!.length, reused: canReuse, done: i + 1, total: docs.length });
  });

  const metaByFile = new Map(docs.map((d) => [d.meta.file, d.meta]));
  const BATCH = 256;
  for (let i = 0; i < toEmbed.length; i += BATCH) {
    const batch = toEmbed.slice(i, i + BATCH);
    const embedded = await embedder.embedDocuments(batch.map((k) => contextText(chunks[k]!, metaByFile.get(chunks[k]!.file)!)));
    batch.forEach((k, j) => (vectors[k] = embedded[j]));
    progress({ phase: 'embed', done: Math.min(i + BATCH, toEmbed.length), total: toEmbed.length });
  }

  const dims = embedder.info.dimensions;
  const allVectors = vectors as Float32Array[];
  const lexical = LexicalIndex.build(chunks.map((c) => contextText(c, metaByFile.get(c.file)!)));
  progress({ phase: 'write', chunks: chunks.length });
  const searchable = await writeVectors(index, allVectors, dims, options.postgres);
  const dir = await writeBuild(index.stateDir, {
    manifest: {
      builtAt: new Date().toISOString(),
      embedder: embedder.info,
      chunking: index.chunking,
      documents: docs.map((d, i) => ({ ...d.meta, checksum: d.checksum, chunkCount: chunkLists[i]!.length })),
      chunkCount: chunks.length,
      vectorStore: searchable.vectorStore,
    },
    chunks,
    vectors: allVectors,
    ...(searchable.writeHnsw ? { writeHnsw: searchable.writeHnsw } : {}),
    lexicalJson: lexical.toJSON(),
    ...(embedder instanceof LocalEmbedder ? { embedderState: embedder.toJSON() } : {}),
  }).catch(async (err: unknown) => {
    await searchable.settle(false);
    throw err;
  });
  await searchable.settle(true);
  return {
    dir,
    documents: docs.length,
    chunks: chunks.length,
    embedded: toEmbed.length,
    reused,
    embedder: describeEmbedder(embedder.info),
    ms: Math.round(performance.now() - t0),
    skipped,
  };
}
