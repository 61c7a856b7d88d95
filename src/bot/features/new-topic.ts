import { Composer } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';
import { sendHtml } from '../send.ts';

/** /new: forget the chat's conversation history (follow-ups start from scratch). */
export function newTopicFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('new', async (ctx) => {
    await services.store.clearHistory(ctx.chat.id);
    await sendHtml(ctx, '好的，开始新话题：之前的对话不再影响回答。');
  });
  return composer;
}
