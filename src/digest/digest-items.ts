import { createHash } from 'node:crypto';
import type { Answer } from '../answer/answer.ts';
import { splitAnswerSentences } from '../answer/citation-verifier.ts';
import type { AnswerWriter } from '../answer/question-answerer.ts';
import type { IndexedChunk } from '../index/plan-index.ts';
import type { Logger } from '../logger.ts';
import type { TermWeights } from '../retrieve/relevance.ts';
import { splitClauses, splitSentences, type TextUnit } from '../retrieve/sentences.ts';
import type { DigestItem } from './digest-content.ts';

/**
 * One passage as a digest item: a one-line summary, the cited span (verbatim document
 * text, shown as the excerpt), and the whole passage for its button. Offline the summary
 * is the passage's leading sentence and the span the part that is most on topic; with a
 * chat model the summary is the model's, kept only when its citation verifies against
 * the passage (the answer pipeline's verifier), else the offline one is used.
 */

export interface ItemOptions {
  /** Longest summary line, in characters. */
  summaryChars: number;
  /** Longest cited span shown in the digest, in characters. */
  quoteChars: number;
}

export const ITEM_DEFAULTS: ItemOptions = { summaryChars: 48, quoteChars: 150 };

/** What "already sent" is keyed on: the document and the passage text (stable across re-ingests that shift offsets). */
export function passageKey(chunk: Pick<IndexedChunk, 'file' | 'text'>): string {
  return `${chunk.file}#${createHash('sha256').update(chunk.text).digest('hex').slice(0, 16)}`;
}

/** The passage as its button shows it (as the answers' source buttons do), and where the row as printed sits in it. */
function excerptOf(chunk: IndexedChunk): { excerpt: string; row?: [number, number] } {
  if (chunk.kind !== 'table-row') return { excerpt: chunk.text };
  const excerpt = `${chunk.text}\n原表：${chunk.quote}`;
  const at = excerpt.lastIndexOf(chunk.quote);
  return { excerpt, row: [at, at + chunk.quote.length] };
}

/** Cuts a line at a clause end before `max` characters ("…" added). */
function shorten(text: string, max: number): string {
  const t = text.trim();
  if (t.length <= max) return t;
  const cut = Math.max(...[...'，,；;、'].map((p) => t.lastIndexOf(p, max - 1)));
  return `${t.slice(0, cut >= max / 3 ? cut : max - 1)}…`;
}

export interface ItemText {
  summary: string;
  quote: [number, number];
  mode: 'extractive' | 'llm';
}

/** The offline summary and cited span of a passage for a topic. */
export function offlineText(chunk: IndexedChunk, topic: string, weights: TermWeights, options: ItemOptions = ITEM_DEFAULTS): ItemText {
  const { row } = excerptOf(chunk);
  if (row) return { summary: shorten(chunk.text, options.summaryChars), quote: row, mode: 'extractive' };
  const text = chunk.text;
  const units = splitSentences(text);
  if (units.length === 0) return { summary: shorten(text, options.summaryChars), quote: [0, text.length], mode: 'extractive' };
  const lead = units[0]!;
  const summary = shorten(lead.text, options.summaryChars);
  // A title-like lead ("建立生态环境治理制度。") is the summary, and the span starts after
  // it; otherwise the span starts at the sentence most on topic (the earliest of equals).
  const titleLike = units.length > 1 && lead.text.length <= 30 && !/[，,；;]/.test(lead.text);
  const terms = weights.questionTerms(topic);
  let best = titleLike ? 1 : 0;
  let bestScore = -1;
  for (let i = best; i < units.length; i++) {
    const s = weights.coverage(terms, units[i]!.text);
    if (s > bestScore + 1e-9) [best, bestScore] = [i, s];
  }
  const quote = spanFrom(text, units, best, options.quoteChars);
  return { summary, quote, mode: 'extractive' };
}

