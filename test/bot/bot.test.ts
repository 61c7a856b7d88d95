import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Composer, type Bot } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/answer.ts';
import type { Answering, BotContext, BotServices } from '../../src/bot/context.ts';
import { createBot, type BotDeps } from '../../src/bot/create-bot.ts';
import { BotMetrics } from '../../src/bot/metrics.ts';
import { EXPIRED_BUTTON } from '../../src/bot/texts.ts';
import { ChartRenderer } from '../../src/chart/chart-renderer.ts';
import { ChartError } from '../../src/errors.ts';
import type { TelegramConfig } from '../../src/config.ts';
import { createLogger, silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { parseHtml } from '../helpers/bot-api-emulator-html.ts';
import {
  ALICE,
  BOB,
  BOT_INFO,
  GROUP,
  RecordingApi,
  botMessage,
  buildTestIndex,
  callbackDataOf,
  inlineUpdate,
  mediaUpdate,
  pressUpdate,
  telegramConfig,
  textUpdate,
  type RecordedCall,
  type TestIndex,
} from './fixtures.ts';

let fixture: TestIndex;
let dbDir: string;
let db: Database;
let store: BotStore;
let api: RecordingApi;

beforeAll(async () => {
  fixture = await buildTestIndex();
});
afterAll(() => fixture.cleanup());
beforeEach(async () => {
  dbDir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-bot-db-'));
  db = await openDatabase(databaseFile(dbDir));
  store = new BotStore(db);
  api = new RecordingApi();
});
afterEach(async () => {
  await db.close();
  await rm(dbDir, { recursive: true, force: true });
});

function makeBot(options: { telegram?: Partial<TelegramConfig>; answerer?: Answering; deps?: Partial<BotDeps> } = {}): Bot<BotContext> {
  return createBot('424242:TEST', {
    telegram: telegramConfig(options.telegram),
    log: silentLogger(),
    store,
    answerer: () => options.answerer ?? fixture.answerer,
    botInfo: BOT_INFO,
    transformers: [api.transformer],
    throttle: false,
    ...options.deps,
  });
}

const telegramText = (call: RecordedCall | undefined) => parseHtml(String(call?.payload.text), { strictEntities: true }).text;
const Q = '武清区2025年森林覆盖率目标是多少？';

describe('questions in a private chat', () => {
  it('answers with claims [n], a compact source list and buttons; typing first', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, Q));
    expect(api.calls.map((c) => c.method)).toEqual(['sendChatAction', 'sendMessage']);
    const [answer] = api.sent(ALICE.id);
    expect(answer?.payload.parse_mode).toBe('HTML');
    const text = telegramText(answer);
    expect(text).toMatch(/森林覆盖率.*13%.*\[1\]/);
    expect(text).toMatch(/来源\n\[1\] 《天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》/);
    const data = callbackDataOf(answer);
    expect(data).toEqual([expect.stringMatching(/^s:\d+:1$/), expect.stringMatching(/^m:\d+$/), expect.stringMatching(/^f:\d+:up$/), expect.stringMatching(/^f:\d+:down$/)]);
    const id = Number(data[0]!.split(':')[1]);
    expect(await store.answer(id)).toMatchObject({ chatId: ALICE.id, messageId: (answer!.result as { message_id: number }).message_id, found: true });
  });

  it('shows the full excerpt for a source button, in an expandable blockquote under the answer', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '津南区十四五期间要建设哪些医院？'));
    const answer = api.sent(ALICE.id)[0]!;
    const source = callbackDataOf(answer).find((d) => d.startsWith('s:'))!;
    api.clear();
    await bot.handleUpdate(pressUpdate(ALICE, answer, source));
    expect(api.calls.map((c) => c.method)).toEqual(['answerCallbackQuery', 'sendMessage']);
    const excerpt = api.sent(ALICE.id)[0]!;
    const parsed = parseHtml(String(excerpt.payload.text), { strictEntities: true });
    expect(parsed.text).toMatch(/^\[1\] 《天津市津南区.*》\n津南区 · 第九章/);
    expect(parsed.entities.map((e) => e.type)).toContain('expandable_blockquote');
    expect(excerpt.payload.reply_parameters).toMatchObject({ message_id: (answer.result as { message_id: number }).message_id });
  });

  it('keeps buttons working after a restart (their data is a database row)', async () => {
    await makeBot().handleUpdate(textUpdate(ALICE, Q));
    const answer = api.sent(ALICE.id)[0]!;
    await db.close();
    db = await openDatabase(databaseFile(dbDir));
    store = new BotStore(db);
    api.clear();
    await makeBot().handleUpdate(pressUpdate(ALICE, answer, callbackDataOf(answer)[0]!));
    expect(telegramText(api.sent(ALICE.id)[0])).toContain('森林覆盖率');
  });

  it('pages through more results without repeating a passage', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '武清区如何发展现代农业？'));
    let message = api.sent(ALICE.id)[0]!;
    const seen: string[] = [];
    for (let page = 0; page < 3; page++) {
      const more = callbackDataOf(message).find((d) => d.startsWith('m:'));
      if (!more) break;
      api.clear();
      await bot.handleUpdate(pressUpdate(ALICE, message, more));
      message = api.sent(ALICE.id).at(-1)!;
      const text = telegramText(message);
      expect(text).toMatch(/^更多相关段落/);
      const headers = [...text.matchAll(/\n\[(\d+)\] 《/g)].map((m) => m[1]!);
      expect(headers.length).toBeGreaterThan(0);
      const id = Number(callbackDataOf(message)[0]?.split(':')[1] ?? 0);
      if (id) seen.push(...(await store.answer(id))!.sources.map((s) => s.chunkId));
    }
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('stores 👍/👎 and shows the counts on the buttons', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, Q));
    const answer = api.sent(ALICE.id)[0]!;
    const up = callbackDataOf(answer).find((d) => d.endsWith(':up'))!;
    api.clear();
    await bot.handleUpdate(pressUpdate(ALICE, answer, up));
    expect(api.calls[0]).toMatchObject({ method: 'answerCallbackQuery', payload: { text: '谢谢！已记录 👍' } });
    const edit = api.ok('editMessageReplyMarkup')[0]!;
    expect(JSON.stringify(edit.payload.reply_markup)).toContain('👍 1');
    expect((await store.stats()).feedback).toMatchObject({ up: 1, down: 0 });
  });

  it('uses the conversation for follow-ups, and /new forgets it', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, Q));
    await bot.handleUpdate(textUpdate(ALICE, '那津南区呢？'));
    expect(telegramText(api.sent(ALICE.id)[1])).toMatch(/森林覆盖率达到18%/);
    await bot.handleUpdate(textUpdate(ALICE, '/new'));
    expect(telegramText(api.sent(ALICE.id)[2])).toMatch(/新话题/);
    expect(await store.history(ALICE.id, { limit: 5, maxAgeMs: 3600_000 })).toEqual([]);
  });

  it('refuses an over-long question with a clear message', async () => {
    await makeBot().handleUpdate(textUpdate(ALICE, '规划'.repeat(300)));
    expect(api.calls.map((c) => c.method)).toEqual(['sendMessage']);
    expect(telegramText(api.sent(ALICE.id)[0])).toBe('问题太长（600字）：请控制在500字以内，只问一个具体问题。');
  });

  it('limits each user to RATE_LIMIT_PER_MINUTE questions, telling them once', async () => {
    const bot = makeBot({ telegram: { rateLimitPerMinute: 3 } });
    for (let i = 0; i < 6; i++) await bot.handleUpdate(textUpdate(ALICE, Q));
    await bot.handleUpdate(textUpdate(BOB, Q));
    const texts = api.sent(ALICE.id).map(telegramText);
    expect(texts).toHaveLength(4);
    expect(texts[3]).toMatch(/^提问有点太快了：每分钟最多 3 个问题。请 \d+ 秒后再问。$/);
    expect(api.sent(BOB.id)).toHaveLength(1);
  });
});

