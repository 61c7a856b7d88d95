import { Composer } from 'grammy';
import { addressedToBot, withoutMention } from '../addressing.ts';
import { answerQuestion } from '../ask-flow.ts';
import { EXAMPLE_QUESTIONS } from '../catalog.ts';
import { decodeAction } from '../callback-data.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { sendHtml } from '../send.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * Questions. Private chat: any text that is not a command. Groups: only a message that
 * mentions the bot or replies to it, or /ask — the bot never answers every message.
 * Example buttons (from /start) ask their question.
 */
export function questionFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const group = (ctx: BotContext) => ctx.chat?.type !== 'private';

  composer.command('ask', async (ctx) => {
    const q = withoutMention(ctx.match, ctx.me.username);
    const replyTo = group(ctx) ? { replyTo: ctx.msg.message_id } : {};
    if (!q) {
      await sendHtml(ctx, '用法：/ask 问题，例如 <code>/ask 武清区2025年森林覆盖率目标是多少？</code>', replyTo);
      return;
    }
    await answerQuestion(ctx, services, q, replyTo);
  });

  const text = composer.on('message:text').filter((ctx) => !ctx.msg.text.startsWith('/'));
  text.filter(
    (ctx) => ctx.chat.type === 'private',
    (ctx) => answerQuestion(ctx, services, ctx.msg.text),
  );
  text.filter(
    (ctx) => group(ctx) && addressedToBot(ctx),
    async (ctx) => {
      const q = withoutMention(ctx.msg.text, ctx.me.username);
      if (!q) {
        await sendHtml(ctx, `请在 @${escapeHtml(ctx.me.username)} 后面写上问题，例如“@${escapeHtml(ctx.me.username)} 武清区2025年森林覆盖率目标是多少？”`, { replyTo: ctx.msg.message_id });
        return;
      }
      await answerQuestion(ctx, services, q, { replyTo: ctx.msg.message_id });
    },
  );

  composer.callbackQuery(/^x:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const example = action?.kind === 'example' ? EXAMPLE_QUESTIONS[action.index] : undefined;
    if (!example || !ctx.chat) {
      await ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
      return;
    }
    await ctx.answerCallbackQuery();
    await answerQuestion(ctx, services, example.q, { echo: true });
  });
  return composer;
}
