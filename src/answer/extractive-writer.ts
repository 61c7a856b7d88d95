import type { IndexedDocumentMeta } from '../index/index-store.ts';
import type { IndexedChunk } from '../index/plan-index.ts';
import type { Passage, RetrievalResult } from '../retrieve/hybrid-retriever.ts';
import type { Answer, Citation } from './answer.ts';
import { notFoundMessage } from './not-found.ts';
import { quoteWithin } from './quote.ts';
import type { QuestionTerms, TermWeights } from '../retrieve/relevance.ts';
import { joinLeadPhrases, splitClauses, splitSentences, type TextUnit } from '../retrieve/sentences.ts';
import { formatIndicator } from './indicator-text.ts';
import { holdsQuantity, namedYears, sentenceTense } from '../retrieve/query-language.ts';
import { speaksOfYears } from '../retrieve/relevance.ts';

/**
 * The answer without an LLM: the sentences of the retrieved passages that best cover the
 * question, best first, each with a citation whose quote is the sentence itself. A
 * rebuilt indicator row leads with its numbers. Nothing is paraphrased, so numbers are
 * copied exactly.
 */

export interface ExtractiveOptions {
  /** Minimum confidence (coverage of the question's topic terms, discounted for unknown words) to answer. */
  minCoverage: number;
  /**
   * How much a question word the corpus never uses counts against an answer, relative to
   * a word it has (0: ignored; 1: as much as a missing known word).
   */
  unknownPenalty: number;
  /** Sentences scoring at least this share of the best one may join the answer. */
  companionRatio: number;
  maxSentences: number;
  /** A sentence longer than this is cut down to its best run of clauses. */
  maxUnitChars: number;
  passagesConsidered: number;
  /** A list answer continues through its paragraph up to this many characters. */
  maxListChars: number;
}

export const EXTRACTIVE_DEFAULTS: ExtractiveOptions = { minCoverage: 0.4, unknownPenalty: 1, companionRatio: 0.8, maxSentences: 3, maxUnitChars: 160, passagesConsidered: 5, maxListChars: 320 };

interface Candidate {
  passage: Passage;
  rank: number;
  unit: TextUnit;
  score: number;
  coverage: number;
  /** Holds a number that can answer a quantity question (undefined: not a quantity question). */
  quantity?: boolean;
  /** Speaks of the year(s) the question asks about (true when it names none). */
  fitsYears: boolean;
}


/** The best window of consecutive clauses of a long sentence (by coverage), at most maxChars long. */
function bestWindow(text: string, unit: TextUnit, maxChars: number, score: (t: string) => number): TextUnit {
  const clauses = splitClauses(text, unit);
  let best: TextUnit = unit;
  let bestScore = -1;
  for (let i = 0; i < clauses.length; i++) {
    for (let j = i; j < clauses.length; j++) {
      const start = clauses[i]!.start;
      const end = clauses[j]!.end;
      if (end - start > maxChars && j > i) break;
      const s = score(text.slice(start, end)) - (end - start) / 10_000;
      if (s > bestScore) {
        bestScore = s;
        best = { start, end, text: text.slice(start, end) };
      }
    }
  }
  return best;
}

/** A candidate that fits what the question asks: its years, and a number when it asks for one. */
const fits = (c: Candidate) => c.fitsYears && c.quantity !== false;

function displayText(unit: string): string {
  // List markers ("- 3. ") and trailing clause punctuation are layout, not content.
  return unit.replace(/^[-*•]\s*/, '').replace(/^\d{1,2}[.、．](?!\d)\s*/, '').replace(/[，,；;、：:]$/, '');
}

export class ExtractiveWriter {
  private readonly options: ExtractiveOptions;

  constructor(
    private readonly weights: TermWeights,
    private readonly documents: readonly IndexedDocumentMeta[],
    options: Partial<ExtractiveOptions> = {},
  ) {
    this.options = { ...EXTRACTIVE_DEFAULTS, ...options };
  }

