import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bot } from 'grammy';
import type { InlineKeyboardMarkup, Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLongPolling, startWebhook, type BotRuntime } from '../../src/bot/bot-runtime.ts';
import type { Answering, BotContext } from '../../src/bot/context.ts';
import { createBot } from '../../src/bot/create-bot.ts';
import { silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { UpdateJournal } from '../../src/store/update-journal.ts';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { buildTestIndex, telegramConfig, type TestIndex } from './fixtures.ts';

/**
 * The bot as deployed: long polling (the runner) against a Bot API emulator on
 * 127.0.0.1 that enforces Telegram's rules (HTML, 4096 characters, callback data,
 * privacy mode in groups, 429s).
 */

const Q = '武清区2025年森林覆盖率目标是多少？';
const ALICE = { id: 3001, first_name: 'Alice' };
const BOB = { id: 3002, first_name: 'Bob' };
const CAROL = { id: 3003, first_name: 'Carol' };
const DAVE = { id: 3004, first_name: 'Dave' };
const GROUP = { id: -4001, type: 'group' as const, title: '规划讨论组' };
const PRIVACY_GROUP = { id: -4002, type: 'group' as const, title: '另一个群' };

let fixture: TestIndex;
let dbDir: string;
let db: Database;
let emulator: BotApiEmulator;
let bot: Bot<BotContext>;
let runtime: BotRuntime;
let slowStarted: (() => void) | undefined;

/** The real answerer, plus two test hooks: "长答案…" gives a 10,000-character answer, "慢…" takes half a second. */
function testAnswerer(base: Answering): Answering {
  return {
    index: base.index,
    validate: (q) => base.validate(q),
    retrieve: (q, k) => base.retrieve(q, k),
    answer: async (q, history, call) => {
      const real = await base.answer(q.replace(/^(长答案|慢)/, ''), history, call);
      if (q.startsWith('长答案')) return { ...real, answer: `${'规划<目标> & 任务；'.repeat(1000)}[1]` };
      if (q.startsWith('慢')) {
        slowStarted?.();
        await new Promise((r) => setTimeout(r, 500));
      }
      return real;
    },
  };
}

beforeAll(async () => {
  fixture = await buildTestIndex();
  dbDir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-e2e-'));
  db = await openDatabase(databaseFile(dbDir));
  emulator = await BotApiEmulator.start();
  const answerer = testAnswerer(fixture.answerer);
  bot = createBot(emulator.token, {
    telegram: telegramConfig({ apiRoot: emulator.apiRoot, rateLimitPerMinute: 5 }),
    log: silentLogger(),
    store: new BotStore(db),
    answerer: () => answerer,
  });
  runtime = await startLongPolling(bot, silentLogger(), { timeoutSeconds: 2 });
});

afterAll(async () => {
  await runtime?.stop();
  await emulator?.close();
  await db?.close();
  await rm(dbDir, { recursive: true, force: true });
  await fixture?.cleanup();
});

const buttonsOf = (m: { reply_markup?: InlineKeyboardMarkup } | undefined) =>
  (m?.reply_markup?.inline_keyboard ?? []).flat().flatMap((b) => ('callback_data' in b ? [b.callback_data] : []));

describe('long polling against the Bot API emulator', () => {
  it('answers a question with cited claims, after showing typing', async () => {
    emulator.sendMessage(ALICE.id, ALICE, Q);
    const [answer] = await emulator.waitForMessages(ALICE.id, 1);
    expect(answer?.text).toMatch(/森林覆盖率（%）：2025年目标13%.*\[1\]\n\n来源\n\[1\] 《天津市武清区/);
    expect(answer?.entities.map((e) => e.type)).toContain('bold');
    expect(buttonsOf(answer)).toHaveLength(4);
    expect(emulator.calls('sendChatAction')[0]?.params).toMatchObject({ chat_id: ALICE.id, action: 'typing' });
  });

  it('opens a source from its button', async () => {
    const [answer] = await emulator.waitForMessages(ALICE.id, 1);
    emulator.pressButton(ALICE.id, ALICE, answer!.message_id, buttonsOf(answer)[0]!);
    const messages = await emulator.waitForMessages(ALICE.id, 2);
    const excerpt = messages[1]!;
    expect(excerpt.text).toMatch(/^\[1\] 《天津市武清区.*》\n武清区 · 第二章[\s\S]*森林覆盖率/);
    expect(excerpt.entities.map((e) => e.type)).toContain('expandable_blockquote');
    expect(excerpt.reply_to_message_id).toBe(answer!.message_id);
    expect(emulator.calls('answerCallbackQuery').at(-1)?.error).toBeUndefined();
  });

  it('in a group, answers a mention (as a reply) and ignores other talk', async () => {
    emulator.setAdmins(GROUP.id, [BOB.id, emulator.botInfo.id]); // an admin bot sees every message
    emulator.sendMessage(GROUP, BOB, '今天开会讨论规划');
    emulator.sendMessage(GROUP, BOB, Q);
    const mention = emulator.sendMessage(GROUP, BOB, `@plan_qa_bot ${Q}`);
    const [answer] = await emulator.waitForMessages(GROUP.id, 1);
    expect(answer?.reply_to_message_id).toBe(mention.message?.message_id);
    expect(answer?.text).toMatch(/13%/);
    expect(emulator.hidden).toEqual([]);
    // Nothing else came: a later /ask is the second message.
    emulator.sendMessage(GROUP, BOB, '/ask 河北区十四五时期的发展目标是什么？');
    const messages = await emulator.waitForMessages(GROUP.id, 2);
    expect(messages).toHaveLength(2);
    expect(messages[1]?.text).toMatch(/\[1\]/);
  });

  it('in privacy mode, still gets /ask@bot and replies to its messages', async () => {
    emulator.sendMessage(PRIVACY_GROUP, BOB, '/ask@plan_qa_bot 津南区十四五期间要建设哪些医院？');
    const [first] = await emulator.waitForMessages(PRIVACY_GROUP.id, 1);
    expect(first?.text).toMatch(/医院/);
    emulator.sendMessage(PRIVACY_GROUP, BOB, '谁去买咖啡');
    expect(emulator.hidden.map((u) => u.message?.text)).toContain('谁去买咖啡');
    emulator.sendMessage(PRIVACY_GROUP, BOB, '那武清区呢？', { reply_to_message_id: first!.message_id });
    const messages = await emulator.waitForMessages(PRIVACY_GROUP.id, 2);
    expect(messages[1]?.reply_to_message_id).toBeDefined();
  });

  it('handles oversized input and output: a clear refusal, and an answer split under 4096', async () => {
    emulator.sendMessage(DAVE.id, DAVE, '规'.repeat(4000));
    const [refusal] = await emulator.waitForMessages(DAVE.id, 1);
    expect(refusal?.text).toBe('问题太长（4000字）：请控制在500字以内，只问一个具体问题。');
    emulator.sendMessage(DAVE.id, DAVE, `长答案${Q}`);
    const messages = await emulator.waitFor(() => emulator.messagesIn(DAVE.id).some((m) => buttonsOf(m).length > 0), 10_000).then(() => emulator.messagesIn(DAVE.id));
    const parts = messages.slice(1);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(4096);
    expect(emulator.calls('sendMessage').filter((c) => c.error)).toEqual([]);
    expect(buttonsOf(parts.at(-1))).toHaveLength(4);
  });

  it('/targets 武清区 sends a photo of the indicator chart with its source in the caption', async () => {
    const GRACE = { id: 3007, first_name: 'Grace' };
    emulator.sendMessage(GRACE.id, GRACE, '/targets 武清区');
    const [photo] = await emulator.waitForMessages(GRACE.id, 1, 15_000);
    expect(photo?.photo).toBeDefined();
    // The emulator read the PNG's own header: 720 SVG pixels at zoom 1.5.
    expect(photo!.photo!.width).toBe(1080);
    expect(photo!.photo!.height).toBeGreaterThan(1000);
    expect(photo!.photo!.file_size).toBeLessThan(1024 * 1024);
    expect(photo!.text).toBe(
      '武清区 · “十四五”时期经济社会发展主要指标\n2020年与2025年目标，共 16 项，按单位分 7 组；红色为约束性指标（5 项）。\n来源：《天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》 第二章 “十四五”时期武清经济社会发展指导思想和主要目标 › 第三节 主要目标',
    );
    expect(photo!.entities.map((e) => e.type)).toEqual(['bold']);
    expect(emulator.calls('sendChatAction').some((c) => c.params.chat_id === GRACE.id && c.params.action === 'upload_photo')).toBe(true);
    // The text rows are one tap away, as a new message under the photo.
    emulator.pressButton(GRACE.id, GRACE, photo!.message_id, buttonsOf(photo)[0]!);
    const [, rows] = await emulator.waitForMessages(GRACE.id, 2);
    expect(rows?.text).toMatch(/^主要指标 · 武清区（共 16 项，第 1\/2 页）\n\n武清区 · 十四五”时期经济社会发展主要指标/);
    // A district without an indicator table: a message, not an empty chart.
    emulator.sendMessage(GRACE.id, GRACE, '/targets 津南区');
    const [, , none] = await emulator.waitForMessages(GRACE.id, 3);
    expect(none?.photo).toBeUndefined();
    expect(none?.text).toMatch(/^津南区的文件里没有主要指标表，所以没有指标图。/);
    expect(emulator.calls('sendPhoto').filter((c) => c.error)).toEqual([]);
  });

  it('answers a sticker with a hint', async () => {
    emulator.sendSticker(BOB.id, BOB);
    const [hint] = await emulator.waitForMessages(BOB.id, 1);
    expect(hint?.text).toMatch(/^我只能读文字/);
  });

  it('survives a flood from one user: the limit is answered, the rest told once', async () => {
    for (let i = 0; i < 15; i++) emulator.sendMessage(CAROL.id, CAROL, Q);
    await emulator.waitForMessages(CAROL.id, 6, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const messages = emulator.messagesIn(CAROL.id);
    expect(messages).toHaveLength(6);
    expect(messages.filter((m) => buttonsOf(m).length > 0)).toHaveLength(5);
    expect(messages[5]?.text).toMatch(/^提问有点太快了：每分钟最多 5 个问题/);
  });

  it('waits out a 429 from the server and delivers', async () => {
    const user = { id: 3005, first_name: 'Erin' };
    emulator.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    const before = emulator.calls('sendMessage').length;
    emulator.sendMessage(user.id, user, Q);
    const [answer] = await emulator.waitForMessages(user.id, 1);
    expect(answer?.text).toMatch(/13%/);
    const attempts = emulator.calls('sendMessage').slice(before);
    expect(attempts.map((c) => c.error?.error_code ?? 'ok')).toEqual([429, 'ok']);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('answers inline queries', async () => {
    emulator.inlineQuery(ALICE, '森林覆盖率');
    const call = await emulator.waitFor((c) => c.method === 'answerInlineQuery');
    expect(call.error).toBeUndefined();
    expect((call.params.results as unknown[]).length).toBeGreaterThan(1);
  });

  it('stops gracefully: no new updates, the answer in flight is finished first', async () => {
    const user = { id: 3006, first_name: 'Frank' };
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    emulator.sendMessage(user.id, user, `慢${Q}`);
    await started;
    await runtime.stop();
    expect(emulator.messagesIn(user.id)).toHaveLength(1);
    emulator.sendMessage(user.id, user, Q);
    await new Promise((r) => setTimeout(r, 300));
    expect(emulator.messagesIn(user.id)).toHaveLength(1);
  });
});

describe('webhook mode', () => {
  const SECRET = 'sekret_123';
  const hookUrl = (port: number) => `http://127.0.0.1:${port}/tg/hook`;
  const post = (port: number, body: string, headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET }) =>
    fetch(hookUrl(port), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('refuses wrong requests; a redelivery while the first delivery is handled is answered once', async () => {
    const hookEmulator = await BotApiEmulator.start();
    const hookDb = await openDatabase(':memory:');
    const journal = new UpdateJournal(hookDb);
    const hookBot = createBot(hookEmulator.token, { telegram: telegramConfig({ apiRoot: hookEmulator.apiRoot }), log: silentLogger(), store: new BotStore(hookDb), answerer: () => fixture.answerer, journal });
    const hook = await startWebhook(hookBot, { url: 'https://bot.example.com/tg/hook', secret: SECRET, port: 0, host: '127.0.0.1', maxBodyBytes: 20_000, journal }, silentLogger());
    hookEmulator.webhook.stop(); // the test delivers, as Telegram would
    try {
      expect(hookEmulator.calls('setWebhook')[0]?.params).toMatchObject({ url: 'https://bot.example.com/tg/hook', secret_token: SECRET, max_connections: 100 });
      // The emulator queues the user's message (webhook set: nobody polls); we deliver it as Telegram would.
      const update: Update = hookEmulator.sendMessage(ALICE.id, ALICE, Q);
      const body = JSON.stringify(update);
      expect((await post(hook.port, body, {})).status).toBe(401);
      expect((await post(hook.port, body, { 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${hook.port}/other`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(hookUrl(hook.port))).status).toBe(404);
      expect((await post(hook.port, '{"no":1}')).status).toBe(400);
      expect((await post(hook.port, 'not json')).status).toBe(400);
      expect((await post(hook.port, JSON.stringify({ ...update, pad: 'x'.repeat(30_000) }))).status).toBe(413);
      expect(hookEmulator.messagesIn(ALICE.id)).toHaveLength(0);
      // Telegram redelivers (say to another instance) while the first delivery is still being handled.
      const [first, again] = await Promise.all([post(hook.port, body), post(hook.port, body)]);
      expect([first.status, again.status]).toEqual([200, 200]);
      // Acknowledged only once handled: the answer is out by then.
      expect(hookEmulator.messagesIn(ALICE.id)[0]?.text).toMatch(/13%/);
      expect((await post(hook.port, body)).status).toBe(200); // a later redelivery
      await new Promise((r) => setTimeout(r, 200));
      expect(hookEmulator.messagesIn(ALICE.id)).toHaveLength(1);
      expect(await journal.count()).toBe(0);

      // The database cannot record an update: it is neither handled nor acknowledged (500: Telegram tries again).
      const next = hookEmulator.sendMessage(BOB.id, BOB, Q);
      const accept = journal.accept.bind(journal);
      journal.accept = () => Promise.reject(new Error('store: PostgreSQL unreachable'));
      expect((await post(hook.port, JSON.stringify(next))).status).toBe(500);
      expect(hookEmulator.messagesIn(BOB.id)).toHaveLength(0);
      journal.accept = accept;
      expect((await post(hook.port, JSON.stringify(next))).status).toBe(200);
      expect(hookEmulator.messagesIn(BOB.id)).toHaveLength(1);
    } finally {
      await hook.stop();
      await hookEmulator.close();
      await hookDb.close();
    }
  });

  it('acknowledges an update once handled, or once recorded when handling outlasts ackTimeoutMs; those left from the last run are handled first', async () => {
    const hookEmulator = await BotApiEmulator.start();
    const hookDb = await openDatabase(':memory:');
    const journal = new UpdateJournal(hookDb);
    // An update the last run took but never finished.
    const left = hookEmulator.sendMessage(ALICE.id, ALICE, Q);
    await journal.accept(left.update_id, JSON.stringify(left));
    await journal.begin(left.update_id, JSON.stringify(left));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: Answering = { index: fixture.answerer.index, validate: (q) => fixture.answerer.validate(q), retrieve: (q, k) => fixture.answerer.retrieve(q, k), answer: async (q, h, c) => (q === Q ? fixture.answerer.answer(q, h, c) : gate.then(() => fixture.answerer.answer(q, h, c))) };
    const hookBot = createBot(hookEmulator.token, { telegram: telegramConfig({ apiRoot: hookEmulator.apiRoot }), log: silentLogger(), store: new BotStore(hookDb), answerer: () => gated, journal });
    const hook = await startWebhook(hookBot, { url: 'https://bot.example.com/tg/hook', secret: SECRET, port: 0, host: '127.0.0.1', journal, ackTimeoutMs: 1_000 }, silentLogger());
    hookEmulator.webhook.stop(); // the test delivers, as Telegram would
    try {
      const [replayed] = await hookEmulator.waitForMessages(ALICE.id, 1);
      expect(replayed?.text).toMatch(/13%/);
      await vi.waitFor(async () => expect(await journal.count()).toBe(0));
      const update = hookEmulator.sendMessage(ALICE.id, ALICE, '津南区十四五期间要建设哪些医院？');
      let status = 0;
      const delivery = post(hook.port, JSON.stringify(update)).then((res) => (status = res.status));
      await new Promise((r) => setTimeout(r, 400));
      // Being handled: not yet acknowledged, and recorded (a crash now would replay it).
      expect(status).toBe(0);
      expect(await journal.count()).toBe(1);
      await delivery;
      // Past ackTimeoutMs: acknowledged while still recorded and unanswered.
      expect(status).toBe(200);
      expect(await journal.count()).toBe(1);
      expect(hookEmulator.messagesIn(ALICE.id)).toHaveLength(1);
      release();
      await hookEmulator.waitForMessages(ALICE.id, 2);
      await vi.waitFor(async () => expect(await journal.count()).toBe(0));
    } finally {
      await hook.stop();
      await hookEmulator.close();
      await hookDb.close();
    }
  });

  it('stops gracefully: new deliveries refused (Telegram retries them elsewhere), the one in hand finished and acknowledged', async () => {
    const hookEmulator = await BotApiEmulator.start();
    const hookDb = await openDatabase(':memory:');
    const journal = new UpdateJournal(hookDb);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: Answering = { index: fixture.answerer.index, validate: (q) => fixture.answerer.validate(q), retrieve: (q, k) => fixture.answerer.retrieve(q, k), answer: (q, h, c) => gate.then(() => fixture.answerer.answer(q, h, c)) };
    const hookBot = createBot(hookEmulator.token, { telegram: telegramConfig({ apiRoot: hookEmulator.apiRoot }), log: silentLogger(), store: new BotStore(hookDb), answerer: () => gated, journal });
    const hook = await startWebhook(hookBot, { url: 'https://bot.example.com/tg/hook', secret: SECRET, port: 0, host: '127.0.0.1', journal }, silentLogger());
    hookEmulator.webhook.stop(); // the test delivers, as Telegram would
    try {
      const inHand = post(hook.port, JSON.stringify(hookEmulator.sendMessage(ALICE.id, ALICE, Q)));
      await vi.waitFor(async () => expect(await journal.count()).toBe(1));
      const stopped = hook.stop(10_000);
      const refused = await post(hook.port, JSON.stringify(hookEmulator.sendMessage(BOB.id, BOB, Q))).then((r) => r.status, () => 'connection refused');
      expect([503, 'connection refused']).toContain(refused);
      release();
      expect((await inHand).status).toBe(200);
      expect(await stopped).toEqual({ unfinished: 0 });
      expect(hookEmulator.messagesIn(ALICE.id)).toHaveLength(1);
      expect(hookEmulator.messagesIn(BOB.id)).toHaveLength(0);
    } finally {
      await hookEmulator.close();
      await hookDb.close();
    }
  });
});
