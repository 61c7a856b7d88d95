import type { NextFunction } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';

/**
 * Button presses are limited per user like questions (each press can send a message and
 * write a row). A refused press still gets its callback answered (a toast, no message),
 * so the client stops spinning and nothing is stored.
 */
export function buttonRateLimit(services: BotServices) {
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    if (!ctx.callbackQuery) return next();
    const decision = await services.buttonLimiter.take(ctx.callbackQuery.from.id);
    if (decision.allowed) return next();
    ctx.log.info({ user: ctx.callbackQuery.from.id, retryAfterMs: decision.retryAfterMs }, 'button press rate-limited');
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    await ctx.answerCallbackQuery({ text: `点得有点快了，请 ${seconds} 秒后再试。` });
  };
}
