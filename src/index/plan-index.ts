import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IndexConfig } from '../config.ts';
import { IndexCorruptError, IndexMismatchError } from '../errors.ts';
import type { LlmConfig } from '../config.ts';
import { describeEmbedder, type Embedder, type EmbedderInfo } from './embedder.ts';
import { ChunkTable } from './chunk-table.ts';
import { currentBuildDir, readBuildFile, readManifest, sha256, verifyBuildFiles, type IndexManifest, type IndexedDocumentMeta, type StoredChunk } from './index-store.ts';
import { readCorpusWords, type CorpusWords } from './corpus-words.ts';
import { LexicalIndex } from './lexical-index.ts';
import { LOCAL_EMBEDDER_ID, LocalEmbedder } from './local-embedder.ts';
import { openVectors } from './vector-store.ts';
import type { VectorSearch } from './vector-search.ts';
import type { Postgres } from '../postgres-client.ts';

export type { IndexedChunk } from './chunk-table.ts';

/** Text that embeddings and BM25 see: district and section path give a passage its context. Never quoted. */
export function contextText(chunk: Pick<StoredChunk, 'section' | 'text'>, doc: { district: string }): string {
  return `${doc.district} ${chunk.section.join(' ')}\n${chunk.text}`;
}

/** The loaded, searchable index. */
export class PlanIndex {
  readonly documents: IndexedDocumentMeta[];

  constructor(
    readonly manifest: IndexManifest,
    /** The chunks, by ordinal (`chunks.at(label)`); iterate it for all of them. */
    readonly chunks: ChunkTable,
    readonly embedder: Embedder,
    readonly vector: VectorSearch,
    readonly lexical: LexicalIndex,
    /** The build's corpus-words file and its checksum, when it has one. */
    private readonly corpusWordsFile?: { path: string; checksum?: string },
  ) {
    this.documents = manifest.documents;
  }

  private corpusWordsRead?: { maxChars: number; sequence: CorpusWords } | null;

  /**
   * The corpus as one sequence of jieba words, as the build wrote it: read on first use
   * (the questions that need it are those with a shortened or unknown word), and checked
   * against the manifest's checksum again then. Undefined for a build without it, or when
   * it is gone or damaged: the corpus lexicon then segments the corpus itself.
   */
  corpusWords(): { maxChars: number; sequence: CorpusWords } | undefined {
    if (this.corpusWordsRead === undefined) {
      this.corpusWordsRead = null;
      if (this.corpusWordsFile) {
        try {
          const bytes = readFileSync(this.corpusWordsFile.path);
          if (this.corpusWordsFile.checksum === undefined || sha256(bytes) === this.corpusWordsFile.checksum) this.corpusWordsRead = readCorpusWords(bytes);
        } catch {
          // the lexicon segments the corpus itself
        }
      }
    }
    return this.corpusWordsRead ?? undefined;
  }

  document(file: string): IndexedDocumentMeta | undefined {
    return this.documents.find((d) => d.file === file);
  }

  /** Releases what the vector backend holds open (a database pool it opened itself). */
  close(): Promise<void> {
    return this.vector.close();
  }
}

/**
 * Builds the query-time embedder that config asks for. The OpenAI SDK is loaded only when
 * config names it: a process on the local embedder never pays for its hundred-odd modules.
 */
export async function configuredEmbedder(index: IndexConfig, llm: LlmConfig, localState?: Uint8Array): Promise<Embedder | undefined> {
  if (index.embedding.provider === 'openai') {
    const [{ OpenAiEmbedder }, { createOpenAiClient }] = await Promise.all([import('./openai-embedder.ts'), import('../openai-client.ts')]);
    return new OpenAiEmbedder(createOpenAiClient(llm), index.embedding.model ?? '', index.embedding.dimensions);
  }
  return localState === undefined ? undefined : LocalEmbedder.fromStateFile(localState);
}

function sameEmbedder(a: EmbedderInfo, b: EmbedderInfo): boolean {
  return a.id === b.id && a.model === b.model && (a.dimensions === 0 || b.dimensions === 0 || a.dimensions === b.dimensions);
}

/** What config asks for, as comparable to a manifest (dimensions 0 = not fixed by config). */
export function requestedEmbedder(index: IndexConfig): EmbedderInfo {
  return index.embedding.provider === 'openai'
    ? { id: 'openai', model: index.embedding.model ?? '', dimensions: index.embedding.dimensions }
    : { id: LOCAL_EMBEDDER_ID, model: LocalEmbedder.MODEL, dimensions: index.embedding.dimensions || LocalEmbedder.DEFAULT_DIMENSIONS };
}

