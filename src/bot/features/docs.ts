import path from 'node:path';
import { Composer, InputFile } from 'grammy';
import { corpusSummary } from '../catalog.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { sendHtml } from '../send.ts';

/** How a source format is named to users. */
export const FORMAT_NAMES: Record<string, string> = { pdf: 'PDF', docx: 'Word', html: '网页', md: 'Markdown', txt: '纯文本' };

/** /docs: the documents answers come from, by district, numbered as /remove takes them; with their source format and the date added. */
export function docsFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('docs', async (ctx) => {
    const index = services.answerer().index;
    const summary = corpusSummary(index);
    const chunks = new Map<string, number>();
    for (let i = 0; i < index.chunks.length; i++) chunks.set(index.chunks.fileOf(i), (chunks.get(index.chunks.fileOf(i)) ?? 0) + 1);
    const number = new Map(summary.documents.map((d, i) => [d.file, i + 1]));
    const blocks = summary.districts.map((district) => {
      const docs = summary.documents.filter((d) => d.district === district);
      const lines = docs.map((d) => {
        const source = [FORMAT_NAMES[d.format ?? ''] ?? '', d.added ? `${d.added} 添加` : ''].filter(Boolean).join('，');
        return `${number.get(d.file)}. 《${escapeHtml(d.title)}》\n  <i>${escapeHtml(d.kind)} · ${d.year} 年${d.issuer ? ` · ${escapeHtml(d.issuer)}` : ''} · ${chunks.get(d.file) ?? 0} 段${source ? ` · ${source}` : ''}</i>`;
      });
      return `<b>${escapeHtml(district)}</b>\n${lines.join('\n')}`;
    });
    const admin = services.telegram.adminUserIds.includes(ctx.from?.id ?? 0) && ctx.chat?.type === 'private';
    const adminHint = admin ? '\n管理员：直接发送 PDF、Word、网页或 Markdown 文件即可添加；/remove 编号 移除。' : '';
    await sendHtml(ctx, `<b>收录的文件</b>（${summary.documents.length} 份）\n\n${blocks.join('\n\n')}\n\n主要指标图：/targets 区名\n原文（引文都出自这里）：/text 编号${adminHint}`);
  });

  // The extracted text a document's quotes come from, as a file anyone can open.
  composer.command('text', async (ctx) => {
    const documents = services.answerer().index.documents;
    const n = Number(ctx.match.trim());
    const doc = Number.isInteger(n) && n >= 1 ? documents[n - 1] : undefined;
    if (!doc) return void (await sendHtml(ctx, `用法：/text 编号（1–${documents.length}，编号见 /docs）`));
    const text = await services.library?.extractedText(doc.checksum);
    if (text === undefined) return void (await sendHtml(ctx, '这份文件的提取文本暂时无法打开：请管理员运行 /reindex 后再试。'));
    // The terminal has no files: the text is printed instead, in message-sized parts.
    if (services.console) return void (await sendHtml(ctx, `<b>《${escapeHtml(doc.title)}》提取出的文本</b>\n\n${escapeHtml(text)}`));
    const name = `${path.basename(doc.file, path.extname(doc.file))}.txt`;
    await ctx.replyWithDocument(new InputFile(Buffer.from(text, 'utf8'), name), { caption: `《${doc.title}》提取出的文本：回答里的引文都能在其中找到。`.slice(0, 1000) });
  });
  return composer;
}
