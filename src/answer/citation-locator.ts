import type { IndexedChunk } from '../index/plan-index.ts';
import { splitSentences } from '../retrieve/sentences.ts';
import { quoteWithin } from './quote.ts';

/**
 * Finding a model's quote in the passages it was given, and the exact document text it
 * stands for. Comparison ignores whitespace and width (NFKC) and treats curly and
 * straight quotation marks alike; a map from the normalized text back to the passage
 * gives the verbatim span and its document offsets.
 */

/** A quote shorter than this (after normalization) is widened to its sentence. */
const MIN_QUOTE_CHARS = 6;

// ---- normalization with a map back to the original text ----------------------------

const QUOTE_MARKS: Record<string, string> = { '“': '"', '”': '"', '„': '"', '〝': '"', '〞': '"', '‘': "'", '’': "'" };

interface NormView {
  norm: string;
  /** For each code unit of `norm`, the [start, end) of the original character it came from. */
  starts: number[];
  ends: number[];
}

/** NFKC per character, whitespace dropped, curly quotes made straight; remembers where each unit came from. */
export function normalizeWithMap(text: string): NormView {
  let norm = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    for (const unit of ch.normalize('NFKC')) {
      if (/\s/.test(unit)) continue;
      const u = QUOTE_MARKS[unit] ?? unit;
      for (let k = 0; k < u.length; k++) {
        norm += u[k];
        starts.push(i);
        ends.push(i + ch.length);
      }
    }
    i += ch.length;
  }
  return { norm, starts, ends };
}

/** The comparison key of a piece of text: NFKC, no whitespace, straight quotes. */
export function comparisonKey(text: string): string {
  return normalizeWithMap(text).norm;
}

const EDGE_PUNCT = /^[。，、；：！？,.;:!?"'…⋯\-—()（）]+|[。，、；：！？,.;:!?"'…⋯\-—()（）]+$/g;

/** The quote's key split at ellipses (a model may elide the middle), edges trimmed of punctuation. */
function quoteParts(quote: string): string[] {
  const key = comparisonKey(quote).replace(EDGE_PUNCT, '');
  return key
    .split(/\.{3,}|⋯+/)
    .map((p) => p.replace(EDGE_PUNCT, ''))
    .filter((p) => p.length > 0);
}

// ---- numbers ----------------------------------------------------------------------

const NUMBER = /\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?/g;

export function numbersIn(text: string): string[] {
  return [...text.normalize('NFKC').matchAll(NUMBER)].map((m) => m[0].replace(/,/g, ''));
}

// ---- passages -----------------------------------------------------------------------

export interface PassageView {
  chunk: IndexedChunk;
  text: NormView;
  /** A table row's original cells, which the model may quote instead of the rebuilt row. */
  cells?: NormView;
  numbers: Set<string>;
  sentences: { start: number; end: number; bigrams: Set<string> }[];
}

export function bigrams(text: string): Set<string> {
  const s = comparisonKey(text);
  const out = new Set<string>();
  for (let i = 0; i + 1 < s.length; i++) out.add(s.slice(i, i + 2));
  return out;
}

export function overlap(a: Set<string>, b: Set<string>): number {
  let n = 0;
  for (const g of a) if (b.has(g)) n++;
  return n;
}

export function passageView(chunk: IndexedChunk): PassageView {
  const context = `${chunk.text}\n${chunk.quote}\n${chunk.section.join(' ')}\n${chunk.doc.title}`;
  const sentences =
    chunk.kind === 'table-row'
      ? [{ start: 0, end: chunk.text.length, bigrams: bigrams(chunk.text) }]
      : splitSentences(chunk.text).map((u) => ({ start: u.start, end: u.end, bigrams: bigrams(u.text) }));
  return {
    chunk,
    text: normalizeWithMap(chunk.text),
    ...(chunk.kind === 'table-row' ? { cells: normalizeWithMap(chunk.quote) } : {}),
    numbers: new Set(numbersIn(context)),
    sentences,
  };
}

/** Where the parts occur in order in `view`, as a [start, end) of the normalized text. */
function findParts(view: NormView, parts: readonly string[]): [number, number] | undefined {
  let from = 0;
  let first = -1;
  let end = -1;
  for (const part of parts) {
    const at = view.norm.indexOf(part, from);
    if (at < 0) return undefined;
    if (first < 0) first = at;
    end = at + part.length;
    from = end;
  }
  return first < 0 ? undefined : [first, end];
}

export interface QuoteRef {
  passage: number; // index into passages
  start: number; // document offsets
  end: number;
  quote: string;
}

/** The exact document span for a match in a passage (chunk-relative [start, end) of its text). */
function refFor(view: PassageView, passage: number, start: number, end: number): QuoteRef | undefined {
  const chunk = view.chunk;
  if (chunk.kind === 'table-row') return { passage, start: chunk.start, end: chunk.end, quote: chunk.quote };
  if (comparisonKey(chunk.text.slice(start, end)).length < MIN_QUOTE_CHARS) {
    const sentence = view.sentences.find((s) => s.start <= start && s.end >= end);
    if (sentence) [start, end] = [sentence.start, sentence.end];
  }
  const span = quoteWithin(chunk, chunk.start + start, chunk.start + end);
  if (!span) return undefined;
  const quote = chunk.text.slice(span[0] - chunk.start, span[1] - chunk.start);
  return quote.trim().length > 0 ? { passage, start: span[0], end: span[1], quote } : undefined;
}

/** The quote in its preferred passage (index), else in the first other passage that has it. */
export function locate(views: readonly PassageView[], preferred: number, quote: string): QuoteRef | undefined {
  const parts = quoteParts(quote);
  if (parts.join('').length < 2) return undefined;
  const order = [preferred, ...views.keys()].filter((i, k, all) => i >= 0 && i < views.length && all.indexOf(i) === k);
  for (const i of order) {
    const view = views[i]!;
    const inText = findParts(view.text, parts);
    if (inText) return refFor(view, i, view.text.starts[inText[0]]!, view.text.ends[inText[1] - 1]!);
    if (view.cells && findParts(view.cells, parts)) return refFor(view, i, 0, view.chunk.text.length);
  }
  return undefined;
}

/** The sentence of a passage that shares the most character pairs with the claim. */
export function derive(views: readonly PassageView[], passage: number, claim: Set<string>): QuoteRef | undefined {
  const view = views[passage];
  if (!view) return undefined;
  let best: { start: number; end: number } | undefined;
  let bestScore = 1; // at least two shared character pairs
  for (const s of view.sentences) {
    const score = overlap(claim, s.bigrams);
    if (score > bestScore) [best, bestScore] = [s, score];
  }
  return best ? refFor(view, passage, best.start, best.end) : undefined;
}