describe('buttons are bound to their chat and rate limited', () => {
  it("a button forged in one chat with another chat's answer id reveals and changes nothing", async () => {
    const bot = makeBot();
    const secret = '津南区十四五期间要建设哪些医院？';
    await bot.handleUpdate(textUpdate(ALICE, secret));
    await bot.handleUpdate(textUpdate(BOB, Q));
    const alicesMessage = api.sent(ALICE.id)[0]!;
    const alices = callbackDataOf(alicesMessage);
    const bobsMessage = api.sent(BOB.id)[0]!;
    api.clear();
    // Bob sends Alice's button data from his own chat (any client can).
    for (const data of alices) await bot.handleUpdate(pressUpdate(BOB, bobsMessage, data));
    expect(api.calls.map((c) => c.method)).toEqual(alices.map(() => 'answerCallbackQuery'));
    expect(api.calls.map((c) => c.payload.text)).toEqual(alices.map(() => EXPIRED_BUTTON));
    expect(JSON.stringify(api.calls)).not.toContain('医院');
    const aliceAnswer = Number(alices[0]!.split(':')[1]);
    expect(await store.feedbackCounts(aliceAnswer)).toEqual({ up: 0, down: 0 });
    expect((await store.stats()).morePages).toBe(0);
    // Alice's own buttons still work for her.
    await bot.handleUpdate(pressUpdate(ALICE, alicesMessage, alices.find((d) => d.endsWith(':up'))!));
    expect(await store.feedbackCounts(aliceAnswer)).toEqual({ up: 1, down: 0 });
  });

  it('limits button presses per user: a flood gets toasts, not messages or rows', async () => {
    const bot = makeBot({ telegram: { rateLimitPerMinute: 2 } });
    await bot.handleUpdate(textUpdate(ALICE, '武清区如何发展现代农业？'));
    const answer = api.sent(ALICE.id)[0]!;
    const more = callbackDataOf(answer).find((d) => d.startsWith('m:'))!;
    api.clear();
    for (let i = 0; i < 20; i++) await bot.handleUpdate(pressUpdate(ALICE, answer, more));
    // 2 questions a minute → 6 presses a minute answered; the other 14 only get a toast.
    expect(api.ok('sendMessage')).toHaveLength(6);
    expect((await store.stats()).morePages).toBe(6);
    const toasts = api.calls.filter((c) => c.method === 'answerCallbackQuery' && /^点得有点快了，请 \d+ 秒后再试。$/.test(String(c.payload.text)));
    expect(toasts).toHaveLength(14);
  });
});

