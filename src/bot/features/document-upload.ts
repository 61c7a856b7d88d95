import { Composer, InlineKeyboard, type Api } from 'grammy';
import { InputError, PlanQaError } from '../../errors.ts';
import { DOCUMENT_EXTENSIONS } from '../../ingest/extract.ts';
import type { DocumentLibrary, EditableField, StagedUpload } from '../../ingest/document-library.ts';
import { DOCUMENT_KINDS } from '../../ingest/metadata.ts';
import type { Logger } from '../../logger.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { editHtml, sendHtml } from '../send.ts';
import { FORMAT_NAMES } from './docs.ts';
import { BOT_DOWNLOAD_LIMIT_BYTES, downloadTelegramFile } from '../telegram-file.ts';

/**
 * Adding documents from the chat. An admin sends a file in a private chat; the bot reads
 * it, shows what it found (title, district, year, kind, passages and tables) with buttons
 * to confirm, correct a field or cancel, then adds it to the corpus and updates the index
 * (only the new document is embedded). Everyone else who sends a file is told what the
 * bot does with files (document-remove.ts takes one out again). Buttons carry the upload's id
 * ("up:<id>:<verb>"); the upload itself lives on disk, so buttons work after a restart.
 */

const FIELD_NAMES: Record<EditableField, string> = { title: '标题', district: '区', year: '年份' };
const MAX_FIELD_CHARS = { title: 200, district: 20 };

function yearsLabel(years: readonly number[] | undefined): string {
  if (!years || years.length === 0) return '';
  const runs: string[] = [];
  let from = years[0]!;
  for (let i = 1; i <= years.length; i++) {
    if (years[i] !== years[i - 1]! + 1) {
      runs.push(from === years[i - 1] ? String(from) : `${from}–${years[i - 1]}`);
      from = years[i]!;
    }
  }
  return runs.join('、');
}

export function uploadPreview(u: StagedUpload): { html: string; keyboard: InlineKeyboard } {
  const m = u.meta;
  const missing = (v: unknown) => (v === undefined || v === '' ? '<i>未识别，请填写</i>' : escapeHtml(String(v)));
  const c = u.counts;
  const lines = [
    '<b>识别结果</b>',
    `文件：${escapeHtml(u.fileName)}（${FORMAT_NAMES[u.format] ?? u.format}${c.pages ? `，${c.pages} 页` : ''}，${c.characters.toLocaleString('en-US')} 字）`,
    `标题：${missing(m.title)}`,
    `区：${missing(m.district)}`,
    `年份：${missing(m.year)}${m.years && m.years.length > 1 ? `（涵盖 ${yearsLabel(m.years)}）` : ''}`,
    `类型：${escapeHtml(m.kind)}`,
    ...(m.issuer ? [`发布机关：${escapeHtml(m.issuer)}`] : []),
    `找到 ${c.passages} 段，${c.tables} 个表格${c.indicators > 0 ? `（${c.indicators} 项指标）` : ''}`,
    '',
    '请确认收录，或修改识别有误的项目。',
  ];
  const keyboard = new InlineKeyboard()
    .text('✅ 确认收录', `up:${u.id}:ok`)
    .row()
    .text('✏️ 标题', `up:${u.id}:e:title`)
    .text('✏️ 区', `up:${u.id}:e:district`)
    .text('✏️ 年份', `up:${u.id}:e:year`)
    .text('✏️ 类型', `up:${u.id}:kinds`)
    .row()
    .text('✖ 取消', `up:${u.id}:no`);
  return { html: lines.join('\n'), keyboard };
}

function kindKeyboard(u: StagedUpload): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  DOCUMENT_KINDS.forEach((k, i) => keyboard.text(k === u.meta.kind ? `· ${k} ·` : k, `up:${u.id}:k:${i}`));
  return keyboard.row().text('◀ 返回', `up:${u.id}:back`);
}

/** A field's new value as typed, or a message saying what is wrong with it. */
export function parseFieldValue(field: EditableField, text: string): { value: string | number } | { error: string } {
  const t = text.trim();
  if (field === 'year') {
    const y = Number(/^(\d{4})\s*年?$/.exec(t)?.[1]);
    return Number.isInteger(y) && y >= 1949 && y <= 2100 ? { value: y } : { error: '年份请写四位数字，例如 2024。' };
  }
  const max = MAX_FIELD_CHARS[field];
  if (t === '' || t.length > max || /\n/.test(t)) return { error: `${FIELD_NAMES[field]}请写一行，不超过 ${max} 个字。` };
  if (field === 'district' && !/(区|县|市|旗|新区)$/.test(t)) return { error: '区名请写全称，例如“西青区”。' };
  return { value: t };
}