export function checkEmbedderMatches(manifest: IndexManifest, index: IndexConfig): void {
  const want = requestedEmbedder(index);
  if (!sameEmbedder(want, manifest.embedder)) {
    throw new IndexMismatchError(
      `index: built with ${describeEmbedder(manifest.embedder)} but config asks for ${describeEmbedder(want)}; re-ingest with \`npm run ingest -- --rebuild\``,
    );
  }
}

/** The chunk table of a build (its files' checksums already verified; `read`: bytes verifyBuildFiles read). */
export async function readChunkTable(dir: string, manifest: IndexManifest, options: { textsInMemoryMax?: number } = {}, read: ReadonlyMap<string, Buffer> = new Map()): Promise<ChunkTable> {
  const paths = { meta: path.join(dir, manifest.files.chunks), columns: path.join(dir, manifest.files.chunkColumns), texts: path.join(dir, manifest.files.texts) };
  const [meta, columns] = await Promise.all([buildFile(dir, manifest.files.chunks, 'chunk table', read), buildFile(dir, manifest.files.chunkColumns, 'chunk columns', read)]);
  let table: ChunkTable;
  try {
    table = ChunkTable.open(paths, { meta: meta.toString('utf8'), columns }, manifest.documents, options);
  } catch (err) {
    throw new IndexCorruptError(`index: the chunk table in ${dir} is unreadable (${(err as Error).message.split('\n')[0]}); run \`npm run ingest -- --rebuild\``, { cause: err });
  }
  if (table.length !== manifest.chunkCount)
    throw new IndexCorruptError(`index: manifest in ${dir} lists ${manifest.chunkCount} chunks, its chunk table has ${table.length}; run \`npm run ingest -- --rebuild\``);
  return table;
}

/** A build file's bytes: from what verifyBuildFiles read, else from disk. */
function buildFile(dir: string, name: string, what: string, read: ReadonlyMap<string, Buffer>): Promise<Buffer> {
  const bytes = read.get(name);
  return bytes ? Promise.resolve(bytes) : readBuildFile(path.join(dir, name), what);
}

export interface LoadIndexOptions {
  /** The process's database handle, for vectors kept in PostgreSQL (else one is opened from config). */
  postgres?: Postgres;
  /** Chunk texts up to this many bytes are held in memory; beyond, they are read from the texts file when shown. */
  textsInMemoryMax?: number;
}

/** Loads the current build; throws IndexMissingError / IndexCorruptError / IndexMismatchError with a clear message. */
export async function loadPlanIndex(index: IndexConfig, llm: LlmConfig, options: LoadIndexOptions = {}): Promise<PlanIndex> {
  return loadPlanIndexFrom(await currentBuildDir(index.stateDir), index, llm, options);
}

/** Loads the build in `dir` (a published generation, see index-generations.ts), checksums verified first. */
export async function loadPlanIndexFrom(dir: string, index: IndexConfig, llm: LlmConfig, options: LoadIndexOptions = {}): Promise<PlanIndex> {
  const manifest = await readManifest(dir);
  checkEmbedderMatches(manifest, index);
  const { chunks: chunkMeta, chunkColumns, lexical: lexicalFile, embedder: embedderFile, corpusWords: corpusWordsFile } = manifest.files;
  const read = await verifyBuildFiles(dir, manifest, [chunkMeta, chunkColumns, lexicalFile, ...(embedderFile ? [embedderFile] : [])]);
  const chunks = await readChunkTable(dir, manifest, options, read);
  const embedder = await loadEmbedder(dir, manifest, index, llm, read);
  const lexical = LexicalIndex.load(await buildFile(dir, manifest.files.lexical, 'lexical index', read), chunks.length);
  const vector = await openVectors(dir, manifest, index, options.postgres);
  const corpusWords = corpusWordsFile ? { path: path.join(dir, corpusWordsFile), checksum: manifest.checksums?.[corpusWordsFile] } : undefined;
  return new PlanIndex(manifest, chunks, embedder, vector, lexical, corpusWords);
}

/** The query embedder of a build: the local one from its stored state, or the configured API model. */
async function loadEmbedder(dir: string, manifest: IndexManifest, index: IndexConfig, llm: LlmConfig, read: ReadonlyMap<string, Buffer>): Promise<Embedder> {
  const name = manifest.files.embedder;
  if (index.embedding.provider === 'openai' || !name) {
    const embedder = await configuredEmbedder(index, llm);
    if (!embedder) throw new IndexMismatchError('index: the local embedder state is missing; re-ingest with `npm run ingest -- --rebuild`');
    return embedder;
  }
  const file = path.join(dir, name);
  const bytes = await buildFile(dir, name, 'embedder state', read);
  try {
    return LocalEmbedder.fromStateFile(bytes);
  } catch (err) {
    throw new IndexCorruptError(`index: embedder state (${file}) is unreadable; run \`npm run ingest -- --rebuild\``, { cause: err });
  }
}
