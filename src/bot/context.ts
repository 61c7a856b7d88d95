import type { Context } from 'grammy';
import type { Answer, HistoryTurn } from '../answer/answer.ts';
import type { AnswerCallOptions } from '../answer/question-answerer.ts';
import type { TelegramConfig } from '../config.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import type { DocumentLibrary } from '../ingest/document-library.ts';
import type { Logger } from '../logger.ts';
import type { RetrievalResult } from '../retrieve/hybrid-retriever.ts';
import type { BotStore } from '../store/bot-store.ts';
import type { AnswerQueue } from './answer-queue.ts';
import type { ChartPhotos } from './chart-photo.ts';
import type { BotMetrics } from './metrics.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** What the bot needs from the answering stage (QuestionAnswerer fits). */
export interface Answering {
  readonly index: PlanIndex;
  validate(question: string): string;
  answer(question: string, history: readonly HistoryTurn[], call?: AnswerCallOptions): Promise<Answer>;
  retrieve(question: string, k?: number): Promise<RetrievalResult>;
}

export interface ReindexResult {
  documents: number;
  chunks: number;
  embedded: number;
  reused: number;
  ms: number;
}

/** Per-update state every handler can use. */
export interface UpdateFlavor {
  /** A child of the bot's logger carrying this update's id. */
  log: Logger;
  timing: { startedAt: number; answerMs: number; apiMs: number };
}

export type BotContext = Context & UpdateFlavor;

/** The services features are built with (created once per bot by createBot). */
export interface BotServices {
  telegram: TelegramConfig;
  log: Logger;
  store: BotStore;
  /** The current answerer (replaced by /reindex). */
  answerer: () => Answering;
  reindex?: (options: { rebuild: boolean }) => Promise<ReindexResult>;
  /** Documents added and removed from the chat (admins); absent where the corpus cannot change. */
  library?: DocumentLibrary;
  metrics: BotMetrics;
  /** Answering and retrieval run through this queue (first come, first served). */
  answerQueue: AnswerQueue;
  questionLimiter: RateLimiter;
  inlineLimiter: RateLimiter;
  /** Button presses per user (each may send a message and write a row). */
  buttonLimiter: RateLimiter;
  now: () => number;
  /** Minimum time between two edits of a streaming answer. */
  streamIntervalMs: { private: number; group: number };
  /** Charts as photos (rendered off the event loop, cached by content). */
  charts: ChartPhotos;
  /** Console mode: a single local user, shown plain text without HTML knowledge of Telegram. */
  console: boolean;
}
