import * as z from 'zod';
import { IndexCorruptError } from '../errors.ts';
import { SectionFile, writeSectionFile } from './binary-file.ts';
import { TermTable } from './term-table.ts';
import { bigramToken, searchTokenParts, searchTokens } from './tokenize.ts';

/**
 * BM25 over jieba search-mode words and CJK character bigrams, in a compact inverted
 * index of typed arrays. (MiniSearch was the first choice; on 10k synthetic chunks it
 * took 15 s to build and up to 120 ms per query with common terms, far from the 10 ms
 * budget at 100k chunks, so the index is our own: ~150 lines, serialized with a format
 * version.) Documents are identified by chunk ordinal.
 */

export interface LexicalHit {
  label: number;
  score: number;
}

const K1 = 1.2;
const B = 0.75;
const MAGIC = 'PQLEXIDX';
const FORMAT = 3;
/** Term frequencies are stored in one byte; a term 255 times in one passage ranks no higher. */
const MAX_TF = 255;

const metaSchema = z.object({ format: z.literal(FORMAT), documents: z.number().int().nonnegative(), terms: z.number().int().nonnegative() });

/**
 * Builds the index one passage at a time, passages numbered in the order added. Each term's
 * postings grow in a byte buffer of their own, already compressed (see LexicalIndex), so
 * memory during a build is about that of the finished index.
 */
export class LexicalIndexBuilder {
  private readonly termIds = new Map<string, number>();
  /**
   * Term id by number, for most of a passage's tokens: its CJK bigrams (numbered by
   * searchTokenParts) and its words of one or two common ideographs (wordNumber). A number
   * is looked up without making or hashing a string: with a Map by string for the words and
   * a Map by number for the bigrams, the lookups were a third of the builder's own time.
   */
  private readonly bigramIds = new TermIdTable();
  private readonly shortWordIds = new TermIdTable();
  private readonly terms: string[] = [];
  private readonly postings: Uint8Array[] = [];
  private readonly used: number[] = [];
  private readonly lastDoc: number[] = [];
  private readonly dfs: number[] = [];
  private lengths = new Uint16Array(1024);
  private count = 0;
  /** The passage being added: its count per term id (zero between passages), and its terms in order of first use. */
  private tfs = new Uint32Array(1024);
  private readonly docTerms: number[] = [];

