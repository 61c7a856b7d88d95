import * as z from 'zod';
import { SectionFile, writeSectionFile } from './binary-file.ts';
import { l2Normalize, type Embedder, type EmbedderInfo } from './embedder.ts';
import { foldForMatch } from './tokenize.ts';

/**
 * The offline default embedder: TF-IDF over character n-grams (1..3), hashed with a sign
 * bit into a fixed number of dimensions, with document frequencies fit on the corpus.
 * No weights to download; Chinese needs no segmentation at this level. The fit is kept
 * across incremental ingests (new n-grams get the rarest IDF) so unchanged documents
 * keep their vectors; `ingest --rebuild` refits. 1024 dimensions: at 512, hash collisions
 * cost a third of vector-only hit@5 on the dev set (0.54 vs 0.82); 2048 gained little in
 * the fused ranking but doubled HNSW build and search time at 100k chunks.
 */

export const LOCAL_EMBEDDER_ID = 'local-tfidf';
const MODEL = 'char-ngram-1-3-v2';
const DEFAULT_DIMENSIONS = 1024;
// Bigrams carry most of the meaning in Chinese; unigrams add recall, trigrams precision.
const NGRAM_WEIGHTS = [0, 0.35, 1, 0.8];

const stateSchema = z.object({
  model: z.literal(MODEL),
  dimensions: z.number().int().positive(),
  documents: z.number().int().nonnegative(),
  /**
   * Document frequencies keyed by the n-gram's 32-bit hash, as [hash, df] pairs. Checked in
   * one loop: a schema per pair made reading the state most of the index's load time
   * (200 ms for the shipped corpus' 70,000 n-grams).
   */
  df: z.custom<Array<[number, number]>>((v) => Array.isArray(v) && v.every(isDfPair), 'expected [hash, df] pairs of integers'),
});
export type LocalEmbedderState = z.infer<typeof stateSchema>;

function isDfPair(p: unknown): boolean {
  return Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]) && p[1] > 0;
}

/** The state's fields but its df pairs: the meta of the binary state file. */
const stateHeadSchema = stateSchema.omit({ df: true }).strict();
/** The binary state file (binary-file.ts): its document-frequency table as it is in memory. */
const STATE_MAGIC = 'PQAEMB01';

/** A term count's weight, 1 + ln(tf), for the counts most n-grams have. */
const TF_WEIGHTS = Float64Array.from({ length: 64 }, (_, tf) => 1 + Math.log(tf));
/** Document frequencies up to this have their IDF cached (8 bytes each). */
const IDF_CACHE_MAX = 1 << 20;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Counts of a text's 1-, 2- and 3-grams keyed by FNV-1a hash (with the length mixed in),
 * each as 4·count + n, in order of first occurrence (the order in which embed sums them,
 * so vectors stay bit for bit the same). Hashing as we go avoids building a string per
 * n-gram, the cost that dominated embedding time. Keys are signed 32-bit integers; the
 * state on disk holds them unsigned. One counter serves text after text: its table (open
 * addressing in typed arrays) is cleared slot by slot, where a Map per text cost most of
 * the remaining time.
 */
class NgramCounter {
  private keys = new Int32Array(4096);
  /** 4·count + n; 0 marks an empty slot. */
  private packed = new Int32Array(4096);
  /** Slots in use, in order of first occurrence. */
  private order = new Int32Array(2048);
  private shift = 32 - 12;
  size = 0;