  private candidates(q: QuestionTerms, passages: readonly Passage[], yearsAsked: readonly number[] = []): Candidate[] {
    const out: Candidate[] = [];
    passages.slice(0, this.options.passagesConsidered).forEach((passage, rank) => {
      const chunk = passage.chunk;
      const context = `${chunk.section.join(' ')} ${chunk.text}`;
      const contextCoverage = this.weights.coverage(q, context);
      const units: TextUnit[] =
        chunk.kind === 'table-row'
          ? [{ start: 0, end: chunk.text.length, text: chunk.text }]
          : joinLeadPhrases(chunk.text, splitSentences(chunk.text)).map((u) =>
              u.text.length > this.options.maxUnitChars ? bestWindow(chunk.text, u, this.options.maxUnitChars, (t) => this.weights.coverage(q, t)) : u,
            );
      for (const unit of units) {
        let score = 0.75 * this.weights.sentenceScore(q, chunk.section, unit.text, chunk.kind === 'table-row') + 0.25 * contextCoverage;
        if (chunk.kind === 'table-row' && q.numeric) score *= 1.1;
        score *= 1 - 0.04 * rank;
        // An indicator row holds both the base value and the target: it fits either question.
        const tense = chunk.indicator ? q.intent.tense : sentenceTense(unit.text, chunk.section);
        // "How much money / how many" needs a number; a rate or change may be answered by a
        // commitment in words ("与经济增长基本同步", "完成市下达任务").
        const needsNumber = q.intent.quantity !== undefined && q.intent.quantity !== 'percent' && q.intent.quantity !== 'any';
        const quantity = needsNumber ? (chunk.indicator ? true : holdsQuantity(unit.text)) : undefined;
        const years = passage.facet && /^\d{4}年$/.test(passage.facet) ? [Number(passage.facet.slice(0, 4))] : yearsAsked;
        const fitsYears = speaksOfYears(chunk, unit.text, tense, years);
        // Whether the documents answer is judged on the sentence with its section heading,
        // not the whole passage: a passage may mention 消费 in one sentence and 债券 in another.
        const answerCoverage = this.weights.coverage(q, `${chunk.section.at(-1) ?? ''} ${unit.text}`);
        out.push({ passage, rank, unit, score, coverage: answerCoverage, fitsYears, ...(quantity !== undefined ? { quantity } : {}) });
      }
    });
    return out.sort((a, b) => b.score - a.score);
  }

  /**
   * How sure the documents answer: the coverage of the best sentence that fits what the
   * question asks (its years; a number when it asks for one). 0 when none fits.
   */
  confidence(question: string, retrieval: RetrievalResult): { coverage: number; unknownShare: number } {
    const q = this.weights.questionTerms(question);
    const unknownShare = q.total > 0 ? q.unknownWeight / q.total : 0;
    if (retrieval.uncovered !== undefined || retrieval.passages.length === 0 || retrieval.scope.cityLevel) return { coverage: 0, unknownShare };
    const best = this.candidates(q, retrieval.passages, retrieval.scope.explicitYears).find(fits);
    return { coverage: best?.coverage ?? 0, unknownShare };
  }

  /** Coverage discounted for the share of the question the corpus has no words for. */
  private discounted(coverage: number, q: QuestionTerms): number {
    return q.total > 0 ? (coverage * q.total) / (q.total + this.options.unknownPenalty * q.unknownWeight) : 0;
  }