/**
 * Tells each admin how an upload cut short by a restart ended: added (the start-up build
 * took it in) or waiting for confirmation again. Failures to tell are logged, not fatal.
 */
export async function announceSettledUploads(api: Api, uploads: readonly StagedUpload[], log: Logger): Promise<void> {
  for (const u of uploads) {
    const title = escapeHtml(u.meta.title ?? u.fileName);
    const html =
      u.state === 'done'
        ? `重启前正在收录的《${title}》已经收录完成，现在可以提问了。`
        : `重启打断了《${title}》的收录，文件没有收录。确认无误后请再按一次“确认收录”：`;
    const keyboard = u.state === 'done' ? undefined : uploadPreview(u).keyboard;
    await api
      .sendMessage(u.chatId, html, { parse_mode: 'HTML', ...(keyboard ? { reply_markup: keyboard } : {}) })
      .catch((err: unknown) => log.warn({ upload: u.id, err: (err as Error).message }, 'could not tell the admin about a settled upload'));
  }
}

export function documentUploadFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const library = services.library;
  const admins = new Set(services.telegram.adminUserIds);
  const isAdmin = (ctx: BotContext) => admins.has(ctx.from?.id ?? 0);

  const privateChat = composer.chatType('private');

  privateChat.on('message:document', async (ctx) => {
    if (!isAdmin(ctx)) {
      await sendHtml(ctx, '只有管理员可以给我添加文件。想了解规划内容，请直接用文字提问，例如“武清区2025年森林覆盖率目标是多少？”');
      return;
    }
    const doc = ctx.msg.document;
    const name = doc.file_name ?? 'document';
    if (!library || !services.reindex) return void (await sendHtml(ctx, '这种运行方式不支持添加文件。'));
    if (!DOCUMENT_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext))) {
      await sendHtml(ctx, `不支持 ${escapeHtml(name)} 这种文件。可以添加：PDF（有文字层的）、Word（.docx）、网页（.html）、Markdown（.md）和纯文本（.txt）。`);
      return;
    }
    if ((doc.file_size ?? 0) > BOT_DOWNLOAD_LIMIT_BYTES) {
      await sendHtml(ctx, `文件太大（${((doc.file_size ?? 0) / 1024 / 1024).toFixed(1)} MB）：机器人只能下载 20 MB 以内的文件。请压缩 PDF 或拆分后再发。`);
      return;
    }
    await sendHtml(ctx, `正在读取 ${escapeHtml(name)}……`);
    let upload: StagedUpload;
    try {
      const bytes = await downloadTelegramFile(ctx.api, doc.file_id, { ...(services.telegram.apiRoot ? { apiRoot: services.telegram.apiRoot } : {}) });
      upload = await library.stage(bytes, name, { chatId: ctx.chat.id, userId: ctx.from.id });
    } catch (err) {
      if (!(err instanceof PlanQaError)) throw err;
      ctx.log.info({ code: err.code }, 'upload refused');
      const why = err instanceof InputError ? '机器人只能下载 20 MB 以内的文件' : err.message;
      await sendHtml(ctx, `没能读取 ${escapeHtml(name)}：${escapeHtml(why)}`);
      return;
    }
    const known = services.answerer().index.documents.find((d) => d.checksum === upload.checksum);
    if (known) {
      upload.state = 'cancelled';
      await library.save(upload);
      await library.discard(upload);
      return void (await sendHtml(ctx, `这份文件已经收录了：《${escapeHtml(known.title)}》（${escapeHtml(known.file)}）。`));
    }
    ctx.log.info({ upload: upload.id, format: upload.format, passages: upload.counts.passages }, 'upload staged');
    const { html, keyboard } = uploadPreview(upload);
    await sendHtml(ctx, html, { keyboard });
  });

  // A field being corrected: the admin's next text in this chat is its value.
  privateChat.on('message:text', async (ctx, next) => {
    if (!library || !isAdmin(ctx) || ctx.msg.text.startsWith('/')) return next();
    const upload = await library.editing(ctx.chat.id, ctx.from.id);
    if (!upload?.editing) return next();
    const parsed = parseFieldValue(upload.editing, ctx.msg.text);
    if ('error' in parsed) return void (await sendHtml(ctx, `${escapeHtml(parsed.error)}（发送 /docs 或按“取消”可放弃修改）`));
    const field = upload.editing;
    if (field === 'year') {
      const y = parsed.value as number;
      upload.meta.year = y;
      upload.meta.years = [...new Set([...(upload.meta.years ?? []), y])].sort((a, b) => a - b);
    } else upload.meta[field] = parsed.value as string;
    delete upload.editing;
    delete upload.editingSince;
    await library.save(upload);
    const { html, keyboard } = uploadPreview(upload);
    await sendHtml(ctx, html, { keyboard });
  });

  composer.callbackQuery(/^up:/, async (ctx) => {
    const [, id = '', verb = '', arg = ''] = ctx.callbackQuery.data.split(':');
    const upload = library ? await library.get(id) : undefined;
    if (!upload || !isAdmin(ctx) || upload.userId !== ctx.from.id) return void (await ctx.answerCallbackQuery({ text: '这个文件已处理或已过期。' }));
    if (upload.state !== 'pending') return void (await ctx.answerCallbackQuery({ text: upload.state === 'done' ? '已经收录过了。' : upload.state === 'cancelled' ? '已经取消了。' : '正在收录，请稍候。' }));
    const messageId = ctx.callbackQuery.message?.message_id;
    const show = async (html: string, keyboard?: InlineKeyboard) => {
      if (messageId !== undefined) await editHtml(ctx, messageId, html, keyboard);
      else await sendHtml(ctx, html, keyboard ? { keyboard } : {});
    };

    if (verb === 'no') {
      upload.state = 'cancelled';
      delete upload.editing;
      await library!.save(upload);
      await library!.discard(upload);
      await ctx.answerCallbackQuery({ text: '已取消' });
      return show(`已取消，没有收录 ${escapeHtml(upload.fileName)}。`);
    }
    if (verb === 'e' && (arg === 'title' || arg === 'district' || arg === 'year')) {
      upload.editing = arg;
      upload.editingSince = new Date().toISOString();
      await library!.save(upload);
      await ctx.answerCallbackQuery();
      return void (await sendHtml(ctx, `请在 10 分钟内发送新的${FIELD_NAMES[arg]}${arg === 'year' ? '（四位数字，例如 2024）' : ''}。`));
    }
    if (verb === 'kinds') {
      await ctx.answerCallbackQuery();
      return show(uploadPreview(upload).html, kindKeyboard(upload));
    }
    if (verb === 'k' && DOCUMENT_KINDS[Number(arg)] !== undefined) {
      upload.meta.kind = DOCUMENT_KINDS[Number(arg)]!;
      await library!.save(upload);
      await ctx.answerCallbackQuery({ text: `类型：${upload.meta.kind}` });
      const { html, keyboard } = uploadPreview(upload);
      return show(html, keyboard);
    }
    if (verb === 'back') {
      await ctx.answerCallbackQuery();
      const { html, keyboard } = uploadPreview(upload);
      return show(html, keyboard);
    }
    if (verb !== 'ok') return void (await ctx.answerCallbackQuery({ text: '这个按钮已失效。' }));

    const lacking = [...(upload.meta.district ? [] : ['区']), ...(upload.meta.year !== undefined ? [] : ['年份'])];
    if (lacking.length > 0) return void (await ctx.answerCallbackQuery({ text: `请先填写${lacking.join('和')}。`, show_alert: true }));
    upload.state = 'ingesting';
    delete upload.editing;
    await library!.save(upload);
    await ctx.answerCallbackQuery({ text: '开始收录' });
    await show(`正在收录《${escapeHtml(upload.meta.title ?? upload.fileName)}》，完成后可以直接提问……`);
    try {
      const r = await library!.exclusive(async () => {
        upload.corpusFile = await library!.addToCorpus(upload);
        await library!.save(upload);
        return services.reindex!({ rebuild: false });
      });
      upload.state = 'done';
      await library!.save(upload);
      await library!.discard(upload); // the corpus holds the file now
      ctx.log.info({ upload: upload.id, file: upload.corpusFile, ms: r.ms }, 'upload ingested');
      await show(
        [
          `已收录《${escapeHtml(upload.meta.title ?? upload.fileName)}》`,
          `${escapeHtml(upload.meta.district!)} · ${upload.meta.year} 年 · ${escapeHtml(upload.meta.kind)}`,
          `${upload.counts.passages} 段，${upload.counts.tables} 个表格；索引现有 ${r.documents} 份文件，用时 ${(r.ms / 1000).toFixed(1)} 秒。`,
          '现在可以提问了；/docs 查看全部文件。',
        ].join('\n'),
      );
    } catch (err) {
      ctx.log.error({ upload: upload.id, err: (err as Error).message }, 'upload ingest failed');
      await library!.withdraw(upload).catch(() => {});
      delete upload.corpusFile;
      upload.state = 'pending';
      await library!.save(upload);
      const { keyboard } = uploadPreview(upload);
      await show(`收录失败，仍在使用原来的索引：${escapeHtml((err as Error).message.split('\n')[0] ?? '')}\n可以再试一次或取消。`, keyboard);
    }
  });

  return composer;
}