describe('commands', () => {
  it('/start tells what the bot knows and offers example questions that ask themselves', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '/start'));
    const welcome = api.sent(ALICE.id)[0]!;
    expect(telegramText(welcome)).toMatch(/收录范围：武清区、河北区、津南区 · 5 份文件 · 2016–2035 年\n• 武清区：五年规划（2021）、政府工作报告（2018）、计划报告（2023）\n• 河北区：五年规划（2022）/);
    const examples = callbackDataOf(welcome);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    api.clear();
    await bot.handleUpdate(pressUpdate(ALICE, welcome, examples[0]!));
    const answer = api.sent(ALICE.id)[0]!;
    expect(telegramText(answer)).toMatch(/^问：武清区2025年森林覆盖率目标是多少？\n\n森林覆盖率/);
  });

  it('/help, /docs, and help for an unknown command', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '/help'));
    await bot.handleUpdate(textUpdate(ALICE, '/docs'));
    await bot.handleUpdate(textUpdate(ALICE, '/frobnicate'));
    const [help, docs, unknown] = api.sent(ALICE.id).map(telegramText);
    expect(help).toMatch(/群里：@plan_qa_bot 问题/);
    expect(docs).toMatch(/收录的文件（5 份）[\s\S]*《武清区2018年政府工作报告》/);
    expect(unknown).toMatch(/^没有 \/frobnicate 这个命令。\n\n怎么提问/);
  });

  it('/targets sends the indicator chart; its text rows are a tap away and page in place', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '/targets 武清'));
    const photo = api.ok('sendPhoto')[0]!;
    expect(photo.payload.chat_id).toBe(ALICE.id);
    expect(photo.payload.photo).toMatchObject({ inputFile: expect.stringMatching(/^chart-[0-9a-f]{24}\.png$/) });
    expect(String(photo.payload.caption)).toMatch(/^<b>武清区 · “十四五”时期经济社会发展主要指标<\/b>\n2020年与2025年目标，共 16 项，按单位分 7 组；红色为约束性指标（5 项）。\n来源：《天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》 第二章 .* › 第三节 主要目标$/);
    expect(api.sent(ALICE.id)).toHaveLength(0);
    expect(callbackDataOf(photo)).toEqual(['t:0:武清区']);
    await bot.handleUpdate(pressUpdate(ALICE, photo, 't:0:武清区'));
    const page1 = api.sent(ALICE.id)[0]!;
    expect(telegramText(page1)).toMatch(/^主要指标 · 武清区（共 16 项，第 1\/2 页）/);
    expect(callbackDataOf(page1)).toContain('tc:武清区');
    const next = callbackDataOf(page1).find((d) => d.startsWith('t:1:'))!;
    await bot.handleUpdate(pressUpdate(ALICE, page1, next));
    const edit = api.ok('editMessageText')[0]!;
    expect(telegramText(edit)).toMatch(/第 2\/2 页[\s\S]*森林覆盖率（%）：2025年目标13%/);
    // The chart again: Telegram already has it, so it goes by file_id, not uploaded twice.
    await bot.handleUpdate(pressUpdate(ALICE, page1, 'tc:武清区'));
    expect(api.ok('sendPhoto')[1]!.payload.photo).toBe('photo' + String((photo.result as { message_id: number }).message_id));
    await bot.handleUpdate(textUpdate(ALICE, '/targets 河北区'));
    const none = api.sent(ALICE.id).at(-1);
    expect(telegramText(none)).toBe('河北区的文件里没有主要指标表，所以没有指标图。有指标表的：武清区（/targets 武清区）。也可以直接问，例如“河北区十四五有哪些目标？”');
    expect(callbackDataOf(none)).toEqual(['tc:武清区']);
    expect(api.ok('sendPhoto')).toHaveLength(2);
    await bot.handleUpdate(textUpdate(ALICE, '/targets 滨海'));
    expect(telegramText(api.sent(ALICE.id).at(-1))).toBe('没有“滨海”的文件。已收录：武清区、河北区、津南区。例如 /targets 武清区');
    await bot.handleUpdate(pressUpdate(ALICE, page1, 'tc:滨海新区'));
    expect(api.ok('answerCallbackQuery').at(-1)?.payload.text).toBe(EXPIRED_BUTTON);
  });

  it('/targets falls back to the text rows when the chart cannot be drawn (font missing)', async () => {
    const broken = new ChartRenderer({}, () => {
      throw new ChartError('chart-font: the package @expo-google-fonts/noto-sans-sc is not installed; run `npm install`');
    });
    const bot = makeBot({ deps: { charts: broken } });
    await bot.handleUpdate(textUpdate(ALICE, '/targets 武清区'));
    expect(api.ok('sendPhoto')).toHaveLength(0);
    expect(telegramText(api.sent(ALICE.id).at(-1))).toMatch(/^主要指标 · 武清区（共 16 项，第 1\/2 页）/);
  });

  it('offers 📊 对比图 under an answer comparing one figure per district, and draws the quoted figures', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '十三五期间河北区和津南区的PM2.5各降了多少？'));
    const answer = api.sent(ALICE.id).at(-1)!;
    const chart = callbackDataOf(answer).find((d) => d.startsWith('cc:'));
    expect(chart).toMatch(/^cc:\d+$/);
    expect(answer.payload.reply_markup).toMatchObject({ inline_keyboard: expect.arrayContaining([expect.arrayContaining([expect.objectContaining({ text: '📊 对比图' })])]) });
    await bot.handleUpdate(pressUpdate(ALICE, answer, chart!));
    const photo = api.ok('sendPhoto').at(-1)!;
    expect(String(photo.payload.caption)).toMatch(/^<b>对比：PM2\.5平均浓度较…下降（%）<\/b>\n河北区 37\.8% \[1\] · 津南区 近30% \[2\]\n\[1\] 《天津市河北区.*》 <i>第一节 发展基础<\/i>\n\[2\] 《天津市津南区.*》/);
    expect(photo.payload.reply_parameters).toMatchObject({ message_id: (answer.result as { message_id: number }).message_id });
    // Another chat pressing a forged button with this answer's id gets nothing drawn.
    const inBobsChat = { ...answer, result: { ...(answer.result as object), chat: { id: BOB.id, type: 'private', first_name: 'Bob' } } };
    await bot.handleUpdate(pressUpdate(BOB, inBobsChat, chart!));
    expect(api.ok('sendPhoto')).toHaveLength(1);
    expect(api.ok('answerCallbackQuery').at(-1)?.payload.text).toBe(EXPIRED_BUTTON);
    // A single-source answer has no chart button.
    await bot.handleUpdate(textUpdate(ALICE, Q));
    expect(callbackDataOf(api.sent(ALICE.id).at(-1)).some((d) => d.startsWith('cc:'))).toBe(false);
  });

  it('/stats and /reindex are for admins only', async () => {
    let reindexed = 0;
    const reindex = async () => {
      reindexed++;
      return { documents: 5, chunks: 644, embedded: 0, reused: 644, ms: 1200 };
    };
    const bot = makeBot({ telegram: { adminUserIds: [BOB.id] }, deps: { reindex } });
    await bot.handleUpdate(textUpdate(ALICE, '/stats'));
    await bot.handleUpdate(textUpdate(ALICE, '/reindex'));
    expect(api.sent(ALICE.id).map(telegramText)).toEqual(['这个命令只对管理员开放。', '这个命令只对管理员开放。']);
    await bot.handleUpdate(textUpdate(BOB, Q));
    await bot.handleUpdate(textUpdate(BOB, '/stats'));
    await bot.handleUpdate(textUpdate(BOB, '/reindex'));
    const texts = api.sent(BOB.id).map(telegramText);
    expect(texts[1]).toMatch(/使用统计[\s\S]*问题：共 1[\s\S]*延迟/);
    expect(texts.slice(2)).toEqual(['正在更新索引（只处理有变化的文件）……', '索引已更新：5 份文件，644 段（新嵌入 0 段，沿用 644 段），用时 1.2 秒。']);
    expect(reindexed).toBe(1);
  });
});