  compose(question: string, retrieval: RetrievalResult, standaloneQuestion = question): Answer {
    const base = { mode: 'extractive' as const, standaloneQuestion, passages: retrieval.passages };
    const notFound = (): Answer => ({ ...base, found: false, answer: notFoundMessage(this.documents, retrieval.uncovered), citations: [] });
    if (retrieval.uncovered !== undefined || retrieval.passages.length === 0) return notFound();

    const q = this.weights.questionTerms(standaloneQuestion);
    const all = this.candidates(q, retrieval.passages, retrieval.scope.explicitYears);
    const candidates = all.filter(fits);
    const best = candidates[0];
    // The sentence most about the question, number or not: when it holds no number and the
    // best one that does lacks the question's head noun (the last: 学校 in "新建几所学校",
    // 企业 in "从北京引进多少家企业") that it has — 新建165个健身园 — that one counts
    // something else, and the documents give no number.
    const topical = all.find((c) => c.fitsYears);
    const head = q.nounTerms.at(-1);
    const context = (c: Candidate) => `${c.passage.chunk.section.at(-1) ?? ''} ${c.unit.text}`;
    const offTopic =
      !!best && !!topical && !!head && topical.quantity === false && this.weights.mentions(q, head, context(topical)) && !this.weights.mentions(q, head, context(best));
    if (retrieval.scope.cityLevel || !best || offTopic || this.discounted(best.coverage, q) < this.options.minCoverage) {
      // The documents do not answer; a close fact may still help, said plainly for what it is.
      const near = offTopic ? topical : all.find((c) => c.coverage >= this.options.minCoverage);
      if (!near) return notFound();
      const lead = retrieval.scope.cityLevel
        ? '资料只有区级文件，没有天津市全市的数据。'
        : !near.fitsYears
          ? `资料中没有${retrieval.scope.explicitYears.map((y) => `${y}年`).join('、')}的这项内容。`
          : near.quantity === false
            ? '资料中没有这一项的具体数字。'
            : undefined;
      if (!lead) return notFound();
      const citation = this.cite(near.passage.chunk, near.unit, 1);
      if (!citation) return notFound();
      const chunk = near.passage.chunk;
      const when = namedYears(near.unit.text).map((y) => `${y}年`).join('、') || (chunk.section.at(-1) ?? chunk.doc.title);
      const label = `最相近的是${chunk.doc.district}（${when}）：`;
      return { ...base, found: false, answer: `${lead}${label}${this.displayUnit(near, q)}[1]\n${notFoundMessage(this.documents, undefined, '')}`, citations: [citation] };
    }

    // A comparison across districts/years: the best sentence for each facet, in facet order.
    const facets = [...new Set(retrieval.passages.map((p) => p.facet).filter((f): f is string => !!f))];
    const chosen: Candidate[] = [];
    // In document offsets: neighbouring chunks overlap, so one sentence can come from two.
    const overlaps = (a: Candidate, b: Candidate) =>
      a.passage.chunk.file === b.passage.chunk.file &&
      a.passage.chunk.start + a.unit.start < b.passage.chunk.start + b.unit.end &&
      b.passage.chunk.start + b.unit.start < a.passage.chunk.start + a.unit.end;
    if (facets.length > 1) {
      for (const f of facets) {
        const side = candidates.filter((x) => x.passage.facet === f && x.coverage >= this.options.minCoverage * 0.8);
        // One figure per side: a sentence with a number first, when the question asks for one.
        const c = (q.numeric ? side.find((x) => x.passage.chunk.indicator || holdsQuantity(x.unit.text, q.intent.quantity)) : undefined) ?? side[0];
        if (c) chosen.push(c);
      }
    } else {
      for (const c of candidates) {
        if (chosen.length >= this.options.maxSentences) break;
        if (c.score < best.score * this.options.companionRatio) break;
        // Sentences from another document would read as one answer without saying whose.
        if (c.passage.chunk.file !== best.passage.chunk.file) continue;
        if (chosen.some((x) => overlaps(x, c))) continue;
        chosen.push(c);
      }
    }
    if (chosen.length === 0) return notFound();
    if (q.list && facets.length <= 1) this.continueList(q, chosen);

    const citations: Citation[] = [];
    const sentences: string[] = [];
    const unnamedDistrict = retrieval.scope.districts.length === 0 && new Set(this.documents.map((d) => d.district)).size > 1;
    for (const c of chosen) {
      const citation = this.cite(c.passage.chunk, c.unit, citations.length + 1);
      if (!citation) continue;
      citations.push(citation);
      // A question that names no district, over documents of several, is told whose figure it gets.
      const label = facets.length > 1 && c.passage.facet ? `${c.passage.facet}：` : unnamedDistrict ? `${c.passage.chunk.doc.district}：` : '';
      const text = this.displayUnit(c, q);
      sentences.push(`${label}${text}[${citation.n}]`);
    }
    if (citations.length === 0) return notFound();
    return { ...base, found: true, answer: sentences.join('\n'), citations };
  }

  /**
   * A list question ("有啥政策", "哪些做法") is answered by a run of sentences: the best
   * one is followed by the next sentences of its paragraph that still touch the question.
   */
  private continueList(q: QuestionTerms, chosen: Candidate[]): void {
    const first = chosen[0]!;
    const text = first.passage.chunk.text;
    const sentences = splitSentences(text);
    let end = first.unit.end;
    let added = 0;
    for (const s of sentences) {
      if (s.start < end || added >= 2) continue;
      if (text.slice(end, s.start).includes('\n') || s.end - first.unit.start > this.options.maxListChars) break;
      if (this.weights.coverage(q, s.text) === 0) break;
      if (chosen.some((c) => c.passage === first.passage && c.unit.start < s.end && s.start < c.unit.end)) break;
      chosen.splice(1 + added, 0, { ...first, unit: s, score: first.score });
      end = s.end;
      added++;
    }
  }

  private displayUnit(c: Candidate, q?: QuestionTerms): string {
    const indicator = c.passage.chunk.kind === 'table-row' ? c.passage.chunk.indicator : undefined;
    return indicator ? formatIndicator(indicator, q?.intent.tense === 'achievement' ? 'base' : 'target') : displayText(c.unit.text);
  }

  private cite(chunk: IndexedChunk, unit: TextUnit, n: number): Citation | undefined {
    const doc = chunk.doc;
    const common = { n, file: chunk.file, title: doc.title, section: chunk.section.join(' › ') };
    if (chunk.kind === 'table-row') return { ...common, quote: chunk.quote, start: chunk.start, end: chunk.end };
    const span = quoteWithin(chunk, chunk.start + unit.start, chunk.start + unit.end);
    if (!span) return undefined;
    return { ...common, quote: chunk.text.slice(span[0] - chunk.start, span[1] - chunk.start), start: span[0], end: span[1] };
  }
}
