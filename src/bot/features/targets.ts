import { Composer, InlineKeyboard } from 'grammy';
import { formatIndicator } from '../../answer/indicator-text.ts';
import type { PlanIndex } from '../../index/plan-index.ts';
import { corpusSummary, matchDistrict } from '../catalog.ts';
import { decodeAction, encodeAction } from '../callback-data.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { editHtml, sendHtml } from '../send.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * /targets [district]: the indicator tables rebuilt at ingest (target first, as
 * formatIndicator words them), a page at a time, with buttons to page and to switch
 * district. Pages are edited in place.
 */

export const TARGETS_PAGE_SIZE = 8;

export function targetsPage(index: PlanIndex, district: string | null, page: number): { html: string; keyboard: InlineKeyboard } {
  const all = index.chunks.filter((c) => c.indicator);
  const rows = all.filter((c) => !district || c.doc.district === district);
  const pages = Math.max(1, Math.ceil(rows.length / TARGETS_PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const keyboard = new InlineKeyboard();
  if (p > 0) keyboard.text('◀ 上一页', encodeAction({ kind: 'targets', district, page: p - 1 }));
  if (p < pages - 1) keyboard.text('下一页 ▶', encodeAction({ kind: 'targets', district, page: p + 1 }));
  const withTables = [...new Set(all.map((c) => c.doc.district))];
  if (withTables.length > 1) {
    keyboard.row();
    keyboard.text(district === null ? '· 全部 ·' : '全部', encodeAction({ kind: 'targets', district: null, page: 0 }));
    for (const d of withTables) keyboard.text(d === district ? `· ${d} ·` : d, encodeAction({ kind: 'targets', district: d, page: 0 }));
  }
  if (rows.length === 0) return { html: `${escapeHtml(district ?? '收录的文件')}没有可导出的指标表。`, keyboard };

  const lines = [`<b>主要指标</b>${district ? ` · ${escapeHtml(district)}` : ''}（共 ${rows.length} 项，第 ${p + 1}/${pages} 页）`];
  let table = '';
  for (const c of rows.slice(p * TARGETS_PAGE_SIZE, (p + 1) * TARGETS_PAGE_SIZE)) {
    const ind = c.indicator!;
    const key = `${c.file}|${ind.table}`;
    if (key !== table) {
      table = key;
      lines.push('', `<b>${escapeHtml(c.doc.district)} · ${escapeHtml(ind.table)}</b>`, `<i>《${escapeHtml(c.doc.title)}》</i>`);
    }
    lines.push(`${ind.seq ?? '•'}. ${escapeHtml(formatIndicator(ind))}`);
  }
  return { html: lines.join('\n'), keyboard };
}

export function targetsFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('targets', async (ctx) => {
    const index = services.answerer().index;
    const wanted = ctx.match.trim();
    const district = wanted ? matchDistrict(index, wanted) : null;
    if (district === undefined) {
      await sendHtml(ctx, `没有“${escapeHtml(wanted)}”的文件。已收录：${escapeHtml(corpusSummary(index).districts.join('、'))}。例如 /targets 武清区`);
      return;
    }
    const { html, keyboard } = targetsPage(index, district, 0);
    await sendHtml(ctx, html, { keyboard });
  });
  composer.callbackQuery(/^t:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const messageId = ctx.callbackQuery.message?.message_id;
    if (action?.kind !== 'targets' || messageId === undefined || !ctx.chat) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    const index = services.answerer().index;
    const district = action.district === null ? null : (matchDistrict(index, action.district) ?? null);
    const { html, keyboard } = targetsPage(index, district, action.page);
    await ctx.answerCallbackQuery();
    await editHtml(ctx, messageId, html, keyboard);
  });
  return composer;
}
