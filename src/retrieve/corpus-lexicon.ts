import { CORPUS_WORDS_MAX_CHARS, CorpusWordsBuilder, type CorpusWords } from '../index/corpus-words.ts';
import { foldForMatch, isOrdinaryWord, words } from '../index/tokenize.ts';

/**
 * What the corpus itself says about the words of a question: whether a word occurs in it
 * at all, and what a word that does not occur abbreviates. People shorten the plans'
 * terms by keeping characters in order (固投 ← 固定资产投资, 高企 ← 高新技术企业,
 * 老小区 ← 老旧小区, 夜经济 ← 夜间经济), so an absent word is resolved to the most frequent
 * run of corpus words that contains its characters in order, starting with its first.
 * Nothing is listed by hand: the expansions come from the documents.
 */

export interface LexiconSource {
  text: string;
}

export interface LexiconOptions {
  /** Corpus characters read (work is bounded for very large corpora). */
  maxChars: number;
  /** Longest expansion considered, in characters. */
  maxExpansionChars: number;
  /** Words an expansion may span. */
  maxExpansionWords: number;
  /** Occurrences an expansion needs before it is trusted. */
  minOccurrences: number;
}

const DEFAULTS: LexiconOptions = { maxChars: CORPUS_WORDS_MAX_CHARS, maxExpansionChars: 8, maxExpansionWords: 4, minOccurrences: 2 };

const CJK_WORD = /^[\u3400-\u9fff]+$/;

/** True when `short` occurs in `long` in order, starting with long's first character. */
function isAbbreviationOf(short: string, long: string): boolean {
  if (long.length <= short.length || long[0] !== short[0]) return false;
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length;
}

export class CorpusLexicon {
  private readonly options: LexiconOptions;
  private folded?: string;
  /** The corpus as word numbers into `vocabulary`: a few bytes a word instead of a string each. */
  private sequence?: CorpusWords;
  private readonly expansions = new Map<string, { term: string; n: number; initials: boolean; words: number } | undefined>();
  /** Per vocabulary word, its first UTF-16 unit. */
  private firstUnits?: Uint16Array;
  private readonly positionsByChar = new Map<string, Int32Array>();
  private readonly containsCache = new Map<string, boolean>();