  /** Counts `text`'s n-grams, replacing the previous text's; read them with keyAt and packedAt. */
  count(text: string): this {
    this.clear();
    // Punctuation carries no topic; digits and Latin letters do (PM2.5, 5G).
    const folded = foldForMatch(text).replace(/[^\p{L}\p{N}.%]+/gu, ' ');
    // At most three n-grams a character: keep the table at most half full.
    while (folded.length * 3 > this.order.length) this.grow();
    const { keys, packed, order, shift } = this;
    const mask = keys.length - 1;
    for (let i = 0; i < folded.length; i++) {
      let h = FNV_OFFSET;
      for (let n = 1; n <= 3 && i + n <= folded.length; n++) {
        const c = folded.charCodeAt(i + n - 1);
        if (c === 32) break;
        h = Math.imul(h ^ c, FNV_PRIME);
        const key = Math.imul(h ^ n, FNV_PRIME);
        let slot = Math.imul(key, 0x9e3779b1) >>> shift;
        while (packed[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
        if (packed[slot] === 0) {
          keys[slot] = key;
          packed[slot] = 4 + n;
          order[this.size++] = slot;
        } else packed[slot]! += 4;
      }
    }
    return this;
  }

  keyAt(i: number): number {
    return this.keys[this.order[i]!]!;
  }

  packedAt(i: number): number {
    return this.packed[this.order[i]!]!;
  }

  private clear(): void {
    for (let i = 0; i < this.size; i++) this.packed[this.order[i]!] = 0;
    this.size = 0;
  }

  private grow(): void {
    this.keys = new Int32Array(this.keys.length * 2);
    this.packed = new Int32Array(this.packed.length * 2);
    this.order = new Int32Array(this.order.length * 2);
    this.shift--;
  }
}

/**
 * Document frequency by n-gram hash, in two typed arrays (open addressing, linear probing):
 * built from the state in a millisecond or two where a Map of 75,000 entries took 40 ms of
 * the index's load, and looked up without boxing.
 */
class DfTable {
  private readonly keys: Int32Array;
  /** 0 marks an empty slot (a stored frequency is at least 1). */
  private readonly counts: Uint32Array;
  private readonly shift: number;

  /** A table over `keys` and `counts`, of the same power-of-two length (16 or more). */
  private constructor(keys: Int32Array, counts: Uint32Array) {
    this.keys = keys;
    this.counts = counts;
    this.shift = 32 - Math.log2(keys.length);
  }

  /** An empty table sized for `count` n-grams. */
  private static sizedFor(count: number): DfTable {
    const bits = Math.max(4, Math.ceil(Math.log2(count * 2 + 1)));
    return new DfTable(new Int32Array(1 << bits), new Uint32Array(1 << bits));
  }

  /** The table as written by `columns`; undefined when its arrays cannot be one. */
  static fromTable(keys: Int32Array, counts: Uint32Array): DfTable | undefined {
    const n = keys.length;
    if (n !== counts.length || n < 16 || (n & (n - 1)) !== 0) return undefined;
    return new DfTable(keys, counts);
  }

  /** The table's own arrays, for the state file. */
  columns(): { keys: Int32Array; counts: Uint32Array } {
    return { keys: this.keys, counts: this.counts };
  }

  static fromPairs(pairs: ReadonlyArray<readonly [number, number]>): DfTable {
    const hashes = new Int32Array(pairs.length);
    const dfs = new Uint32Array(pairs.length);
    pairs.forEach(([hash, df], i) => {
      hashes[i] = hash;
      dfs[i] = df;
    });
    return DfTable.fromColumns(hashes, dfs, pairs.length);
  }

  /**
   * From the first `count` entries of two columns (hashes as the table keys them, `| 0`).
   * The probe is written out in the loop: it runs once per start, mostly before V8
   * optimizes it, when a call per entry cost half as much again.
   */
  static fromColumns(hashes: Int32Array, dfs: Uint32Array, count: number): DfTable {
    const table = DfTable.sizedFor(count);
    const { keys, counts, shift } = table;
    const mask = keys.length - 1;
    for (let n = 0; n < count; n++) {
      const key = hashes[n]!;
      let i = Math.imul(key, 0x9e3779b1) >>> shift;
      while (counts[i] !== 0 && keys[i] !== key) i = (i + 1) & mask;
      keys[i] = key;
      counts[i] = dfs[n]!;
    }
    return table;
  }

  private slot(key: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.counts[i] !== 0 && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  get(key: number): number {
    return this.counts[this.slot(key)]!;
  }

  /** [unsigned hash, df] pairs, as the state on disk holds them. */
  pairs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.keys.length; i++) if (this.counts[i] !== 0) out.push([this.keys[i]! >>> 0, this.counts[i]!]);
    return out;
  }
}

export class LocalEmbedder implements Embedder {
  static readonly MODEL = MODEL;
  static readonly DEFAULT_DIMENSIONS = DEFAULT_DIMENSIONS;
  readonly info: EmbedderInfo;
  private readonly df: DfTable;
  private readonly documents: number;
  private readonly ngrams = new NgramCounter();
  /** IDF by document frequency, each computed once (0: not yet); Math.log per n-gram was a third of embedding time. */
  private idfByDf: Float64Array | undefined;

