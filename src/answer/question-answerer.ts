import { InputError } from '../errors.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import { HybridRetriever, type RetrievalResult } from '../retrieve/hybrid-retriever.ts';
import { analyzeQuery, documentsInScope } from '../retrieve/query-analysis.ts';
import type { TermWeights } from '../retrieve/relevance.ts';
import type { Answer, HistoryTurn } from './answer.ts';
import { ExtractiveWriter } from './extractive-writer.ts';
import { rewriteFollowUp } from './follow-up.ts';
import { smallTalkReply } from './small-talk.ts';

/**
 * question (+ history) → standalone question → passages → cited answer. The single entry
 * point the CLI, the bot and the digest use. Without an LLM the answer is extractive; an
 * `AnswerWriter` (the LLM one) may rewrite follow-ups and compose instead, and gets
 * the extractive answer to fall back on.
 */

export interface ComposeInput {
  question: string;
  standalone: string;
  history: readonly HistoryTurn[];
  retrieval: RetrievalResult;
  /** The offline answer, always computed first: the fallback when the model fails. */
  extractive: Answer;
  /** Called with the answer text so far while it streams (unverified; for display only). */
  onPartial?: (text: string) => void;
  signal?: AbortSignal;
}

export interface AnswerWriter {
  compose(input: ComposeInput): Promise<Answer>;
  /** A standalone form of a follow-up, or undefined to use the offline rewrite. */
  rewrite?(question: string, history: readonly HistoryTurn[], signal?: AbortSignal): Promise<string | undefined>;
}

export interface AnswererOptions {
  maxQuestionChars: number;
  /** Passages retrieved per question. */
  k: number;
  writer?: AnswerWriter;
}

export interface AnswerCallOptions {
  onPartial?: (text: string) => void;
  signal?: AbortSignal;
}

export class QuestionAnswerer {
  readonly retriever: HybridRetriever;
  readonly extractive: ExtractiveWriter;
  readonly weights: TermWeights;
  private readonly options: AnswererOptions;

  constructor(
    readonly index: PlanIndex,
    options: Partial<AnswererOptions> = {},
  ) {
    this.options = { maxQuestionChars: 500, k: 5, ...options };
    this.retriever = new HybridRetriever(index);
    this.weights = this.retriever.weights;
    this.extractive = new ExtractiveWriter(this.weights, index.documents);
  }

  /** Throws InputError with a message for the user when the question cannot be used. */
  validate(question: string): string {
    const q = question.trim();
    if (q.length === 0) throw new InputError('问题是空的：请输入想了解的内容，例如“武清区2025年森林覆盖率目标是多少？”');
    if (q.length > this.options.maxQuestionChars)
      throw new InputError(`问题太长（${q.length}字）：请控制在${this.options.maxQuestionChars}字以内，只问一个具体问题。`);
    return q;
  }

  /** The offline follow-up rewrite (no model involved). */
  standalone(question: string, history: readonly HistoryTurn[] = []): string {
    return rewriteFollowUp(question, history, this.index.documents.map((d) => d.district));
  }

  /**
   * The question retrieval sees. The offline rewrite always; with an LLM, the model's
   * rewrite into the documents' wording when the question is a follow-up or uses words the
   * corpus never does (a question already in the documents' words costs no model call).
   * The model's rewrite is used only when it keeps the scope (districts, years, region).
   */
  async standaloneForSearch(question: string, history: readonly HistoryTurn[], signal?: AbortSignal): Promise<string> {
    const offline = this.standalone(question, history);
    const writer = this.options.writer;
    if (!writer?.rewrite) return offline;
    if (history.length === 0 && this.weights.questionTerms(offline).unknown.length === 0) return offline;
    // A district or year the corpus does not cover is "not found" whatever the wording.
    const known = this.index.documents.map((d) => d.district);
    if (documentsInScope(analyzeQuery(offline, known), this.index.documents).uncovered !== undefined) return offline;
    const rewritten = await writer.rewrite(question, history, signal);
    return rewritten !== undefined && this.keepsScope(offline, rewritten) ? rewritten : offline;
  }

  private keepsScope(offline: string, rewritten: string): boolean {
    const known = this.index.documents.map((d) => d.district);
    const a = analyzeQuery(offline, known);
    const b = analyzeQuery(rewritten, known);
    const same = (x: readonly unknown[], y: readonly unknown[]) => x.length === y.length && x.every((v) => y.includes(v));
    return same(a.districts, b.districts) && same(a.explicitYears, b.explicitYears) && a.otherRegion === b.otherRegion && a.cityLevel === b.cityLevel;
  }

  async retrieve(question: string, k = this.options.k): Promise<RetrievalResult> {
    return this.retriever.retrieve(question, k);
  }

  async answer(question: string, history: readonly HistoryTurn[] = [], call: AnswerCallOptions = {}): Promise<Answer> {
    const q = this.validate(question);
    // A greeting or thanks is never a follow-up, whatever came before it.
    const smallTalk = smallTalkReply(q, this.index.documents);
    if (smallTalk) return { found: false, answer: smallTalk, citations: [], mode: 'extractive', standaloneQuestion: q, passages: [] };
    const writer = this.options.writer;
    const standalone = await this.standaloneForSearch(q, history, call.signal);
    const retrieval = await this.retriever.retrieve(standalone, this.options.k);
    const extractive = this.extractive.compose(q, retrieval, standalone);
    if (!writer) return extractive;
    return writer.compose({ question: q, standalone, history, retrieval, extractive, ...call });
  }
}
