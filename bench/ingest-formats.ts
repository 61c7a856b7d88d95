import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { startLongPolling } from '../src/bot/bot-runtime.ts';
import { parseConfig } from '../src/config.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { extractDocument } from '../src/ingest/extract.ts';
import { silentLogger } from '../src/logger.ts';
import { databaseFile, openDatabase } from '../src/store/database.ts';
import { BotApiEmulator } from '../test/helpers/bot-api-emulator.ts';
import { writeDocx, type DocxBlock } from '../test/helpers/docx-writer.ts';
import { FIXTURE_DIR, JINGHAI_MARKDOWN, largePlanPdf } from '../test/helpers/format-fixtures.ts';
import { createUploadBot } from '../test/helpers/upload-bot.ts';

/**
 * `npm run bench:ingest`: characters extracted per second for each format, and the time
 * from an admin sending a generated 100-page plan PDF to the bot (Bot API emulator on
 * 127.0.0.1, the shipped corpus already indexed) until a question about it is answered.
 * Lives outside src/ because it draws its documents with the test fixtures' writers.
 */

const REPO = path.resolve(import.meta.dirname, '..');
const say = (s: string) => process.stdout.write(`${s}\n`);

async function charsPerSecond(name: string, bytes: Uint8Array, file: string, rounds: number): Promise<void> {
  await extractDocument(bytes, file); // warm-up: module loading and JIT
  const t0 = performance.now();
  let chars = 0;
  for (let i = 0; i < rounds; i++) chars += (await extractDocument(bytes, file)).text.length;
  const s = (performance.now() - t0) / 1000;
  say(`${name.padEnd(22)} ${(bytes.length / 1024).toFixed(0).padStart(6)} KB  ${(chars / rounds).toFixed(0).padStart(8)} chars  ${((s / rounds) * 1000).toFixed(1).padStart(8)} ms  ${Math.round(chars / s).toLocaleString('en-US').padStart(12)} chars/s`);
}

function bigDocx(): Buffer {
  const blocks: DocxBlock[] = [{ heading: '宁河区2024年政府工作报告' }];
  for (let i = 0; i < 400; i++) {
    blocks.push({ paragraph: `第${i + 1}项：宁河区将持续推进城市更新和产业升级，完善交通、水务、能源等基础设施，提升公共服务均衡化水平，确保各项任务落地见效。` });
    if (i % 40 === 0) blocks.push({ table: [['序号', '指标', '单位', '2023年完成', '2024年目标'], ...Array.from({ length: 10 }, (_, r) => [String(r + 1), `指标${r + 1}`, '%', '4.8', '5.5'])] });
  }
  return writeDocx(blocks);
}

function bigHtml(): Buffer {
  const paragraphs = Array.from({ length: 400 }, (_, i) => `<p>第${i + 1}项：东丽区将持续推进城市更新和产业升级，完善交通、水务、能源等基础设施，提升公共服务均衡化水平，确保各项任务落地见效。</p>`);
  const table = `<table><tr><th>序号</th><th>指标</th><th>2023年</th><th>2024年目标</th></tr>${Array.from({ length: 30 }, (_, r) => `<tr><td>${r + 1}</td><td>指标${r + 1}</td><td>4.8</td><td>5.5</td></tr>`).join('')}</table>`;
  return Buffer.from(`<!doctype html><html><head><meta charset="utf-8"><title>东丽区计划报告</title></head><body><nav><a href="/">首页</a></nav><div class="article"><h1>关于东丽区2023年计划执行情况与2024年计划草案的报告</h1>${paragraphs.join('')}${table}</div></body></html>`);
}

async function uploadToAnswerable(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-bench-upload-'));
  const corpus = path.join(dir, 'corpus');
  await cp(path.join(REPO, 'data/corpus'), corpus, { recursive: true });
  const config = parseConfig({ STATE_DIR: path.join(dir, 'state'), CORPUS_DIR: corpus, LOG_LEVEL: 'silent' }, REPO);
  await buildIndex(config);
  const db = await openDatabase(databaseFile(config.index.stateDir));
  const emulator = await BotApiEmulator.start();
  const admin = { id: 9001, first_name: 'Admin' };
  const { bot } = await createUploadBot(emulator, config, db, [admin.id]);
  const runtime = await startLongPolling(bot, silentLogger(), { timeoutSeconds: 1 });
  const waitText = (re: RegExp) => emulator.waitFor(() => emulator.messagesIn(admin.id).some((m) => re.test(m.text)), 600_000, 0).then(() => emulator.messagesIn(admin.id).find((m) => re.test(m.text))!);
  try {
    const pdf = largePlanPdf(100);
    const t0 = performance.now();
    emulator.sendDocument(admin.id, admin, { file_name: 'shunyi-100-pages.pdf', content: pdf });
    const preview = await waitText(/识别结果/);
    const t1 = performance.now();
    const ok = ((preview.reply_markup as InlineKeyboardMarkup | undefined)?.inline_keyboard.flat() ?? []).flatMap((b) => ('callback_data' in b ? [b.callback_data] : [])).find((d) => d.endsWith(':ok'))!;
    emulator.pressButton(admin.id, admin, preview.message_id, ok);
    const done = await waitText(/已收录/);
    const t2 = performance.now();
    emulator.sendMessage(admin.id, admin, '顺义区2025年森林覆盖率目标是多少？');
    const answer = await waitText(/35/);
    const t3 = performance.now();
    const pages = /（PDF，(\d+) 页，([\d,]+) 字）/.exec(preview.text);
    say(`\nupload to answerable, ${pages?.[1]}-page PDF (${(pdf.length / 1024).toFixed(0)} KB, ${pages?.[2]} characters), shipped corpus already indexed:`);
    say(`  send → preview (download, extract, describe, count):  ${((t1 - t0) / 1000).toFixed(2)} s`);
    say(`  confirm → indexed (corpus write, incremental index):    ${((t2 - t1) / 1000).toFixed(2)} s   [${done.text.split('\n').at(-2)}]`);
    say(`  question → cited answer:                                ${((t3 - t2) / 1000).toFixed(2)} s   [${answer.text.split('\n')[0]}]`);
    say(`  total, without the admin's review time:                 ${((t3 - t0 - 0) / 1000).toFixed(2)} s`);
  } finally {
    await runtime.stop();
    await emulator.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

say(`node ${process.version}, ${os.cpus().length} CPUs\n`);
say(`${'format'.padEnd(22)} ${'input'.padStart(9)}  ${'extracted'.padStart(14)}  ${'per doc'.padStart(11)}  ${'rate'.padStart(18)}`);
await charsPerSecond('pdf (100 pages)', largePlanPdf(100), 'plan.pdf', 3);
await charsPerSecond('docx (400 paragraphs)', bigDocx(), 'report.docx', 5);
await charsPerSecond('html utf-8 (400 p.)', bigHtml(), 'page.html', 5);
await charsPerSecond('html gbk (fixture)', await readFile(path.join(FIXTURE_DIR, 'dongli-2024-plan-report.html')), 'page.html', 50);
await charsPerSecond('md (fixture x40)', Buffer.from(JINGHAI_MARKDOWN.repeat(40)), 'plan.md', 20);
await charsPerSecond('txt (wuqing plan)', await readFile(path.join(REPO, 'data/corpus/wuqing-14th-five-year-plan.txt')), 'plan.txt', 20);
await uploadToAnswerable();
