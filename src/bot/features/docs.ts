import { Composer } from 'grammy';
import { corpusSummary } from '../catalog.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { sendHtml } from '../send.ts';

/** /docs: the documents answers come from, by district. */
export function docsFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('docs', async (ctx) => {
    const index = services.answerer().index;
    const summary = corpusSummary(index);
    const chunks = new Map<string, number>();
    for (const c of index.chunks) chunks.set(c.file, (chunks.get(c.file) ?? 0) + 1);
    const blocks = summary.districts.map((district) => {
      const docs = summary.documents.filter((d) => d.district === district);
      const lines = docs.map((d) => `• 《${escapeHtml(d.title)}》\n  <i>${escapeHtml(d.kind)} · ${d.year} 年${d.issuer ? ` · ${escapeHtml(d.issuer)}` : ''} · ${chunks.get(d.file) ?? 0} 段</i>`);
      return `<b>${escapeHtml(district)}</b>\n${lines.join('\n')}`;
    });
    await sendHtml(ctx, `<b>收录的文件</b>（${summary.documents.length} 份）\n\n${blocks.join('\n\n')}\n\n主要指标图：/targets 区名`);
  });
  return composer;
}