describe('groups', () => {
  const groupChat = { ...GROUP };

  it('answers only when mentioned, replied to, or asked with /ask — as a reply', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, Q, { chat: groupChat }));
    await bot.handleUpdate(mediaUpdate(ALICE, 'sticker', groupChat));
    await bot.handleUpdate(textUpdate(ALICE, '/unknown', { chat: groupChat }));
    expect(api.calls).toEqual([]);

    const mention = textUpdate(ALICE, `@plan_qa_bot ${Q}`, { chat: groupChat });
    await bot.handleUpdate(mention);
    const answer = api.sent(GROUP.id)[0]!;
    expect(telegramText(answer)).toMatch(/森林覆盖率/);
    expect(answer.payload.reply_parameters).toMatchObject({ message_id: mention.message!.message_id });

    await bot.handleUpdate(textUpdate(BOB, '那津南区呢？', { chat: groupChat, replyTo: botMessage(answer) }));
    expect(telegramText(api.sent(GROUP.id)[1])).toMatch(/18%/);
    await bot.handleUpdate(textUpdate(BOB, '/ask@plan_qa_bot 河北区十四五时期的发展目标是什么？', { chat: groupChat }));
    expect(telegramText(api.sent(GROUP.id)[2])).toMatch(/\[1\]/);
    await bot.handleUpdate(textUpdate(BOB, '/ask@other_bot 问题', { chat: groupChat }));
    await bot.handleUpdate(textUpdate(BOB, '@plan_qa_bot', { chat: groupChat }));
    expect(telegramText(api.sent(GROUP.id)[3])).toMatch(/^请在 @plan_qa_bot 后面写上问题/);
    expect(api.sent(GROUP.id)).toHaveLength(4);
  });
});