  add(text: string): void {
    const doc = this.count++;
    if (doc === this.lengths.length) {
      const grown = new Uint16Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    const { words, bigrams } = searchTokenParts(text);
    this.lengths[doc] = Math.min(words.length + bigrams.length, 65_535);
    for (const w of words) {
      const number = wordNumber(w);
      if (number < 0) {
        this.countUse(this.termIds.get(w) ?? this.newTerm(w));
        continue;
      }
      let id = this.shortWordIds.get(number);
      if (id < 0) this.shortWordIds.set(number, (id = this.termIds.get(w) ?? this.newTerm(w)));
      this.countUse(id);
    }
    for (const code of bigrams) {
      let id = this.bigramIds.get(code);
      if (id < 0) {
        const token = bigramToken(code);
        this.bigramIds.set(code, (id = this.termIds.get(token) ?? this.newTerm(token)));
      }
      this.countUse(id);
    }
    const { tfs, docTerms } = this;
    for (const id of docTerms) {
      this.append(id, doc, tfs[id]!);
      tfs[id] = 0;
    }
    docTerms.length = 0;
  }

  private newTerm(token: string): number {
    const id = this.terms.length;
    this.termIds.set(token, id);
    this.terms.push(token);
    this.postings.push(new Uint8Array(8));
    this.used.push(0);
    this.lastDoc.push(0);
    this.dfs.push(0);
    if (id === this.tfs.length) {
      const grown = new Uint32Array(this.tfs.length * 2);
      grown.set(this.tfs);
      this.tfs = grown;
    }
    return id;
  }

  /** One more use of term `id` in the passage being added. */
  private countUse(id: number): void {
    if (this.tfs[id]!++ === 0) this.docTerms.push(id);
  }

  private append(id: number, doc: number, tf: number): void {
    let buf = this.postings[id]!;
    let at = this.used[id]!;
    // At most 5 bytes of gap and 1 of tf.
    if (at + 6 > buf.length) {
      const grown = new Uint8Array(buf.length * 2);
      grown.set(buf.subarray(0, at));
      this.postings[id] = buf = grown;
    }
    at = writeGap(buf, at, doc - this.lastDoc[id]!);
    buf[at++] = Math.min(tf, MAX_TF);
    this.used[id] = at;
    this.lastDoc[id] = doc;
    this.dfs[id]!++;
  }

  get size(): number {
    return this.count;
  }

  finish(): LexicalIndex {
    const { terms } = this;
    const starts = new Float64Array(terms.length + 1);
    let total = 0;
    terms.forEach((_, id) => {
      starts[id] = total;
      total += this.used[id]!;
    });
    starts[terms.length] = total;
    const postings = new Uint8Array(total);
    terms.forEach((_, id) => {
      postings.set(this.postings[id]!.subarray(0, this.used[id]!), starts[id]!);
      this.postings[id] = EMPTY; // let the parts go as the whole fills
    });
    return new LexicalIndex(TermTable.fromTerms(terms), Uint32Array.from(this.dfs), starts, postings, this.lengths.slice(0, this.count));
  }
}

const EMPTY = new Uint8Array(0);

/** Ideographs U+3400–U+9FFF (CJK Extension A and the unified block), where most words' characters are. */
const IDEOGRAPH_FIRST = 0x3400;
const IDEOGRAPHS = 0x9fff - IDEOGRAPH_FIRST + 1;

/**
 * A number below 2^30 for a word of one or two ideographs of U+3400–U+9FFF (one: below
 * IDEOGRAPHS; two: from IDEOGRAPHS up), −1 for any other word.
 */
function wordNumber(w: string): number {
  const a = w.charCodeAt(0) - IDEOGRAPH_FIRST;
  if (a < 0 || a >= IDEOGRAPHS) return -1;
  if (w.length === 1) return a;
  if (w.length !== 2) return -1;
  const b = w.charCodeAt(1) - IDEOGRAPH_FIRST;
  return b < 0 || b >= IDEOGRAPHS ? -1 : IDEOGRAPHS + a * IDEOGRAPHS + b;
}

/**
 * Term ids by a number below 2^30, in one typed array of (number + 1, id) pairs: open
 * addressing, linear probing, at most half full. A pair shares its cache line, where a
 * Map's lookup touched several.
 */
class TermIdTable {
  private slots = new Int32Array(2 * 1024);
  private shift = 32 - 10;
  private size = 0;

