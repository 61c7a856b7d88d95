import { Composer, InlineKeyboard } from 'grammy';
import { formatIndicator } from '../../answer/indicator-text.ts';
import { indicatorChartSpec, indicatorTables, sourceSection, tableLabel, type IndicatorTable } from '../../chart/indicator-chart.ts';
import { ChartError } from '../../errors.ts';
import type { PlanIndex } from '../../index/plan-index.ts';
import { corpusSummary, matchDistrict } from '../catalog.ts';
import { decodeAction, encodeAction } from '../callback-data.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { editHtml, sendHtml } from '../send.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * /targets [district]: the district's indicator table as a chart (base value and target
 * side by side, one axis per unit, 约束性 in red), the source in the caption, and the
 * text rows one tap away (📄 文字版). The text pages (target first, as formatIndicator
 * words them) page in place and offer the chart back (📊 图表). A district without an
 * indicator table gets a message naming the districts that have one; a chart that cannot
 * be drawn falls back to the text.
 */

export const TARGETS_PAGE_SIZE = 8;

function districtsWithTables(index: PlanIndex): string[] {
  return [...new Set(index.chunks.indicatorRows().map((c) => c.doc.district))];
}

export function targetsPage(index: PlanIndex, district: string | null, page: number): { html: string; keyboard: InlineKeyboard } {
  const all = index.chunks.indicatorRows();
  const rows = all.filter((c) => !district || c.doc.district === district);
  const pages = Math.max(1, Math.ceil(rows.length / TARGETS_PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const keyboard = new InlineKeyboard();
  if (p > 0) keyboard.text('◀ 上一页', encodeAction({ kind: 'targets', district, page: p - 1 }));
  if (p < pages - 1) keyboard.text('下一页 ▶', encodeAction({ kind: 'targets', district, page: p + 1 }));
  const withTables = districtsWithTables(index);
  if (withTables.length > 1) {
    keyboard.row();
    keyboard.text(district === null ? '· 全部 ·' : '全部', encodeAction({ kind: 'targets', district: null, page: 0 }));
    for (const d of withTables) keyboard.text(d === district ? `· ${d} ·` : d, encodeAction({ kind: 'targets', district: d, page: 0 }));
  }
  const chartOf = district ?? (withTables.length === 1 ? withTables[0]! : null);
  if (rows.length > 0 && chartOf !== null) keyboard.row().text('📊 图表', encodeAction({ kind: 'targets-chart', district: chartOf }));
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

/** The photo's caption: what the chart shows and where it comes from (《title》 and section). */
export function targetsCaption(t: IndicatorTable): string {
  const columns = [...new Set(t.rows.flatMap((r) => r.values.map((v) => v.column.replace(/年?$/, '年'))))];
  const units = new Set(t.rows.map((r) => r.unit ?? '')).size;
  const binding = t.rows.filter((r) => r.attribute === '约束性').length;
  const what = `${columns.length > 1 ? `${columns.slice(0, -1).join('、')}与${columns.at(-1)}目标` : `${columns[0] ?? ''}目标`}，共 ${t.rows.length} 项，按单位分 ${units} 组${binding > 0 ? `；红色为约束性指标（${binding} 项）` : ''}。`;
  const head = `<b>${escapeHtml(`${t.district} · ${tableLabel(t.table)}`)}</b>\n${escapeHtml(what)}\n来源：《${escapeHtml(t.title)}》`;
  const section = sourceSection(t);
  return section ? `${head} ${escapeHtml(section)}` : head;
}

function chartOffer(index: PlanIndex): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const d of districtsWithTables(index)) kb.text(`📊 ${d}`, encodeAction({ kind: 'targets-chart', district: d }));
  return kb;
}

/** The district's indicator charts, one photo per table; text when there is no table or the chart fails. */
export async function sendTargets(ctx: BotContext, services: BotServices, district: string | null): Promise<void> {
  const index = services.answerer().index;
  const withTables = districtsWithTables(index);
  const chosen = district ?? (withTables.length === 1 ? withTables[0]! : null);
  if (chosen === null) {
    const { html, keyboard } = targetsPage(index, null, 0);
    await sendHtml(ctx, html, { keyboard });
    return;
  }
  const tables = indicatorTables(index, chosen);
  if (tables.length === 0) {
    const others = withTables.length > 0 ? `有指标表的：${withTables.map((d) => `${escapeHtml(d)}（/targets ${escapeHtml(d)}）`).join('、')}。` : '';
    await sendHtml(ctx, `${escapeHtml(chosen)}的文件里没有主要指标表，所以没有指标图。${others}也可以直接问，例如“${escapeHtml(chosen)}十四五有哪些目标？”`, withTables.length > 0 ? { keyboard: chartOffer(index) } : {});
    return;
  }
  for (const table of tables) {
    const keyboard = new InlineKeyboard().text('📄 文字版', encodeAction({ kind: 'targets', district: chosen, page: 0 }));
    try {
      await services.charts.send(ctx, indicatorChartSpec(table), targetsCaption(table), { keyboard });
    } catch (err) {
      if (!(err instanceof ChartError)) throw err;
      ctx.log.warn({ err: err.message }, 'chart failed; sending the text rows');
      const page = targetsPage(index, chosen, 0);
      await sendHtml(ctx, page.html, { keyboard: page.keyboard });
    }
  }
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
    await sendTargets(ctx, services, district);
  });
  composer.callbackQuery(/^t:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const message = ctx.callbackQuery.message;
    if (action?.kind !== 'targets' || message === undefined || !ctx.chat) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    const index = services.answerer().index;
    const district = action.district === null ? null : (matchDistrict(index, action.district) ?? null);
    const { html, keyboard } = targetsPage(index, district, action.page);
    await ctx.answerCallbackQuery();
    // Under a chart the text comes as a new message (a photo cannot become text); text pages are edited in place.
    if ('photo' in message && message.photo) await sendHtml(ctx, html, { keyboard });
    else await editHtml(ctx, message.message_id, html, keyboard);
  });
  composer.callbackQuery(/^tc:/, async (ctx) => {
    const action = decodeAction(ctx.callbackQuery.data);
    const index = services.answerer().index;
    const district = action?.kind === 'targets-chart' ? matchDistrict(index, action.district) : undefined;
    if (!district || !ctx.chat) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    await ctx.answerCallbackQuery();
    await sendTargets(ctx, services, district);
  });
  return composer;
}
