import type { IndexedChunk } from '../index/plan-index.ts';
import { splitSentences } from '../retrieve/sentences.ts';
import type { Citation } from './answer.ts';
import type { DraftAnswer, DraftCitation } from './llm-output.ts';
import { quoteWithin } from './quote.ts';

/**
 * Nothing the model writes is shown until it is tied to the documents:
 * - every quote must be in its cited passage, compared after NFKC (width) and with
 *   whitespace ignored; a quote found in another passage is moved there (repaired), one
 *   found nowhere is dropped;
 * - a marker with no quote given is tied to the passage sentence closest to the claim;
 * - a sentence that loses all its citations, or keeps a number that none of its cited
 *   passages contains, is removed; an uncited sentence may stay only if it has no number;
 * - output quotes are exact substrings of the document (offsets into the normalized
 *   text, never across a gap where normalization dropped source characters); a rebuilt
 *   table row is quoted as its original cells;
 * - citations are renumbered 1..n in order of appearance.
 */

export interface VerificationReport {
  /** Sentences in the model's answer. */
  sentences: number;
  sentencesRemoved: number;
  /** Quotes found in the passage they cite. */
  verified: number;
  /** Quotes found in another passage than the one cited, and moved there. */
  repaired: number;
  /** Quotes found in no passage (fabricated or altered), dropped. */
  removed: number;
  /** Markers without a quote, tied to the closest passage sentence. */
  derived: number;
}

export interface VerifiedAnswer {
  /** The kept sentences, with markers renumbered to `citations`. */
  answer: string;
  citations: Citation[];
  /** Kept sentences that carry at least one citation. */
  citedSentences: number;
  report: VerificationReport;
}

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

interface PassageView {
  chunk: IndexedChunk;
  text: NormView;
  /** A table row's original cells, which the model may quote instead of the rebuilt row. */
  cells?: NormView;
  numbers: Set<string>;
  sentences: { start: number; end: number; bigrams: Set<string> }[];
}

function bigrams(text: string): Set<string> {
  const s = comparisonKey(text);
  const out = new Set<string>();
  for (let i = 0; i + 1 < s.length; i++) out.add(s.slice(i, i + 2));
  return out;
}

function overlap(a: Set<string>, b: Set<string>): number {
  let n = 0;
  for (const g of a) if (b.has(g)) n++;
  return n;
}

function viewOf(chunk: IndexedChunk): PassageView {
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

interface Ref {
  passage: number; // index into passages
  start: number; // document offsets
  end: number;
  quote: string;
}

/** The exact document span for a match in a passage (chunk-relative [start, end) of its text). */
function refFor(view: PassageView, passage: number, start: number, end: number): Ref | undefined {
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

function locate(views: readonly PassageView[], preferred: number, quote: string): Ref | undefined {
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
function derive(views: readonly PassageView[], passage: number, claim: Set<string>): Ref | undefined {
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

// ---- sentences of the answer ------------------------------------------------------------

const MARKERS = /\[(\d+)\]/g;
const TRAILER = /^(?:[。！？!?”’」』）)]+|\[\d+\]|[ \t]+)/;

/** Cuts the answer into sentences (ending in 。！？ or a line break), each keeping the markers right after it. */
export function splitAnswerSentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const isEnd = /[。！？!?]/.test(ch) || (ch === '.' && /^(?:\s|$|\[)/.test(text.slice(i + 1, i + 2)) && !/\d/.test(text[i + 1] ?? ''));
    if (ch === '\n') {
      while (text[i] === '\n') i++;
    } else if (isEnd) {
      i++;
      for (let m = TRAILER.exec(text.slice(i)); m; m = TRAILER.exec(text.slice(i))) i += m[0].length;
      while (text[i] === '\n') i++;
    } else {
      i++;
      continue;
    }
    out.push(text.slice(start, i));
    start = i;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const LIST_PREFIX = /^\s*(?:\d{1,2}[.、)）]\s*|[（(]\d{1,2}[)）]\s*|[-*•]\s+)/;

function claimText(sentence: string): string {
  return sentence.replace(MARKERS, '').replace(LIST_PREFIX, '');
}

// ---- verification ---------------------------------------------------------------------------

export function verifyCitations(draft: DraftAnswer, passages: readonly IndexedChunk[]): VerifiedAnswer {
  const views = passages.map(viewOf);
  const report: VerificationReport = { sentences: 0, sentencesRemoved: 0, verified: 0, repaired: 0, removed: 0, derived: 0 };
  const located = new Map<DraftCitation, Ref | undefined>();
  const resolve = (c: DraftCitation): Ref | undefined => {
    if (!located.has(c)) {
      const ref = locate(views, c.n - 1, c.quote);
      located.set(c, ref);
      if (!ref) report.removed++;
      else if (ref.passage === c.n - 1) report.verified++;
      else report.repaired++;
    }
    return located.get(c);
  };

  const numbered = new Map<string, number>();
  const citations: Citation[] = [];
  const kept: string[] = [];
  let citedSentences = 0;

  for (const sentence of splitAnswerSentences(draft.answer)) {
    if (sentence.trim() === '') {
      kept.push(sentence);
      continue;
    }
    report.sentences++;
    const claim = claimText(sentence);
    const claimPairs = bigrams(claim);
    const occurrences = [...sentence.matchAll(MARKERS)].map((m) => {
      const n = Number(m[1]);
      const given = draft.citations.filter((c) => c.n === n);
      let refs: Ref[];
      if (given.length === 0) {
        const ref = derive(views, n - 1, claimPairs);
        if (ref) report.derived++;
        refs = ref ? [ref] : [];
      } else {
        // Several quotes under one number: the ones that share words with this sentence.
        const scored = given.map((c) => ({ c, score: overlap(claimPairs, bigrams(c.quote)) }));
        const relevant = scored.some((s) => s.score > 0) ? scored.filter((s) => s.score > 0) : scored.slice(0, 1);
        refs = relevant.map((s) => resolve(s.c)).filter((r): r is Ref => r !== undefined);
      }
      return { index: m.index, length: m[0].length, refs };
    });

    const refs = occurrences.flatMap((o) => o.refs);
    const numbers = numbersIn(claim);
    const supported = numbers.every((x) => refs.some((r) => views[r.passage]!.numbers.has(x)));
    const keep = occurrences.length === 0 ? numbers.length === 0 : refs.length > 0 && supported;
    if (!keep) {
      report.sentencesRemoved++;
      continue;
    }
    if (refs.length > 0) citedSentences++;

    let out = '';
    let from = 0;
    const shown = new Set<number>();
    for (const o of occurrences) {
      out += sentence.slice(from, o.index);
      for (const r of o.refs) {
        const key = `${r.passage}:${r.start}:${r.end}`;
        let n = numbered.get(key);
        if (n === undefined) {
          n = citations.length + 1;
          numbered.set(key, n);
          const chunk = passages[r.passage]!;
          citations.push({ n, file: chunk.file, title: chunk.doc.title, section: chunk.section.join(' › '), quote: r.quote, start: r.start, end: r.end });
        }
        if (!shown.has(n)) out += `[${n}]`;
        shown.add(n);
      }
      from = o.index + o.length;
    }
    kept.push(out + sentence.slice(from));
  }

  const answer = kept
    .join('')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { answer, citations, citedSentences, report };
}