/** Whole sentences from unit `from` while they fit `max` (a first sentence too long is cut at a clause end). */
function spanFrom(text: string, units: readonly TextUnit[], from: number, max: number): [number, number] {
  const first = units[from]!;
  if (first.end - first.start > max) {
    const clauses = splitClauses(text, first);
    let end = clauses[0]!.end;
    for (const c of clauses) if (c.end - first.start <= max) end = c.end;
    return [first.start, end];
  }
  let end = first.end;
  for (let i = from + 1; i < units.length && units[i]!.end - first.start <= max; i++) end = units[i]!.end;
  return [first.start, end];
}

export interface ItemInput {
  n: number;
  chunk: IndexedChunk;
  isNew: boolean;
  text: ItemText;
}

export function digestItem({ n, chunk, isNew, text }: ItemInput): DigestItem {
  return {
    n,
    passageKey: passageKey(chunk),
    chunkId: chunk.id,
    file: chunk.file,
    title: chunk.doc.title,
    district: chunk.doc.district,
    section: chunk.section.join(' › '),
    summary: text.summary,
    excerpt: excerptOf(chunk).excerpt,
    quote: text.quote,
    isNew,
    mode: text.mode,
    ...(chunk.indicator
      ? { indicator: { name: chunk.indicator.name, ...(chunk.indicator.unit ? { unit: chunk.indicator.unit } : {}), ...(chunk.indicator.attribute ? { attribute: chunk.indicator.attribute } : {}), values: chunk.indicator.values } }
      : {}),
  };
}

/**
 * Summaries by the chat model through the answer pipeline's LLM writer (prompting,
 * structured output, citation verification, fallbacks). A summary is kept only when the
 * model answered with a verified citation inside this passage; results are cached per
 * topic and passage, since many subscriptions share both.
 */
export class LlmSummaries {
  private readonly cache = new Map<string, Promise<ItemText | undefined>>();

  constructor(
    private readonly writer: AnswerWriter,
    private readonly log: Logger,
    private readonly options: ItemOptions = ITEM_DEFAULTS,
    private readonly cacheSize = 5000,
  ) {}

  summarize(chunk: IndexedChunk, topic: string, offline: ItemText): Promise<ItemText | undefined> {
    const key = `${topic}\u0000${passageKey(chunk)}`;
    let result = this.cache.get(key);
    if (!result) {
      result = this.ask(chunk, topic, offline);
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, result);
    }
    return result;
  }

  private async ask(chunk: IndexedChunk, topic: string, offline: ItemText): Promise<ItemText | undefined> {
    const question = `这段文字关于“${topic}”说了什么？请用一句话概括。`;
    const { excerpt } = excerptOf(chunk);
    const quoteText = excerpt.slice(offline.quote[0], offline.quote[1]);
    const passages = [{ chunk, score: 1 }];
    const extractive: Answer = {
      found: true,
      answer: `${offline.summary}[1]`,
      citations: [{ n: 1, file: chunk.file, title: chunk.doc.title, section: chunk.section.join(' › '), quote: quoteText, start: chunk.start + offline.quote[0], end: chunk.start + offline.quote[1] }],
      mode: 'extractive',
      standaloneQuestion: question,
      passages,
    };
    const answer = await this.writer.compose({
      question,
      standalone: question,
      history: [],
      retrieval: { passages, scope: { districts: [], cityLevel: false, years: [], explicitYears: [], periods: [], kinds: [] }, documents: [chunk.doc] },
      extractive,
    });
    const citation = answer.citations[0];
    if (answer.mode !== 'llm' || !answer.found || !citation || citation.file !== chunk.file) {
      this.log.debug({ chunk: chunk.id, reason: answer.reason }, 'digest: model summary not used');
      return undefined;
    }
    const first = splitAnswerSentences(answer.answer)[0]?.replace(/\[\d+\]/g, '').trim();
    if (!first) return undefined;
    let at = citation.start - chunk.start;
    if (chunk.kind === 'table-row' || excerpt.slice(at, at + citation.quote.length) !== citation.quote) at = excerpt.indexOf(citation.quote);
    if (at < 0) return undefined;
    return { summary: shorten(first, this.options.summaryChars), quote: [at, at + citation.quote.length], mode: 'llm' };
  }
}
