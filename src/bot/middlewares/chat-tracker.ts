import type { NextFunction } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';

/** Remembers every chat the bot hears from (and that it is reachable again). */
export function chatTracker(services: BotServices) {
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    const chat = ctx.chat;
    if (chat) await services.store.touchChat({ id: chat.id, type: chat.type, ...('title' in chat && chat.title ? { title: chat.title } : {}) });
    await next();
  };
}