describe('other messages', () => {
  it('answers stickers, photos, voice and files with a short hint (a file: only admins add documents)', async () => {
    const bot = makeBot();
    for (const kind of ['sticker', 'photo', 'voice', 'document'] as const) await bot.handleUpdate(mediaUpdate(ALICE, kind));
    expect(api.sent(ALICE.id).map(telegramText)).toEqual([
      ...Array(3).fill('我只能读文字。请直接用文字提问，例如“武清区2025年森林覆盖率目标是多少？”'),
      '只有管理员可以给我添加文件。想了解规划内容，请直接用文字提问，例如“武清区2025年森林覆盖率目标是多少？”',
    ]);
  });

  it('ALLOWED_CHAT_IDS: others get a polite refusal and nothing else', async () => {
    const bot = makeBot({ telegram: { allowedChatIds: [BOB.id] } });
    await bot.handleUpdate(textUpdate(ALICE, Q));
    await bot.handleUpdate(textUpdate(ALICE, Q, { chat: GROUP }));
    await bot.handleUpdate(inlineUpdate(ALICE, '森林覆盖率'));
    expect(api.calls.map((c) => c.method)).toEqual(['sendMessage', 'answerInlineQuery']);
    expect(telegramText(api.sent(ALICE.id)[0])).toBe('抱歉，这个机器人只对授权的聊天开放。');
    expect(api.ok('answerInlineQuery')[0]?.payload.results).toEqual([]);
    await bot.handleUpdate(textUpdate(BOB, Q));
    expect(telegramText(api.sent(BOB.id)[0])).toMatch(/森林覆盖率/);
  });

  it('inline mode offers the cited answer and its passages as articles', async () => {
    await makeBot().handleUpdate(inlineUpdate(ALICE, '武清区森林覆盖率'));
    const call = api.ok('answerInlineQuery')[0]!;
    const results = call.payload.results as InlineQueryResultArticle[];
    expect(results[0]).toMatchObject({ type: 'article', id: 'answer' });
    expect(results.length).toBeGreaterThan(1);
    for (const r of results) {
      const content = r.input_message_content as { message_text: string; parse_mode: string };
      const text = parseHtml(content.message_text, { strictEntities: true }).text;
      expect(text.length).toBeLessThanOrEqual(4096);
    }
    expect(parseHtml((results[0]!.input_message_content as { message_text: string }).message_text, { strictEntities: true }).text).toMatch(/13%[\s\S]*来源[\s\S]*\[1\] /);
  });
});

