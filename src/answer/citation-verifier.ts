import type { IndexedChunk } from '../index/plan-index.ts';
import type { Citation } from './answer.ts';
import type { DraftAnswer, DraftCitation } from './llm-output.ts';
import { bigrams, derive, locate, numbersIn, overlap, passageView, type QuoteRef } from './citation-locator.ts';
import { numberRolesHold } from './number-roles.ts';

/**
 * Nothing the model writes is shown until it is tied to the documents:
 * - every quote must be in its cited passage, compared after NFKC (width) and with
 *   whitespace ignored; a quote found in another passage is moved there (repaired), one
 *   found nowhere is dropped;
 * - a marker with no quote given is tied to the passage sentence closest to the claim; a
 *   sentence with no marker, to the given quote it clearly rests on;
 * - a sentence that loses all its citations, or keeps a number that none of its cited
 *   passages contains in the role the sentence gives it (number-roles.ts), is removed;
 *   an uncited sentence may stay only if it has no number;
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
  /** Sentences without a marker, tied to the given quote they clearly rest on. */
  attached: number;
}

export interface VerifiedAnswer {
  /** The kept sentences, with markers renumbered to `citations`. */
  answer: string;
  /** Verified sentences were left out because the answer reached `maxChars`. */
  shortened: boolean;
  citations: Citation[];
  /** Kept sentences that carry at least one citation. */
  citedSentences: number;
  report: VerificationReport;
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
    // A full stop ends an English sentence, not a decimal ("12.07") or a list number ("1. ").
    const isEnd =
      /[。！？!?]/.test(ch) || (ch === '.' && /^(?:\s|\[|$)/.test(text.slice(i + 1, i + 2)) && !/^\s*\d{1,2}$/.test(text.slice(text.lastIndexOf('\n', i - 1) + 1, i)));
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

/** Where a marker goes at the end of a sentence: before its closing punctuation and line break. */
const TAIL = /[。！？!?.”’」』）)\s]*$/;

/** The given quote that shares most of its character pairs with an unmarked sentence, if one clearly does. */
function unmarkedSource(given: readonly DraftCitation[], claim: Set<string>, resolve: (c: DraftCitation) => QuoteRef | undefined): QuoteRef | undefined {
  let best: DraftCitation | undefined;
  let bestShare = 0.5;
  for (const c of given) {
    const pairs = bigrams(c.quote);
    const share = overlap(claim, pairs) / Math.max(1, Math.min(claim.size, pairs.size));
    if (share > bestShare) [best, bestShare] = [c, share];
  }
  return best ? resolve(best) : undefined;
}

/**
 * `maxChars` bounds the answer: verified sentences past it are left out (with their
 * citations) and `shortened` says so. A model may return thousands of sentences.
 */
export function verifyCitations(draft: DraftAnswer, passages: readonly IndexedChunk[], options: { maxChars?: number } = {}): VerifiedAnswer {
  const maxChars = options.maxChars ?? Infinity;
  const views = passages.map(passageView);
  const report: VerificationReport = { sentences: 0, sentencesRemoved: 0, verified: 0, repaired: 0, removed: 0, derived: 0, attached: 0 };
  const located = new Map<DraftCitation, QuoteRef | undefined>();
  const resolve = (c: DraftCitation): QuoteRef | undefined => {
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
  let keptChars = 0;
  let shortened = false;

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
      let refs: QuoteRef[];
      if (given.length === 0) {
        const ref = derive(views, n - 1, claimPairs);
        if (ref) report.derived++;
        refs = ref ? [ref] : [];
      } else {
        // Several quotes under one number: the ones that share words with this sentence.
        const scored = given.map((c) => ({ c, score: overlap(claimPairs, bigrams(c.quote)) }));
        const relevant = scored.some((s) => s.score > 0) ? scored.filter((s) => s.score > 0) : scored.slice(0, 1);
        refs = relevant.map((s) => resolve(s.c)).filter((r): r is QuoteRef => r !== undefined);
      }
      return { index: m.index, length: m[0].length, refs };
    });
    if (occurrences.length === 0) {
      // The model gave quotes but forgot the marker: tie the sentence to the quote that is clearly its source.
      const ref = unmarkedSource(draft.citations, claimPairs, resolve);
      if (ref) {
        report.attached++;
        occurrences.push({ index: sentence.length - (TAIL.exec(sentence)?.[0].length ?? 0), length: 0, refs: [ref] });
      }
    }

    const refs = occurrences.flatMap((o) => o.refs);
    const numbers = numbersIn(claim);
    // Each number must be in a cited passage, in the role the sentence gives it (base or target year, 十三五 or 十四五).
    const supported = numbers.every((x) => refs.some((r) => views[r.passage]!.numbers.has(x) && numberRolesHold(claim, views[r.passage]!.chunk, x)));
    const keep = occurrences.length === 0 ? numbers.length === 0 : refs.length > 0 && supported;
    if (!keep) {
      report.sentencesRemoved++;
      continue;
    }
    if (keptChars + sentence.length > maxChars && keptChars > 0) {
      shortened = true;
      break;
    }
    keptChars += sentence.length;
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
  return { answer, shortened, citations, citedSentences, report };
}
