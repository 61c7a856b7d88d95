import { Composer } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { AnswerRecord, SourceExcerpt } from '../../store/bot-store.ts';
import { decodeAction, encodeAction } from '../callback-data.ts';
import type { BotContext, BotServices } from '../context.ts';
import { excerptOf, moreResultsHtml, sourceHtml } from '../format.ts';
import { moreKeyboard } from '../keyboards.ts';
import { sendHtml } from '../send.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * The buttons under an answer. Each carries a row id of the answers table, so they work
 * on old messages and after a restart: 来源n (the whole passage, document and section),
 * 更多结果 (the next passages for the same question), 👍/👎 (stored; the counts show on
 * the buttons).
 */

export const MORE_PAGE_SIZE = 3;

/**
 * The answer a button names, only when it was given in the chat the button was pressed
 * in: the data is the client's to forge, and ids are sequential.
 */
async function ownAnswer(ctx: BotContext, services: BotServices, answerId: number): Promise<AnswerRecord | undefined> {
  return ctx.chat ? services.store.answerInChat(answerId, ctx.chat.id) : undefined;
}

export function answerButtonsFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();

  composer.callbackQuery(/^s:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const record = action?.kind === 'source' ? await ownAnswer(ctx, services, action.answerId) : undefined;
    const source = action?.kind === 'source' ? record?.sources.find((s) => s.n === action.n) : undefined;
    if (!source) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    await ctx.answerCallbackQuery();
    const replyTo = ctx.callbackQuery.message?.message_id;
    await sendHtml(ctx, sourceHtml(source), replyTo ? { replyTo } : {});
  });

  composer.callbackQuery(/^m:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const record = action?.kind === 'more' ? await ownAnswer(ctx, services, action.answerId) : undefined;
    if (!record || !ctx.chat) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    await ctx.answerCallbackQuery();
    const t0 = performance.now();
    const k = record.shown.length + MORE_PAGE_SIZE;
    const retrieval = await services.answerQueue.run(() => services.answerer().retrieve(record.standalone, k));
    ctx.timing.answerMs += performance.now() - t0;
    const seen = new Set(record.shown);
    const fresh = retrieval.passages.filter((p) => !seen.has(p.chunk.id)).slice(0, MORE_PAGE_SIZE);
    let n = Math.max(0, ...record.sources.map((s) => s.n));
    const sources: SourceExcerpt[] = fresh.map((p) => excerptOf(p, ++n));
    const more = retrieval.passages.length >= k && fresh.length === MORE_PAGE_SIZE;
    const id = await services.store.saveAnswer({
      kind: 'more',
      chatId: ctx.chat.id,
      ...(ctx.from ? { userId: ctx.from.id } : {}),
      parentId: record.parentId ?? record.id,
      question: record.question,
      standalone: record.standalone,
      answerText: '',
      found: sources.length > 0,
      mode: 'retrieval',
      sources,
      shown: [...record.shown, ...sources.map((s) => s.chunkId)],
    });
    const replyTo = ctx.callbackQuery.message?.message_id;
    const sent = await sendHtml(ctx, moreResultsHtml(record.standalone, sources), { ...(more ? { keyboard: moreKeyboard(id) } : {}), ...(replyTo ? { replyTo } : {}) });
    const last = sent.at(-1);
    if (last) await services.store.setMessageId(id, last.message_id);
  });

  composer.callbackQuery(/^f:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const record = action?.kind === 'feedback' ? await ownAnswer(ctx, services, action.answerId) : undefined;
    if (action?.kind !== 'feedback' || !record) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    const result = await services.store.setFeedback(record.id, ctx.from.id, action.value);
    ctx.log.info({ answer: record.id, vote: result.vote }, 'feedback');
    await ctx.answerCallbackQuery({ text: result.vote === 1 ? '谢谢！已记录 👍' : result.vote === -1 ? '谢谢反馈！已记录 👎，我们会改进。' : '已撤回反馈。' });
    const markup = ctx.callbackQuery.message?.reply_markup;
    if (markup) {
      const updated = withFeedbackCounts(markup, record.id, result);
      // Only the counts change; an unchanged keyboard is not re-sent.
      if (JSON.stringify(updated) !== JSON.stringify(markup)) await ctx.editMessageReplyMarkup({ reply_markup: updated }).catch((err: unknown) => ctx.log.debug({ err: (err as Error).message }, 'feedback keyboard not updated'));
    }
  });
  return composer;
}

/** The same keyboard with the 👍/👎 labels showing the current counts. */
export function withFeedbackCounts(markup: InlineKeyboardMarkup, answerId: number, counts: { up: number; down: number }): InlineKeyboardMarkup {
  const up = encodeAction({ kind: 'feedback', answerId, value: 1 });
  const down = encodeAction({ kind: 'feedback', answerId, value: -1 });
  return {
    inline_keyboard: markup.inline_keyboard.map((row) =>
      row.map((b) => {
        if (!('callback_data' in b)) return b;
        if (b.callback_data === up) return { ...b, text: counts.up > 0 ? `👍 ${counts.up}` : '👍' };
        if (b.callback_data === down) return { ...b, text: counts.down > 0 ? `👎 ${counts.down}` : '👎' };
        return b;
      }),
    ),
  };
}
