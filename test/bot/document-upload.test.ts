import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bot } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { startLongPolling, type BotRuntime } from '../../src/bot/bot-runtime.ts';
import type { BotContext } from '../../src/bot/context.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import { extractedDir, readExtractedText } from '../../src/ingest/extracted-store.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { BotApiEmulator, type BotMessage } from '../helpers/bot-api-emulator.ts';
import { JINGHAI_MARKDOWN, ninghePlanDocx, scannedPdf, shunyiPlanPdf } from '../helpers/format-fixtures.ts';
import { createUploadBot } from '../helpers/upload-bot.ts';
import { REPO } from './fixtures.ts';

/**
 * Adding documents from the chat, end to end: long polling against the Bot API emulator,
 * a real corpus folder and index in temporary folders, the real download of the file.
 */

const ADMIN = { id: 5001, first_name: 'Admin' };
const USER = { id: 5002, first_name: 'User' };

let dir: string;
let config: Config;
let db: Database;
let emulator: BotApiEmulator;
let bot: Bot<BotContext>;
let runtime: BotRuntime;

let current: () => QuestionAnswerer;

async function startBot(): Promise<void> {
  ({ bot, answerer: current } = await createUploadBot(emulator, config, db, [ADMIN.id]));
  runtime = await startLongPolling(bot, silentLogger(), { timeoutSeconds: 1 });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-upload-'));
  const corpus = path.join(dir, 'corpus');
  await cp(path.join(REPO, 'data/corpus'), corpus, { recursive: true });
  config = parseConfig({ STATE_DIR: path.join(dir, 'state'), CORPUS_DIR: corpus, LOG_LEVEL: 'silent' }, REPO);
  await buildIndex(config);
  db = await openDatabase(databaseFile(config.index.stateDir));
  emulator = await BotApiEmulator.start();
  await startBot();
});

