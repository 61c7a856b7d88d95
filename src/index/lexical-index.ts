import { z } from 'zod';
import { IndexCorruptError } from '../errors.ts';
import { searchTokens } from './tokenize.ts';

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
const FORMAT = 2;

const serializedSchema = z.object({
  format: z.literal(FORMAT),
  terms: z.array(z.string()),
  /** Per term: start offset into docs/tfs (length terms + 1). */
  offsets: z.string(),
  docs: z.string(),
  tfs: z.string(),
  lengths: z.string(),
});

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64<T>(s: string, make: (buf: ArrayBuffer) => T): T {
  const buf = Buffer.from(s, 'base64');
  return make(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export class LexicalIndex {
  private readonly termIds: Map<string, number>;
  /** Per document: BM25's length normalisation, k1·(1 − b + b·len/avgLen). */
  private readonly norms: Float32Array;
  private readonly scores: Float32Array;
  private readonly touched: Uint32Array;

  private constructor(
    private readonly terms: string[],
    private readonly offsets: Uint32Array,
    private readonly docs: Uint32Array,
    private readonly tfs: Uint16Array,
    private readonly lengths: Uint16Array,
  ) {
    this.termIds = new Map(terms.map((t, i) => [t, i]));
    let total = 0;
    for (const l of lengths) total += l;
    const avg = lengths.length && total ? total / lengths.length : 1;
    this.norms = Float32Array.from(lengths, (l) => K1 * (1 - B + (B * l) / avg));
    this.scores = new Float32Array(lengths.length);
    this.touched = new Uint32Array(lengths.length);
  }

  static build(texts: readonly string[]): LexicalIndex {
    const termIds = new Map<string, number>();
    const postings: number[][] = []; // per term: docId, tf, docId, tf …
    const lengths = new Uint16Array(texts.length);
    texts.forEach((text, doc) => {
      const counts = new Map<number, number>();
      const tokens = searchTokens(text);
      lengths[doc] = Math.min(tokens.length, 65_535);
      for (const t of tokens) {
        let id = termIds.get(t);
        if (id === undefined) {
          id = postings.length;
          termIds.set(t, id);
          postings.push([]);
        }
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const [id, tf] of counts) postings[id]!.push(doc, Math.min(tf, 65_535));
    });
    const offsets = new Uint32Array(postings.length + 1);
    let n = 0;
    postings.forEach((p, i) => {
      offsets[i] = n;
      n += p.length / 2;
    });
    offsets[postings.length] = n;
    const docs = new Uint32Array(n);
    const tfs = new Uint16Array(n);
    postings.forEach((p, i) => {
      let at = offsets[i]!;
      for (let j = 0; j < p.length; j += 2, at++) {
        docs[at] = p[j]!;
        tfs[at] = p[j + 1]!;
      }
    });
    return new LexicalIndex([...termIds.keys()], offsets, docs, tfs, lengths);
  }

  static load(json: string, expectedCount: number): LexicalIndex {
    let index: LexicalIndex;
    try {
      const s = serializedSchema.parse(JSON.parse(json));
      index = new LexicalIndex(
        s.terms,
        fromB64(s.offsets, (b) => new Uint32Array(b)),
        fromB64(s.docs, (b) => new Uint32Array(b)),
        fromB64(s.tfs, (b) => new Uint16Array(b)),
        fromB64(s.lengths, (b) => new Uint16Array(b)),
      );
      if (index.offsets.length !== s.terms.length + 1 || index.docs.length !== index.tfs.length) throw new Error('inconsistent arrays');
    } catch (err) {
      throw new IndexCorruptError(`lexical-index: cannot parse: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    if (index.size !== expectedCount) throw new IndexCorruptError(`lexical-index: expected ${expectedCount} documents, found ${index.size}`);
    return index;
  }

  toJSON(): string {
    return JSON.stringify({ format: FORMAT, terms: this.terms, offsets: b64(this.offsets), docs: b64(this.docs), tfs: b64(this.tfs), lengths: b64(this.lengths) });
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
      const id = this.termIds.get(t);
      return id === undefined ? 0 : this.offsets[id + 1]! - this.offsets[id]!;
    };
    const folded = word.normalize('NFKC').toLowerCase();
    if (this.termIds.has(folded)) return df(folded);
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
      .map((t) => this.termIds.get(t))
      .filter((id): id is number => id !== undefined);
    if (ids.length === 0 || k <= 0) return [];
    const n = this.size;
    // A term in most documents ranks nothing but costs the most: drop it when others remain.
    const df = (id: number) => this.offsets[id + 1]! - this.offsets[id]!;
    const selective = ids.filter((id) => df(id) <= n / 2);
    const used = selective.length > 0 ? selective : ids;
    const { scores, touched, docs, tfs, norms } = this;
    let touchedCount = 0;
    for (const id of used) {
      const from = this.offsets[id]!;
      const to = this.offsets[id + 1]!;
      const idf = Math.log(1 + (n - (to - from) + 0.5) / (to - from + 0.5));
      const w = idf * (K1 + 1);
      for (let i = from; i < to; i++) {
        const doc = docs[i]!;
        if (allowed && allowed[doc] !== 1) continue;
        const tf = tfs[i]!;
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
