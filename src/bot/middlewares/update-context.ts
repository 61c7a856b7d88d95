import type { NextFunction } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';

/**
 * First middleware: gives the update its child logger (with update_id) and a timing
 * record. Time spent waiting on Telegram (outgoing calls, throttle included) is
 * measured by a transformer on this update's API, so the bot's own overhead per
 * question can be told apart from answering and network time.
 */
export function updateContext(services: BotServices) {
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    const startedAt = performance.now();
    ctx.log = services.log.child({ update_id: ctx.update.update_id });
    ctx.timing = { startedAt, answerMs: 0, apiMs: 0 };
    ctx.api.config.use(async (prev, method, payload, signal) => {
      // A chat action runs alongside the answer (fire-and-forget): not waiting time.
      if (method === 'sendChatAction') return prev(method, payload, signal);
      const t0 = performance.now();
      try {
        return await prev(method, payload, signal);
      } finally {
        ctx.timing.apiMs += performance.now() - t0;
      }
    });
    services.metrics.updates++;
    try {
      await next();
    } finally {
      const ms = performance.now() - startedAt;
      if (ctx.timing.answerMs > 0) services.metrics.recordQuestion(ms, ctx.timing.answerMs, ctx.timing.apiMs);
      ctx.log.debug({ ms: Math.round(ms * 10) / 10, answerMs: Math.round(ctx.timing.answerMs), apiMs: Math.round(ctx.timing.apiMs) }, 'update done');
    }
  };
}
