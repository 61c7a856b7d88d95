import { autoRetry, type AutoRetryOptions } from '@grammyjs/auto-retry';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Composer, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { TelegramConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { DocumentLibrary } from '../ingest/document-library.ts';
import type { BotStore } from '../store/bot-store.ts';
import type { UpdateJournal } from '../store/update-journal.ts';
import { ChartRenderer } from '../chart/chart-renderer.ts';
import { AnswerQueue } from './answer-queue.ts';
import { ChartPhotos } from './chart-photo.ts';
import { apiFailureLog } from './api-log.ts';
import type { Answering, BotContext, BotServices, ReindexResult } from './context.ts';
import { describeError, errorHandler } from './error-boundary.ts';
import { adminFeature } from './features/admin.ts';
import { answerButtonsFeature } from './features/answer-buttons.ts';
import { comparisonChartFeature } from './features/comparison-chart.ts';
import { docsFeature } from './features/docs.ts';
import { documentRemoveFeature } from './features/document-remove.ts';
import { documentUploadFeature } from './features/document-upload.ts';
import { helpFeature } from './features/help.ts';
import { inlineFeature } from './features/inline.ts';
import { mediaHintFeature } from './features/media-hint.ts';
import { membershipFeature } from './features/membership.ts';
import { newTopicFeature } from './features/new-topic.ts';
import { questionFeature } from './features/question.ts';
import { targetsFeature } from './features/targets.ts';
import { unhandledFeature } from './features/unhandled.ts';
import { welcomeFeature } from './features/welcome.ts';
import { BotMetrics } from './metrics.ts';
import { allowlist } from './middlewares/allowlist.ts';
import { buttonRateLimit } from './middlewares/button-rate-limit.ts';
import { chatTracker } from './middlewares/chat-tracker.ts';
import { updateContext } from './middlewares/update-context.ts';
import { RateLimiter } from './rate-limiter.ts';
import { createThrottle, type ThrottleOptions } from './throttle.ts';

export interface BotDeps {
  telegram: TelegramConfig;
  log: Logger;
  store: BotStore;
  /** The current answerer; a function so /reindex can replace it. */
  answerer: () => Answering;
  reindex?: (options: { rebuild: boolean }) => Promise<ReindexResult>;
  /** Where admins' uploads go (see features/document-upload.ts). */
  library?: DocumentLibrary;
  /** Skips getMe (tests, console mode). */
  botInfo?: UserFromGetMe;
  /**
   * Transformers installed innermost, below throttle and auto-retry: the console's
   * terminal renderer, a test's recorder. They see every attempt.
   */
  transformers?: Transformer[];
  throttle?: Partial<ThrottleOptions> | false;
  autoRetry?: Partial<AutoRetryOptions> | false;
  metrics?: BotMetrics;
  /** Questions answered at once (default 4; offline answering is CPU-bound, an LLM's is not: main raises it). */
  answerConcurrency?: number;
  streamIntervalMs?: { private: number; group: number };
  /**
   * More features (the digest's commands, handed in by main.ts), installed before the
   * question feature (so their replies and commands are not taken as questions).
   */
  features?: Array<(services: BotServices) => Composer<BotContext>>;
  now?: () => number;
  console?: boolean;
  /** Records each update on arrival until it is handled (see update-journal.ts); none in the console. */
  journal?: UpdateJournal;
  /** The chart renderer (one per process is enough; a default one otherwise). */
  charts?: ChartRenderer;
}

/** The updates the bot asks Telegram for. */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'inline_query', 'my_chat_member'] as const;

/**
 * Builds the bot: API transformers (recorder/renderer → failure log → throttle →
 * auto-retry), per-chat ordering, the per-update context, then every feature behind one
 * error boundary, "unhandled" last. Nothing starts here; see bot-runtime.ts.
 */
export function createBot(token: string, deps: BotDeps): Bot<BotContext> {
  const bot = new Bot<BotContext>(token, {
    ...(deps.botInfo ? { botInfo: deps.botInfo } : {}),
    client: { ...(deps.telegram.apiRoot ? { apiRoot: deps.telegram.apiRoot } : {}) },
  });
  for (const t of deps.transformers ?? []) bot.api.config.use(t);
  bot.api.config.use(apiFailureLog(deps.log));
  if (deps.throttle !== false) bot.api.config.use(createThrottle(deps.throttle ?? {}).transformer);
  if (deps.autoRetry !== false) bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, ...deps.autoRetry }));

  const now = deps.now ?? Date.now;
  const services: BotServices = {
    telegram: deps.telegram,
    log: deps.log,
    store: deps.store,
    answerer: deps.answerer,
    ...(deps.reindex ? { reindex: deps.reindex } : {}),
    ...(deps.library ? { library: deps.library } : {}),
    metrics: deps.metrics ?? new BotMetrics(),
    answerQueue: new AnswerQueue(deps.answerConcurrency ?? 4),
    questionLimiter: new RateLimiter(deps.telegram.rateLimitPerMinute, 60_000, now),
    inlineLimiter: new RateLimiter(deps.telegram.rateLimitPerMinute * 3, 60_000, now),
    buttonLimiter: new RateLimiter(deps.telegram.rateLimitPerMinute * 3, 60_000, now),
    now,
    streamIntervalMs: deps.streamIntervalMs ?? { private: 1000, group: 3000 },
    charts: new ChartPhotos(deps.charts ?? new ChartRenderer()),
    console: deps.console ?? false,
  };

  // Before anything can make an update wait (its chat's earlier messages), it is recorded:
  // a stop from here on leaves it to be handled at the next start.
  const journal = deps.journal;
  if (journal) {
    bot.use(async (ctx, next) => {
      await journal.record(ctx.update.update_id, JSON.stringify(ctx.update));
      try {
        await next();
      } finally {
        await journal.done(ctx.update.update_id);
      }
    });
  }

  // One chat's messages are handled in order (the runner runs chats in parallel); a
  // chat's button presses in order among themselves, without waiting behind an answer.
  bot.use(
    sequentialize<BotContext>((ctx) => {
      if (ctx.callbackQuery) return ctx.chat ? `cb${ctx.chat.id}` : `cbu${ctx.from?.id}`;
      if (ctx.chat) return String(ctx.chat.id);
      return ctx.from ? `u${ctx.from.id}` : undefined;
    }),
  );
  bot.use(updateContext(services));
  bot.errorBoundary(
    errorHandler(services),
    allowlist(services),
    buttonRateLimit(services),
    chatTracker(services),
    welcomeFeature(services),
    helpFeature(services),
    docsFeature(services),
    targetsFeature(services),
    newTopicFeature(services),
    adminFeature(services),
    documentUploadFeature(services),
    documentRemoveFeature(services),
    answerButtonsFeature(services),
    comparisonChartFeature(services),
    ...(deps.features ?? []).map((feature) => feature(services)),
    questionFeature(services),
    inlineFeature(services),
    membershipFeature(services),
    mediaHintFeature(),
    unhandledFeature(services),
  );
  // Only reached if the boundary itself fails: log and keep running.
  bot.catch((err) => deps.log.error({ update_id: err.ctx.update.update_id, err: describeError(err.error) }, 'unhandled bot error'));
  return bot;
}