  /**
   * `stored`: the word sequence the index holds (index/corpus-words.ts), used when it covers
   * as much of the corpus as `options.maxChars` asks.
   */
  constructor(
    private readonly sources: Iterable<LexiconSource>,
    options: Partial<LexiconOptions> = {},
    private readonly stored?: () => { maxChars: number; sequence: CorpusWords } | undefined,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The corpus text, folded and joined (built on first use). */
  private text(): string {
    if (this.folded === undefined) {
      const parts: string[] = [];
      let n = 0;
      for (const s of this.sources) {
        if (n >= this.options.maxChars) break;
        const f = foldForMatch(s.text);
        parts.push(f);
        n += f.length;
      }
      this.folded = parts.join('\n');
    }
    return this.folded;
  }

  /** The corpus as one sequence of jieba words: the index's, or made on first use (about 0.3 s per million characters). */
  private words(): CorpusWords {
    if (!this.sequence) {
      const stored = this.stored?.();
      if (stored && stored.maxChars === this.options.maxChars) this.sequence = stored.sequence;
      else {
        const builder = new CorpusWordsBuilder(this.options.maxChars);
        for (const s of this.sources) {
          if (builder.complete) break;
          builder.add(s.text);
        }
        this.sequence = builder.finish();
      }
    }
    return this.sequence;
  }

  /**
   * Whether the word occurs in the corpus starting or ending a word: 高企 does not occur
   * in 提高|企业, though the characters are there.
   */
  contains(word: string): boolean {
    const w = foldForMatch(word);
    if (w.length === 0) return false;
    const known = this.containsCache.get(w);
    if (known !== undefined) return known;
    const found = this.occursAsWord(w);
    if (this.containsCache.size >= 20_000) this.containsCache.clear();
    this.containsCache.set(w, found);
    return found;
  }

  private occursAsWord(w: string): boolean {
    const text = this.text();
    if (!CJK_WORD.test(w)) return text.includes(w);
    // A whole word, or the head or tail of a longer one (户外 in 户外广告), judged by
    // segmenting a few characters around each occurrence rather than the whole corpus.
    let seen = 0;
    for (let at = text.indexOf(w); at >= 0 && seen < 50; at = text.indexOf(w, at + 1), seen++) {
      const from = Math.max(0, at - 8);
      const window = text.slice(from, at + w.length + 8);
      let offset = 0;
      const starts = new Set<number>();
      const ends = new Set<number>();
      for (const piece of words(window)) {
        const p = window.indexOf(piece, offset);
        if (p < 0) continue;
        starts.add(from + p);
        ends.add(from + p + piece.length);
        offset = p + piece.length;
      }
      if (starts.has(at) || ends.has(at + w.length)) return true;
    }
    return false;
  }

  /**
   * The corpus term a word abbreviates, or undefined when the word occurs in the corpus
   * itself or nothing frequent enough contains its characters in order.
   */
  expand(word: string): string | undefined {
    const a = foldForMatch(word);
    // Grammar characters (打了, 建的) mark a phrase, not an abbreviation.
    if (a.length < 2 || a.length > 4 || !CJK_WORD.test(a) || /[了的着过吗呢]/.test(a) || this.contains(a)) return undefined;
    return this.bestExpansion(a)?.term;
  }

  /**
   * The full term a short word the corpus also uses stands for, when the corpus mostly
   * writes it out (棚改 beside 棚户区改造, 国展 beside 国家会展中心): passages that use the
   * full term answer the short one too. Undefined for ordinary words.
   */
  fullForm(word: string): string | undefined {
    const a = foldForMatch(word);
    // An ordinary dictionary word (人群, 审核) is not someone's shortening of a longer term.
    if (a.length !== 2 || !CJK_WORD.test(a) || isOrdinaryWord(a) || !this.contains(a)) return undefined;
    const best = this.bestExpansion(a);
    // Only the plainest shortening: two words, each giving its first character (棚户区|改造).
    if (!best?.initials || best.words !== 2) return undefined;
    let own = 0;
    const text = this.text();
    for (let at = text.indexOf(a); at >= 0 && own < 1000; at = text.indexOf(a, at + 1)) own++;
    return best.n >= 2 * own ? best.term : undefined;
  }

  private bestExpansion(a: string): { term: string; n: number; initials: boolean; words: number } | undefined {
    if (this.expansions.has(a)) return this.expansions.get(a);
    const { ids: seq, vocabulary } = this.words();
    const counts = new Map<string, { n: number; initials: boolean; words: number }>();
    const last = a[a.length - 1]!;
    for (const i of this.startsWith(a[0]!)) {
      let span = '';
      for (let j = i; j < Math.min(seq.length, i + this.options.maxExpansionWords); j++) {
        const w = vocabulary[seq[j]!]!;
        if (!CJK_WORD.test(w)) break;
        span += w;
        if (span.length > Math.min(this.options.maxExpansionChars, 3 * a.length)) break;
        if (!w.includes(last) || !isAbbreviationOf(a, span)) continue;
        // Each abbreviated character starting a word of the term (高新|技术|企业 → 高企) is the usual way to shorten.
        const starts = new Set<string>();
        for (let k = i; k <= j; k++) starts.add(vocabulary[seq[k]!]![0]!);
        const entry = counts.get(span) ?? { n: 0, initials: [...a].every((c) => starts.has(c)), words: j - i + 1 };
        entry.n++;
        counts.set(span, entry);
      }
    }
    let best: { term: string; n: number; initials: boolean; words: number } | undefined;
    let bestScore = 0;
    for (const [span, { n, initials, words }] of counts) {
      // A term the corpus uses once is trusted only when the short form is its initials.
      if (n < (initials ? 1 : this.options.minOccurrences)) continue;
      // Shorter terms are more likely what was abbreviated than longer phrases around them.
      const score = (n * (initials ? 3 : 1)) / span.length;
      if (score > bestScore) {
        bestScore = score;
        best = { term: span, n, initials, words };
      }
    }
    if (this.expansions.size > 5000) this.expansions.clear();
    this.expansions.set(a, best);
    return best;
  }

  /**
   * Positions in the word sequence of the words that start with `ch`, found by one pass over
   * the sequence per character asked about (a few milliseconds at the 4-million-character
   * bound) and kept for the characters asked about since: an index of every character's
   * positions held 4 bytes a corpus word (7 MB for 100,000 passages) for the few a
   * question needs.
   */
  private startsWith(ch: string): Int32Array {
    let positions = this.positionsByChar.get(ch);
    if (!positions) {
      const { ids, vocabulary } = this.words();
      const firsts = (this.firstUnits ??= Uint16Array.from(vocabulary, (w) => w.charCodeAt(0)));
      const unit = ch.charCodeAt(0);
      let n = 0;
      for (let i = 0; i < ids.length; i++) if (firsts[ids[i]!] === unit) n++;
      positions = new Int32Array(n);
      for (let i = 0, k = 0; k < n; i++) if (firsts[ids[i]!] === unit) positions[k++] = i;
      if (this.positionsByChar.size >= 1000) this.positionsByChar.clear();
      this.positionsByChar.set(ch, positions);
    }
    return positions;
  }
}