  private constructor(dimensions: number, documents: number, df: DfTable) {
    this.info = { id: LOCAL_EMBEDDER_ID, model: MODEL, dimensions };
    this.df = df;
    this.documents = documents;
  }

  /** Fits document frequencies on the given texts (the corpus' chunks). */
  static fit(texts: readonly string[], dimensions = DEFAULT_DIMENSIONS): LocalEmbedder {
    const df = new Map<number, number>();
    const counter = new NgramCounter();
    for (const t of texts) {
      counter.count(t);
      for (let i = 0; i < counter.size; i++) {
        const g = counter.keyAt(i);
        df.set(g, (df.get(g) ?? 0) + 1);
      }
    }
    return new LocalEmbedder(dimensions || DEFAULT_DIMENSIONS, texts.length, DfTable.fromPairs(Array.from(df, ([hash, n]) => [hash >>> 0, n])));
  }

  static fromJSON(json: unknown): LocalEmbedder {
    const state = stateSchema.parse(json);
    return new LocalEmbedder(state.dimensions, state.documents, DfTable.fromPairs(state.df));
  }

  /**
   * From the state file's bytes: the binary file `writeState` writes, whose table is used
   * as it lies in the file (nothing to decode: a cold start's JSON state took 15 ms to
   * read), or the JSON state of earlier builds.
   */
  static fromStateFile(bytes: Uint8Array): LocalEmbedder {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (text.toString('latin1', 0, STATE_MAGIC.length) !== STATE_MAGIC) return LocalEmbedder.fromJSON(JSON.parse(text.toString('utf8')));
    const file = SectionFile.parse(bytes, STATE_MAGIC);
    const head = stateHeadSchema.parse(file.meta);
    const table = DfTable.fromTable(file.section('keys', Int32Array), file.section('counts', Uint32Array));
    if (!table) throw new Error('local-embedder: the state table is not a power-of-two hash table');
    return new LocalEmbedder(head.dimensions, head.documents, table);
  }

  /** Writes the state to `file`: a binary file holding the document-frequency table as it is. */
  writeState(file: string): void {
    const { keys, counts } = this.df.columns();
    writeSectionFile(file, STATE_MAGIC, { model: MODEL, dimensions: this.info.dimensions, documents: this.documents }, [
      { name: 'keys', data: keys },
      { name: 'counts', data: counts },
    ]);
  }

  toJSON(): LocalEmbedderState {
    return { model: MODEL, dimensions: this.info.dimensions, documents: this.documents, df: this.df.pairs() };
  }

  /** Dimension = unsigned hash modulo dims, sign = the hash's top bit: folding to a divisor keeps both. */
  readonly foldable = true;

  embed(text: string): Float32Array {
    const dims = this.info.dimensions;
    // For a power of two, the unsigned hash modulo dims is its low bits: the same dimension
    // without a floating-point modulo (an unsigned hash of 2^31 or more is not a small integer).
    const mask = (dims & (dims - 1)) === 0 ? dims - 1 : -1;
    const v = new Float32Array(dims);
    const ngrams = this.ngrams.count(text);
    for (let i = 0; i < ngrams.size; i++) {
      const key = ngrams.keyAt(i);
      const packed = ngrams.packedAt(i);
      const tf = packed >> 2;
      const weight = (tf < TF_WEIGHTS.length ? TF_WEIGHTS[tf]! : 1 + Math.log(tf)) * this.idf(this.df.get(key)) * NGRAM_WEIGHTS[packed & 3]!;
      // The hash's top bit gives the sign; the unsigned hash, the dimension.
      v[mask >= 0 ? key & mask : (key >>> 0) % dims]! += key < 0 ? -weight : weight;
    }
    return l2Normalize(v);
  }

  private idf(df: number): number {
    const cache = (this.idfByDf ??= new Float64Array(Math.min(this.documents, IDF_CACHE_MAX) + 1));
    if (df >= cache.length) return Math.log((this.documents + 1) / (df + 1)) + 1;
    return cache[df] || (cache[df] = Math.log((this.documents + 1) / (df + 1)) + 1);
  }

  async embedDocuments(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embed(t));
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return this.embed(text);
  }
}
