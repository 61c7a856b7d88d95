import { InputError } from '../errors.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import { HybridRetriever, type RetrievalResult } from '../retrieve/hybrid-retriever.ts';
import type { Answer, HistoryTurn } from './answer.ts';
import { ExtractiveComposer } from './extractive-composer.ts';
import { rewriteFollowUp } from './follow-up.ts';
import { TermWeights } from '../retrieve/relevance.ts';

/**
 * question (+ history) → standalone question → passages → cited answer. This is the
 * single entry point the CLI, the bot and the digest use; an LLM composer (when
 * configured) plugs in through `composeWith`.
 */

export interface AnswererOptions {
  maxQuestionChars: number;
  /** Passages retrieved per question. */
  k: number;
}

export type Composer = (question: string, retrieval: RetrievalResult, standalone: string) => Promise<Answer> | Answer;

export class QuestionAnswerer {
  readonly retriever: HybridRetriever;
  readonly extractive: ExtractiveComposer;
  readonly weights: TermWeights;
  private readonly options: AnswererOptions;

  constructor(
    readonly index: PlanIndex,
    options: Partial<AnswererOptions> = {},
  ) {
    this.options = { maxQuestionChars: 500, k: 5, ...options };
    this.retriever = new HybridRetriever(index);
    this.weights = this.retriever.weights;
    this.extractive = new ExtractiveComposer(this.weights, index.documents);
  }

  /** Throws InputError with a message for the user when the question cannot be used. */
  validate(question: string): string {
    const q = question.trim();
    if (q.length === 0) throw new InputError('问题是空的：请输入想了解的内容，例如“武清区2025年森林覆盖率目标是多少？”');
    if (q.length > this.options.maxQuestionChars)
      throw new InputError(`问题太长（${q.length}字）：请控制在${this.options.maxQuestionChars}字以内，只问一个具体问题。`);
    return q;
  }

  standalone(question: string, history: readonly HistoryTurn[] = []): string {
    return rewriteFollowUp(question, history, this.index.documents.map((d) => d.district));
  }

  async retrieve(question: string, k = this.options.k): Promise<RetrievalResult> {
    return this.retriever.retrieve(question, k);
  }

  async answer(question: string, history: readonly HistoryTurn[] = [], composeWith?: Composer): Promise<Answer> {
    const q = this.validate(question);
    const standalone = this.standalone(q, history);
    const retrieval = await this.retriever.retrieve(standalone, this.options.k);
    if (composeWith) return composeWith(q, retrieval, standalone);
    return this.extractive.compose(q, retrieval, standalone);
  }
}