afterAll(async () => {
  await runtime?.stop();
  await emulator?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const buttonsOf = (m: { reply_markup?: InlineKeyboardMarkup } | undefined) =>
  (m?.reply_markup?.inline_keyboard ?? []).flat().flatMap((b) => ('callback_data' in b ? [b.callback_data] : []));
const last = (chatId: number): BotMessage => emulator.messagesIn(chatId).at(-1)!;
const waitForText = (chatId: number, re: RegExp, timeoutMs = 20_000) =>
  emulator.waitFor(() => emulator.messagesIn(chatId).some((m) => re.test(m.text)), timeoutMs, 0).then(() => emulator.messagesIn(chatId).find((m) => re.test(m.text))!);

describe('adding a document from the chat', () => {
  it('refuses a file from someone who is not an admin, with a short explanation', async () => {
    emulator.sendDocument(USER.id, USER, { file_name: 'plan.pdf', content: shunyiPlanPdf() });
    const reply = await waitForText(USER.id, /只有管理员可以给我添加文件/);
    expect(reply.text).toMatch(/请直接用文字提问/);
    expect(emulator.calls('getFile')).toHaveLength(0);
  });

  it("an admin's PDF is read, described, confirmed, and then answered from with cited numbers", async () => {
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: '顺义区十四五规划.pdf', content: shunyiPlanPdf() });
    const preview = await waitForText(ADMIN.id, /识别结果/);
    expect(preview.text).toMatch(/标题：北京市顺义区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要/);
    expect(preview.text).toMatch(/区：顺义区/);
    expect(preview.text).toMatch(/年份：2021（涵盖 2016–2025、2035）/);
    expect(preview.text).toMatch(/类型：五年规划/);
    expect(preview.text).toMatch(/找到 \d+ 段，1 个表格（3 项指标）/);
    const ok = buttonsOf(preview).find((b) => b.endsWith(':ok'))!;

    emulator.pressButton(ADMIN.id, ADMIN, preview.message_id, ok);
    const done = await waitForText(ADMIN.id, /已收录《北京市顺义区/, 60_000);
    expect(done.text).toMatch(/顺义区 · 2021 年 · 五年规划/);

    emulator.sendMessage(ADMIN.id, ADMIN, '顺义区2025年森林覆盖率目标是多少？');
    const answer = await waitForText(ADMIN.id, /森林覆盖率.*35/);
    expect(answer.text).toMatch(/\[1\] 《北京市顺义区国民经济和社会发展第十四个五年规划/);
    // The quote shown is in the stored extracted text of the PDF.
    const doc = current().index.documents.find((d) => d.district === '顺义区')!;
    expect(doc.format).toBe('pdf');
    const stored = (await readExtractedText(extractedDir(config.index.stateDir), doc.checksum))!.replace(/\s/g, '');
    const cited = [...current().index.chunks].filter((c) => c.file === doc.file && c.indicator?.name === '森林覆盖率');
    expect(cited).toHaveLength(1);
    expect(stored).toContain(cited[0]!.quote.replace(/\s/g, ''));

    // Anyone can open the text the quotes come from.
    const n = current().index.documents.indexOf(doc) + 1;
    emulator.sendMessage(USER.id, USER, `/text ${n}`);
    await emulator.waitFor(() => emulator.messagesIn(USER.id).some((m) => m.document !== undefined), 10_000, 0);
    const file = emulator.messagesIn(USER.id).find((m) => m.document)!;
    expect(file.document!.file_name).toBe(doc.file.replace(/\.pdf$/, '.txt'));
    expect(Buffer.from(file.document!.content).toString('utf8').replace(/\s/g, '')).toBe(stored);
    expect(file.text).toMatch(/^《北京市顺义区.*》提取出的文本/);

    // /targets draws the new district's table; its rows are one tap away under the chart.
    emulator.sendMessage(ADMIN.id, ADMIN, '/targets 顺义区');
    await emulator.waitFor(() => emulator.messagesIn(ADMIN.id).some((m) => m.photo !== undefined && /顺义区/.test(m.text)), 20_000, 0);
    const chart = emulator.messagesIn(ADMIN.id).find((m) => m.photo !== undefined && /顺义区/.test(m.text))!;
    expect(chart.text).toMatch(/来源：《北京市顺义区/);
    emulator.pressButton(ADMIN.id, ADMIN, chart.message_id, buttonsOf(chart)[0]!);
    const targets = await waitForText(ADMIN.id, /^主要指标 · 顺义区/);
    expect(targets.text).toMatch(/森林覆盖率（%）：2025年目标35%，2020年为32\.4%，约束性指标/);

    emulator.sendMessage(ADMIN.id, ADMIN, '/docs');
    const docs = await waitForText(ADMIN.id, /收录的文件（6 份）/);
    expect(docs.text).toMatch(/北京市顺义区[\s\S]*PDF，\d{4}-\d{2}-\d{2} 添加/);
  });

  it('lets the admin correct a field before confirming; the upload and its edits survive a restart', async () => {
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'ninghe.docx', content: ninghePlanDocx() });
    const preview = await waitForText(ADMIN.id, /识别结果[\s\S]*ninghe\.docx/);
    expect(preview.text).toMatch(/区：宁河区[\s\S]*年份：2024（涵盖 2023–2024）[\s\S]*类型：政府工作报告[\s\S]*2 个表格（3 项指标）/);
    emulator.pressButton(ADMIN.id, ADMIN, preview.message_id, buttonsOf(preview).find((b) => b.endsWith(':e:title'))!);
    await waitForText(ADMIN.id, /请在 10 分钟内发送新的标题/);
    emulator.sendMessage(ADMIN.id, ADMIN, '2024年宁河区政府工作报告');
    const edited = await waitForText(ADMIN.id, /标题：2024年宁河区政府工作报告/);

    await runtime.stop();
    await startBot();

    emulator.pressButton(ADMIN.id, ADMIN, edited.message_id, buttonsOf(edited).find((b) => b.endsWith(':ok'))!);
    await waitForText(ADMIN.id, /已收录《2024年宁河区政府工作报告》/, 60_000);
    const manifest = JSON.parse(await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8')) as { documents: Array<{ file: string; title?: string }> };
    expect(manifest.documents.find((d) => d.file === 'ninghe.docx')?.title).toBe('2024年宁河区政府工作报告');
    const projects = [...current().index.chunks].filter((c) => c.file === 'ninghe.docx' && c.kind === 'table-row' && !c.indicator);
    expect(projects).toHaveLength(3);
  });

  it('explains a file too large to download, a scan without text, and an unsupported format', async () => {
    const before = emulator.messagesIn(ADMIN.id).length;
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'huge.pdf', content: Buffer.from('%PDF'), file_size: 25 * 1024 * 1024 });
    await waitForText(ADMIN.id, /文件太大（25\.0 MB）：机器人只能下载 20 MB 以内的文件/);
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'scan.pdf', content: scannedPdf() });
    await waitForText(ADMIN.id, /没能读取 scan\.pdf：pdf: scan\.pdf has no text layer/);
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'photo.jpg', content: Buffer.from('jpg') });
    await waitForText(ADMIN.id, /不支持 photo\.jpg 这种文件/);
    expect(emulator.messagesIn(ADMIN.id).length - before).toBe(4); // three explanations, one "正在读取" for the scan
    for (const call of emulator.sent) expect(JSON.stringify(call.params)).not.toContain(emulator.token);
  });

  it('recognizes a file already in the corpus; cancels an upload: nothing reaches the corpus', async () => {
    const files = await readdir(config.index.corpusDir);
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'again.pdf', content: shunyiPlanPdf() });
    await waitForText(ADMIN.id, /这份文件已经收录了：《北京市顺义区.*》（顺义区十四五规划\.pdf）/);
    emulator.sendDocument(ADMIN.id, ADMIN, { file_name: 'jinghai.md', content: Buffer.from(JINGHAI_MARKDOWN) });
    const preview = await waitForText(ADMIN.id, /识别结果[\s\S]*jinghai\.md/);
    emulator.pressButton(ADMIN.id, ADMIN, preview.message_id, buttonsOf(preview).find((b) => b.endsWith(':no'))!);
    await waitForText(ADMIN.id, /已取消，没有收录 jinghai\.md/);
    expect(await readdir(config.index.corpusDir)).toEqual(files);
  });

  it('removes a document with /remove after confirmation; a non-admin cannot', async () => {
    emulator.sendMessage(USER.id, USER, '/remove 6');
    await waitForText(USER.id, /这个命令只对管理员开放/);
    const n = current().index.documents.findIndex((d) => d.district === '顺义区') + 1;
    emulator.sendMessage(ADMIN.id, ADMIN, `/remove ${n}`);
    const ask = await waitForText(ADMIN.id, /移除《北京市顺义区/);
    emulator.pressButton(ADMIN.id, ADMIN, ask.message_id, buttonsOf(ask)[0]!);
    await waitForText(ADMIN.id, /已移除《北京市顺义区.*索引现有 6 份文件/, 60_000);
    expect(current().index.documents.some((d) => d.district === '顺义区')).toBe(false);
    expect(await readdir(path.join(config.index.stateDir, 'removed'))).toHaveLength(1);
    expect(last(ADMIN.id).text).toMatch(/已移除/);
  });
});
