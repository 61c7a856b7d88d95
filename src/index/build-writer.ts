import path from 'node:path';
import { CHUNK_TABLE_FILES, ChunkTableWriter } from './chunk-table.ts';
import { CorpusWordsBuilder, writeCorpusWords } from './corpus-words.ts';
import { commitBuild, createBuildDir, type IndexManifest, type StoredChunk } from './index-store.ts';
import { LexicalIndexBuilder } from './lexical-index.ts';
import { hnswVectorSink, type BuildVectorSink, type HnswSinkOptions } from './vector-store.ts';
import type { PartitionPlan } from './vector-partitions.ts';
import { StateError } from '../errors.ts';
import { promises as fs } from 'node:fs';
import type { FittedEmbedder } from './embedder.ts';

/**
 * Writes one build, a chunk at a time: its text goes to the texts file, its columns to
 * the chunk table, its context text to the BM25 builder and its vector to the vector
 * sink (the HNSW builder, a worker thread for large builds; or a pgvector table). Nothing per chunk is held but what the
 * finished index holds, so a build of a million chunks needs about the memory of
 * serving it. Records where the time goes.
 */

export interface BuildTimings {
  /** Writing chunk columns and texts. */
  chunkTableMs: number;
  /** Tokenizing and posting for BM25. */
  lexicalMs: number;
  /** Handing vectors to the HNSW builder, including waiting for it when it is behind. */
  vectorMs: number;
  /** From the last chunk to the files written and checksummed. */
  finishMs: number;
}

const FILES = {
  chunks: CHUNK_TABLE_FILES.meta,
  chunkColumns: CHUNK_TABLE_FILES.columns,
  texts: CHUNK_TABLE_FILES.texts,
  lexical: 'lexical.bin',
  corpusWords: 'corpus-words.bin',
} as const;
/** The local embedder's fit (earlier builds hold it as embedder.json, which still loads). */
const EMBEDDER_STATE_FILE = 'embedder.bin';

export class BuildWriter {
  readonly timings: BuildTimings = { chunkTableMs: 0, lexicalMs: 0, vectorMs: 0, finishMs: 0 };

  private constructor(
    private readonly stateDir: string,
    readonly dir: string,
    private readonly chunks: ChunkTableWriter,
    private readonly lexical: LexicalIndexBuilder,
    private readonly vectors: BuildVectorSink,
    private readonly plan: PartitionPlan,
    private readonly corpusWords = new CorpusWordsBuilder(),
  ) {}

  /**
   * `plan`: the vector partition of each document of the build (its chunks' counts size the
   * HNSW indexes, which grow past them if needed); `sink`: where the vectors go (default:
   * HNSW index files in the build).
   */
  static async open(
    stateDir: string,
    options: { dimensions: number; plan: PartitionPlan; vector?: HnswSinkOptions; sink?: BuildVectorSink },
  ): Promise<BuildWriter> {
    const dir = await createBuildDir(stateDir);
    const sink = options.sink ?? hnswVectorSink(options.dimensions, options.plan, options.vector);
    try {
      await sink.start(dir);
    } catch (err) {
      await sink.settle(false).catch(() => {});
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
    const chunks = new ChunkTableWriter({ meta: path.join(dir, FILES.chunks), columns: path.join(dir, FILES.chunkColumns), texts: path.join(dir, FILES.texts) });
    return new BuildWriter(stateDir, dir, chunks, new LexicalIndexBuilder(), sink, options.plan);
  }

  get count(): number {
    return this.chunks.count;
  }

  /** Adds the next chunk; `context` is what BM25 indexes (contextText), `vector` its embedding. */
  async add(chunk: StoredChunk, context: string, vector: Float32Array): Promise<void> {
    const partition = this.plan.partitionOfFile.get(chunk.file);
    if (partition === undefined) throw new StateError(`index: ${chunk.file} is not among the documents this build was planned for`);
    let t = performance.now();
    this.chunks.add(chunk);
    const t1 = performance.now();
    this.timings.chunkTableMs += t1 - t;
    this.lexical.add(context);
    this.corpusWords.add(chunk.text);
    t = performance.now();
    this.timings.lexicalMs += t - t1;
    await this.vectors.add(vector, partition);
    this.timings.vectorMs += performance.now() - t;
  }

  /** Writes the remaining files and the manifest, and makes this build the current one. */
  async finish(manifest: Omit<IndexManifest, 'formatVersion' | 'files' | 'checksums' | 'chunkCount' | 'vectorStore'>, fitted?: FittedEmbedder): Promise<string> {
    const t = performance.now();
    const { count } = this.chunks.finish();
    this.lexical.finish().write(path.join(this.dir, FILES.lexical));
    writeCorpusWords(path.join(this.dir, FILES.corpusWords), this.corpusWords.finish());
    const vectorStore = await this.vectors.finish();
    const files: IndexManifest['files'] = { ...FILES, ...(fitted ? { embedder: EMBEDDER_STATE_FILE } : {}) };
    try {
      fitted?.writeState(path.join(this.dir, EMBEDDER_STATE_FILE));
      await commitBuild(this.stateDir, this.dir, { ...manifest, chunkCount: count, files, vectorStore });
    } catch (err) {
      await this.vectors.settle(false);
      throw err;
    }
    await this.vectors.settle(true);
    this.timings.finishMs = performance.now() - t;
    return this.dir;
  }

  /** Gives up a build: its folder is removed, the current build stays. */
  async abort(): Promise<void> {
    this.chunks.abort();
    await this.vectors.settle(false);
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