  /** The id of `number`, −1 when it has none. */
  get(number: number): number {
    const { slots } = this;
    const mask = (slots.length >> 1) - 1;
    for (let i = Math.imul(number + 1, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const key = slots[2 * i]!;
      if (key === number + 1) return slots[2 * i + 1]!;
      if (key === 0) return -1;
    }
  }

  /** Gives `number` (which has none) the id `id`. */
  set(number: number, id: number): void {
    if (++this.size * 2 > this.slots.length >> 1) this.grow();
    this.place(number + 1, id);
  }

  private place(key: number, id: number): void {
    const { slots } = this;
    const mask = (slots.length >> 1) - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (slots[2 * i] !== 0) i = (i + 1) & mask;
    slots[2 * i] = key;
    slots[2 * i + 1] = id;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.shift--;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}

/**
 * Postings one search reads at most. A large index of passages that share their words
 * (a million chunks of plans all speaking of 建设, 发展) would otherwise read tens of
 * millions per question; the commonest terms, which weigh least, are left out first, the
 * rarest always kept. Far above what a corpus of a few thousand passages ever reads, so
 * its rankings are unchanged.
 */
const POSTINGS_BUDGET = 400_000;

function withinBudget(ids: number[], dfs: Uint32Array, budget: number): number[] {
  let total = 0;
  for (const id of ids) total += dfs[id]!;
  if (total <= budget) return ids;
  const byRarity = [...ids].sort((a, b) => dfs[a]! - dfs[b]!);
  const kept = new Set<number>();
  let read = 0;
  for (const id of byRarity) {
    if (kept.size > 0 && read + dfs[id]! > budget) break;
    kept.add(id);
    read += dfs[id]!;
  }
  // In query order, as before: the order scores are summed in stays the same.
  return ids.filter((id) => kept.has(id));
}

/** Writes a non-negative integer as 7-bit groups, low first, high bit set on all but the last. */
function writeGap(buf: Uint8Array, at: number, gap: number): number {
  while (gap >= 0x80) {
    buf[at++] = (gap & 0x7f) | 0x80;
    gap = Math.floor(gap / 0x80);
  }
  buf[at++] = gap;
  return at;
}

/**
 * Postings are compressed: per term, for each passage holding it, the gap from the
 * previous passage's number (7 bits a byte) then the term's count in one byte — about
 * 2.5 bytes a posting where plain 32-bit numbers took 6. Passage numbers rise within a
 * term, so a search reads each list once, front to back.
 */
export class LexicalIndex {
  /** Per document: BM25's length normalisation, k1·(1 − b + b·len/avgLen). */
  private readonly norms: Float32Array;
  private readonly scores: Float32Array;
  private readonly touched: Uint32Array;
  /** Postings one search reads at most (see POSTINGS_BUDGET). */
  postingsBudget = POSTINGS_BUDGET;

  /** @internal Built by LexicalIndexBuilder or read by LexicalIndex.load. */
  constructor(
    private readonly terms: TermTable,
    /** Per term: passages holding it. */
    private readonly dfs: Uint32Array,
    /** Per term: byte offset of its postings (length terms + 1). */
    private readonly starts: Float64Array,
    private readonly postings: Uint8Array,
    private readonly lengths: Uint16Array,
  ) {
    let total = 0;
    for (const l of lengths) total += l;
    const avg = lengths.length && total ? total / lengths.length : 1;
    this.norms = Float32Array.from(lengths, (l) => K1 * (1 - B + (B * l) / avg));
    this.scores = new Float32Array(lengths.length);
    this.touched = new Uint32Array(lengths.length);
  }

  static build(texts: Iterable<string>): LexicalIndex {
    const builder = new LexicalIndexBuilder();
    for (const t of texts) builder.add(t);
    return builder.finish();
  }

  /** Reads what `write` wrote; IndexCorruptError when the bytes are not a whole index of `expectedCount` passages. */
  static load(data: Uint8Array, expectedCount: number): LexicalIndex {
    let index: LexicalIndex;
    try {
      const file = SectionFile.parse(data, MAGIC);
      const meta = metaSchema.parse(file.meta);
      const termStarts = file.section('termStarts', Uint32Array, meta.terms + 1);
      const termBytes = file.section('termText', Uint8Array);
      if (termStarts[meta.terms] !== termBytes.length) throw new Error('term text does not match its offsets');
      // Builds before the term table was written build it at load.
      const terms = new TermTable(termBytes, termStarts, file.has('termSlots') ? file.section('termSlots', Int32Array) : undefined);
      const starts = file.section('starts', Float64Array, meta.terms + 1);
      const postings = file.section('postings', Uint8Array);
      if (starts[meta.terms] !== postings.length) throw new Error('postings do not match their offsets');
      index = new LexicalIndex(terms, file.section('dfs', Uint32Array, meta.terms), starts, postings, file.section('lengths', Uint16Array, meta.documents));
    } catch (err) {
      throw new IndexCorruptError(`lexical-index: cannot parse: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    if (index.size !== expectedCount) throw new IndexCorruptError(`lexical-index: expected ${expectedCount} documents, found ${index.size}`);
    return index;
  }

  /** Writes the index to `file` (a format of its own, versioned; see binary-file.ts). */
  write(file: string): void {
    writeSectionFile(file, MAGIC, { format: FORMAT, documents: this.size, terms: this.terms.size }, [
      { name: 'termStarts', data: this.terms.starts },
      { name: 'termText', data: this.terms.text },
      { name: 'termSlots', data: this.terms.table },
      { name: 'dfs', data: this.dfs },
      { name: 'starts', data: this.starts },
      { name: 'postings', data: this.postings },
      { name: 'lengths', data: this.lengths },
    ]);
  }

  /** Bytes the index holds in memory. */
  get byteSize(): number {
    return this.terms.byteSize + this.postings.byteLength + this.starts.byteLength + this.dfs.byteLength + this.lengths.byteLength + this.norms.byteLength + this.scores.byteLength + this.touched.byteLength;
  }

  get size(): number {
    return this.lengths.length;
  }

  /**
   * How many documents hold `word`: exact for an indexed token; for another CJK word,
   * the smallest frequency of its character bigrams (an upper bound); 0 when unseen.
   */
  documentFrequency(word: string): number {
    const df = (t: string) => {
      const id = this.terms.id(t);
      return id === undefined ? 0 : this.dfs[id]!;
    };
    const folded = word.normalize('NFKC').toLowerCase();
    if (this.terms.id(folded) !== undefined) return df(folded);
    if (!/^[\u3400-\u9fff]{2,}$/.test(folded)) return 0;
    let min = Infinity;
    for (let i = 0; i + 1 < folded.length; i++) min = Math.min(min, df('#' + folded.slice(i, i + 2)));
    return min;
  }

  /**
   * `allowed`: per document, 1 if it may be returned (omit for all); `ignore`: query tokens
   * that carry no topic (the caller's question words and particles).
   */
  search(query: string, k: number, allowed?: Uint8Array, ignore?: ReadonlySet<string>): LexicalHit[] {
    const tokens = searchTokens(query).filter((t) => !ignore?.has(t));
    // A bigram that is also one of the query's words adds cost, not information.
    const wordSet = new Set(tokens.filter((t) => !t.startsWith('#')));
    const ids = [...new Set(tokens.filter((t) => !(t.startsWith('#') && wordSet.has(t.slice(1)))))]
      .map((t) => this.terms.id(t))
      .filter((id): id is number => id !== undefined);
    if (ids.length === 0 || k <= 0) return [];
    const n = this.size;
    // A term in most documents ranks nothing but costs the most: drop it when others remain.
    const selective = ids.filter((id) => this.dfs[id]! <= n / 2);
    const used = withinBudget(selective.length > 0 ? selective : ids, this.dfs, this.postingsBudget);
    const { scores, touched, postings, norms } = this;
    let touchedCount = 0;
    for (const id of used) {
      const df = this.dfs[id]!;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const w = idf * (K1 + 1);
      let doc = 0;
      for (let at = this.starts[id]!, end = this.starts[id + 1]!; at < end; ) {
        let b = postings[at++]!;
        let gap = b & 0x7f;
        for (let shift = 0x80; b & 0x80; shift *= 0x80) {
          b = postings[at++]!;
          gap += (b & 0x7f) * shift;
        }
        doc += gap;
        const tf = postings[at++]!;
        if (allowed && allowed[doc] !== 1) continue;
        if (scores[doc] === 0) touched[touchedCount++] = doc;
        scores[doc]! += (w * tf) / (tf + norms[doc]!);
      }
    }
    // Keep the k best in a small sorted buffer; touched docs can be most of the index.
    const best: LexicalHit[] = [];
    for (let t = 0; t < touchedCount; t++) {
      const doc = touched[t]!;
      const score = scores[doc]!;
      scores[doc] = 0;
      if (best.length === k && score <= best[k - 1]!.score) continue;
      let i = best.length < k ? best.length : k - 1;
      while (i > 0 && best[i - 1]!.score < score) {
        if (i < k) best[i] = best[i - 1]!;
        i--;
      }
      best[i] = { label: doc, score };
      if (best.length > k) best.length = k;
    }
    return best;
  }
}
