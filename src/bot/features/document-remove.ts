import { Composer, InlineKeyboard } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { editHtml, sendHtml } from '../send.ts';

/**
 * /remove 编号 (admins): takes a document out of the corpus after a confirmation and updates
 * the index; when the index cannot be updated the removal is undone. The button carries the
 * first 16 hex digits of the document's checksum, so a list that changed in between cannot
 * make it remove another document.
 */
export function documentRemoveFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const library = services.library;
  const admins = new Set(services.telegram.adminUserIds);
  const isAdmin = (ctx: BotContext) => admins.has(ctx.from?.id ?? 0);

  composer.command('remove', async (ctx) => {
    if (!isAdmin(ctx)) return void (await sendHtml(ctx, '这个命令只对管理员开放。'));
    if (!library || !services.reindex) return void (await sendHtml(ctx, '这种运行方式不支持移除文件。'));
    const documents = services.answerer().index.documents;
    const wanted = ctx.match.trim();
    const n = Number(wanted);
    const doc = /^\d+$/.test(wanted) ? documents[n - 1] : documents.find((d) => d.file === wanted);
    if (!doc) {
      const list = documents.map((d, i) => `${i + 1}. 《${escapeHtml(d.title)}》 <i>${escapeHtml(d.file)}</i>`).join('\n');
      await sendHtml(ctx, `${wanted ? `没有“${escapeHtml(wanted)}”这份文件。` : ''}用法：/remove 编号\n\n${list}`);
      return;
    }
    const keyboard = new InlineKeyboard().text('确认移除', `rm:${doc.checksum.slice(0, 16)}`).text('取消', 'rm:-');
    await sendHtml(ctx, `移除《${escapeHtml(doc.title)}》（${escapeHtml(doc.file)}）？文件会移到状态目录的 removed/ 里，不会删除。`, { keyboard });
  });

  composer.callbackQuery(/^rm:/, async (ctx) => {
    if (!isAdmin(ctx) || !library || !services.reindex) return void (await ctx.answerCallbackQuery({ text: '这个命令只对管理员开放。' }));
    const key = ctx.callbackQuery.data.slice(3);
    const messageId = ctx.callbackQuery.message?.message_id;
    const show = (html: string) => (messageId !== undefined ? editHtml(ctx, messageId, html) : sendHtml(ctx, html).then(() => {}));
    if (key === '-') {
      await ctx.answerCallbackQuery({ text: '已取消' });
      return show('已取消，没有移除文件。');
    }
    const doc = services.answerer().index.documents.find((d) => d.checksum.startsWith(key));
    if (!doc || key.length !== 16) return void (await ctx.answerCallbackQuery({ text: '这份文件已经不在了。' }));
    await ctx.answerCallbackQuery({ text: '正在移除' });
    try {
      const r = await library.exclusive(async () => {
        const restore = await library.removeFromCorpus(doc.file);
        try {
          return await services.reindex!({ rebuild: false });
        } catch (err) {
          await restore(); // the index still holds the document: so does the corpus
          throw err;
        }
      });
      ctx.log.info({ file: doc.file }, 'document removed');
      await show(`已移除《${escapeHtml(doc.title)}》；索引现有 ${r.documents} 份文件。`);
    } catch (err) {
      ctx.log.error({ file: doc.file, err: (err as Error).message }, 'remove failed');
      await show(`移除失败，文件和索引都保持原样：${escapeHtml((err as Error).message.split('\n')[0] ?? '')}`);
    }
  });
  return composer;
}