/** An answerer that delegates to the real one, with hooks to misbehave. */
function scripted(base: Answering, answer: (q: string, call: { onPartial?: (t: string) => void }) => Promise<Answer | undefined>): Answering {
  return {
    index: base.index,
    validate: (q) => base.validate(q),
    retrieve: (q, k) => base.retrieve(q, k),
    answer: async (q, history, call = {}) => (await answer(q, call)) ?? base.answer(q, history, call),
  };
}

describe('failures', () => {
  it('apologises for a failing update, logs it with its update id, and keeps going', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const answerer = scripted(fixture.answerer, async (q) => {
      if (q.includes('炸')) throw new Error('retrieval exploded');
      return undefined;
    });
    const metrics = new BotMetrics();
    const bot = makeBot({ answerer, deps: { log, metrics } });
    const bad = textUpdate(ALICE, '炸一下');
    await bot.handleUpdate(bad);
    await bot.handleUpdate(textUpdate(ALICE, Q));
    const texts = api.sent(ALICE.id).map(telegramText);
    expect(texts[0]).toBe('抱歉，处理这条消息时出错了。请稍后再试，或换个说法。');
    expect(texts[1]).toMatch(/森林覆盖率/);
    const failure = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'update failed');
    expect(failure).toMatchObject({ update_id: bad.update_id, err: { message: 'retrieval exploded' } });
    expect(metrics.errors).toBe(1);
  });

  it('never writes the bot token to the log, even inside library errors', async () => {
    const token = '7001234567:AAHk-secretSECRETsecretSECRETsecret12';
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', secrets: [token], destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const answerer = scripted(fixture.answerer, async () => {
      throw new Error(`request to https://api.telegram.org/bot${token}/sendMessage failed, reason: ECONNRESET`);
    });
    await makeBot({ answerer, deps: { log } }).handleUpdate(textUpdate(ALICE, Q));
    const all = lines.join('');
    expect(all).toContain('/bot<secret>/sendMessage');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split(':')[1]);
  });

  it('400 message is too long: splits smaller and sends again, losing nothing', async () => {
    // 3,000 characters fit one message by Telegram's documented limit; this server says otherwise.
    const answerer = scripted(fixture.answerer, async (q) => ({ ...(await fixture.answerer.answer(q, [])), answer: `${'规划建设。'.repeat(600)}[1]` }));
    api.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is too long' });
    await makeBot({ answerer }).handleUpdate(textUpdate(ALICE, Q));
    const refused = api.calls.find((c) => c.method === 'sendMessage' && c.error)!;
    const sent = api.sent(ALICE.id);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(telegramText(refused).length).toBeGreaterThan(2048);
    // Split again at half Telegram's 4,096.
    for (const part of sent) expect(telegramText(part).length).toBeLessThanOrEqual(2048);
    expect(sent.map(telegramText).join('').match(/规划建设/g)).toHaveLength(600);
    expect(sent.slice(0, -1).every((p) => !p.payload.reply_markup)).toBe(true);
    expect(callbackDataOf(sent.at(-1)).length).toBe(4);
  });

  it("400 can't parse entities: sends the same answer as plain text, with its buttons", async () => {
    api.failNext('sendMessage', { error_code: 400, description: "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3" });
    await makeBot().handleUpdate(textUpdate(ALICE, Q));
    const [plain] = api.sent(ALICE.id);
    expect(plain?.payload.parse_mode).toBeUndefined();
    expect(String(plain?.payload.text)).toMatch(/森林覆盖率[\s\S]*来源\n\[1\] 《/);
    expect(callbackDataOf(plain)).toHaveLength(4);
  });

  it('403 (blocked): marks the chat, sends no apology', async () => {
    api.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    await makeBot().handleUpdate(textUpdate(ALICE, Q));
    expect(api.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
    expect(await store.isBlocked(ALICE.id)).toBe(true);
  });

  it('429: waits retry_after and delivers', async () => {
    api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    await makeBot().handleUpdate(textUpdate(ALICE, Q));
    const attempts = api.calls.filter((c) => c.method === 'sendMessage');
    expect(attempts.map((c) => c.error?.error_code ?? 'ok')).toEqual([429, 'ok']);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a failing typing action never blocks or fails the answer', async () => {
    api.failNext('sendChatAction', { error_code: 400, description: 'Bad Request: not enough rights to send chat actions' });
    await makeBot().handleUpdate(textUpdate(ALICE, Q));
    expect(telegramText(api.sent(ALICE.id)[0])).toMatch(/森林覆盖率/);
  });

  it('splits a very long answer under 4096 characters, buttons on the last part', async () => {
    const answerer = scripted(fixture.answerer, async (q) => {
      const real = await fixture.answerer.answer(q, []);
      return { ...real, answer: `${'<规划> & 建设。'.repeat(900)}[1]` };
    });
    await makeBot({ answerer }).handleUpdate(textUpdate(ALICE, Q));
    const parts = api.sent(ALICE.id);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) expect(telegramText(p).length).toBeLessThanOrEqual(4096);
    expect(parts.slice(0, -1).every((p) => !p.payload.reply_markup)).toBe(true);
    expect(callbackDataOf(parts.at(-1)).length).toBe(4);
  });
});

