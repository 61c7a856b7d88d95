import { Composer } from 'grammy';
import { comparisonChartSpec } from '../../chart/comparison-chart.ts';
import { ChartError } from '../../errors.ts';
import { decodeAction } from '../callback-data.ts';
import { answerComparison, comparisonCaption } from '../comparison.ts';
import type { BotContext, BotServices } from '../context.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * 📊 对比图 under an answer that compares one figure per side: draws those figures, as
 * quoted, in one chart (one unit, one axis), sent as a photo replying to the answer.
 * The button carries only the answer's row id; another chat's answer is not drawn.
 */
export function comparisonChartFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(/^cc:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const record = action?.kind === 'comparison-chart' ? await services.store.answer(action.answerId) : undefined;
    const found = record && ctx.chat && record.chatId === ctx.chat.id ? answerComparison(record.answerText, record.sources, services.answerer().index) : undefined;
    if (!found) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    await ctx.answerCallbackQuery();
    const replyTo = ctx.callbackQuery.message?.message_id;
    try {
      await services.charts.send(ctx, comparisonChartSpec(found.comparison, found.cited), comparisonCaption(found.comparison, found.cited), replyTo ? { replyTo } : {});
    } catch (err) {
      if (!(err instanceof ChartError)) throw err;
      ctx.log.warn({ err: err.message }, 'comparison chart failed');
      await ctx.reply('抱歉，这张图暂时画不出来。回答里的数字和出处不受影响。');
    }
  });
  return composer;
}
