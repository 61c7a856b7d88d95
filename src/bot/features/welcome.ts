import { Composer, InlineKeyboard } from 'grammy';
import { corpusSummary, examplesFor } from '../catalog.ts';
import { encodeAction } from '../callback-data.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { sendHtml } from '../send.ts';
import { coverageLine } from '../texts.ts';

/** /start: what the bot knows (districts, documents, years) and example questions as buttons. */
export function welcomeFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('start', async (ctx) => {
    const index = services.answerer().index;
    const summary = corpusSummary(index);
    const perDistrict = summary.districts.map((district) => {
      const docs = summary.documents.filter((d) => d.district === district).map((d) => `${d.kind}（${d.year}）`);
      return `• ${escapeHtml(district)}：${escapeHtml(docs.join('、'))}`;
    });
    const html = [
      '<b>你好！我回答天津市区级政府规划和报告里的问题。</b>',
      '每句回答都标出处 [n]，可以点开原文核对；文件里没有的，我会直说。',
      '',
      `<b>收录范围</b>：${coverageLine(services)}`,
      ...perDistrict,
      '<i>完整标题见 /docs，主要指标见 /targets，用法见 /help</i>',
      '',
      '<b>试试这些问题</b>，点一下就能提问：',
    ].join('\n');
    const keyboard = InlineKeyboard.from(examplesFor(index).map((e) => [InlineKeyboard.text(e.q, encodeAction({ kind: 'example', index: e.index }))]));
    await sendHtml(ctx, html, { keyboard });
  });
  return composer;
}