describe('streaming', () => {
  it('sends a first message, edits it at most about once a second, then the verified answer', async () => {
    const answerer = scripted(fixture.answerer, async (q, call) => {
      const words = '森林覆盖率到2025年要达到13%，比2020年的12.07%提高。'.split('');
      let text = '';
      for (const w of words) {
        text += w;
        call.onPartial?.(text);
        await new Promise((r) => setTimeout(r, 60));
      }
      return { ...(await fixture.answerer.answer(q, [])), mode: 'llm' };
    });
    await makeBot({ answerer, deps: { streamIntervalMs: { private: 1000, group: 3000 } } }).handleUpdate(textUpdate(ALICE, Q));
    const sends = api.sent(ALICE.id);
    const edits = api.ok('editMessageText');
    expect(sends).toHaveLength(1);
    expect(telegramText(sends[0])).toMatch(/^森 …$|^森林? …$/);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < edits.length - 1; i++) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(900);
    const final = edits.at(-1)!;
    expect(telegramText(final)).toMatch(/\[1\][\s\S]*来源/);
    expect(callbackDataOf(final)).toHaveLength(4);
    expect(final.payload.message_id).toBe((sends[0]!.result as { message_id: number }).message_id);
  });
});

describe('extension', () => {
  it('installs features handed in (e.g. the digest commands) before "unhandled"', async () => {
    const extra = (services: BotServices) => {
      const c = new Composer<BotContext>();
      c.command('subscribe', (ctx) => ctx.reply(`订阅：${ctx.match}（${services.telegram.rateLimitPerMinute}）`));
      return c;
    };
    await makeBot({ deps: { features: [extra] } }).handleUpdate(textUpdate(ALICE, '/subscribe 生态环境'));
    expect(api.sent(ALICE.id).map((c) => c.payload.text)).toEqual(['订阅：生态环境（10）']);
  });
});
