import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bot } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLongPolling, type BotRuntime } from '../../src/bot/bot-runtime.ts';
import type { BotContext } from '../../src/bot/context.ts';
import { createBot } from '../../src/bot/create-bot.ts';
import { createDigestSender } from '../../src/bot/digest-format.ts';
import { digestCommandsFeature } from '../../src/bot/features/digest-commands.ts';
import { DigestBuilder } from '../../src/digest/digest-builder.ts';
import { DigestService } from '../../src/digest/digest-service.ts';
import { DigestScheduler } from '../../src/digest/scheduler.ts';
import { silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { DigestStore } from '../../src/store/digest-store.ts';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { buildTestIndex, telegramConfig, type TestIndex } from '../bot/fixtures.ts';
import { FakeClock, digestConfig } from './helpers.ts';

/**
 * The digest as deployed: users subscribe by talking to the bot, which long-polls a Bot
 * API emulator on 127.0.0.1 that enforces Telegram's rules and flood limits; the
 * scheduler sends through the same bot's API (throttle, auto-retry). Only the digest's
 * clock is fake: a week passes in a few seconds.
 */

const ALICE = { id: 6001, first_name: 'Alice' };
const BOB = { id: 6002, first_name: 'Bob' };
const CAROL = { id: 6003, first_name: 'Carol' };
const DAVE = { id: 6004, first_name: 'Dave' };
const GROUP = { id: -6100, type: 'group' as const, title: '规划关注群' };

let fixture: TestIndex;
let dir: string;
let db: Database;
let emulator: BotApiEmulator;
let bot: Bot<BotContext>;
let runtime: BotRuntime;
let store: DigestStore;
let scheduler: DigestScheduler;
const clock = new FakeClock(Date.parse('2026-01-05T04:00:00Z')); // Monday 12:00 in Shanghai

beforeAll(async () => {
  fixture = await buildTestIndex();
  dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-digest-e2e-'));
  db = await openDatabase(databaseFile(dir));
  emulator = await BotApiEmulator.start({ globalRatePerSecond: 30, perChatPerMinute: 20 });
  store = new DigestStore(db, { now: clock.now });
  const builder = new DigestBuilder({ index: () => fixture.answerer.index, store });
  const service = new DigestService({ store, builder, config: digestConfig(), now: clock.now });
  bot = createBot(emulator.token, {
    telegram: telegramConfig({ apiRoot: emulator.apiRoot }),
    log: silentLogger(),
    store: new BotStore(db),
    answerer: () => fixture.answerer,
    now: clock.now,
    features: [(services) => digestCommandsFeature(services, service)],
  });
  runtime = await startLongPolling(bot, silentLogger(), { timeoutSeconds: 1 });
  scheduler = new DigestScheduler({ store, builder, send: createDigestSender(bot.api), clock, log: silentLogger() });
});

afterAll(async () => {
  await scheduler?.stop();
  await runtime?.stop();
  await emulator?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
  await fixture?.cleanup();
});

const buttonsOf = (m: { reply_markup?: InlineKeyboardMarkup } | undefined) => (m?.reply_markup?.inline_keyboard ?? []).flat().flatMap((b) => ('callback_data' in b ? [b.callback_data] : []));
const digestsIn = (chatId: number) => emulator.messagesIn(chatId).filter((m) => m.text.startsWith('📰'));

/** Sets the digest's clock to `iso` and runs a pass. */
async function at(iso: string) {
  clock.set(iso);
  return scheduler.tick();
}

describe('daily digests end to end', () => {
  it('subscribes through the bot and receives one digest a day, no passage twice', async () => {
    emulator.sendMessage(ALICE.id, ALICE, '/subscribe 生态环境 07:30');
    const [confirmation] = await emulator.waitForMessages(ALICE.id, 1);
    expect(confirmation?.text).toMatch(/^✅ 已订阅 生态环境\n每天 07:30（Asia\/Shanghai）推送，第一期：明天 07:30。/);

    // A group: only its admin may subscribe.
    emulator.setAdmins(GROUP.id, [BOB.id]);
    emulator.registerChat(GROUP, CAROL);
    emulator.sendMessage(GROUP, CAROL, '/subscribe 养老');
    const [refusal] = await emulator.waitForMessages(GROUP.id, 1);
    expect(refusal?.text).toBe('在群里只有群管理员可以订阅、退订或修改订阅。');
    emulator.sendMessage(GROUP, BOB, '/subscribe 养老 08:00');
    const group = await emulator.waitForMessages(GROUP.id, 2);
    expect(group[1]?.text).toMatch(/^✅ 已订阅 养老/);

    for (let day = 0; day < 5; day++) {
      const date = new Date(Date.parse('2026-01-05T23:31:00Z') + day * 86_400_000); // 07:31 in Shanghai, 6th to 10th
      await at(date.toISOString());
      await at(new Date(date.getTime() + 30 * 60_000).toISOString()); // 08:01
      expect(digestsIn(ALICE.id)).toHaveLength(day + 1);
      expect(digestsIn(GROUP.id)).toHaveLength(day + 1);
    }
    const alice = digestsIn(ALICE.id);
    expect(alice.map((m) => m.text.split('\n')[1])).toEqual(['1月6日 周二', '1月7日 周三', '1月8日 周四', '1月9日 周五', '1月10日 周六']);
    // The cited excerpts (the blockquotes) of five days: fifteen different passages.
    const quotes = alice.flatMap((m) => m.entities.filter((e) => e.type === 'blockquote').map((e) => m.text.slice(e.offset, e.offset + e.length)));
    expect(quotes).toHaveLength(15);
    expect(new Set(quotes).size).toBe(15);
    for (const m of alice) {
      expect(m.text.length).toBeLessThanOrEqual(4096);
      expect(m.text).toMatch(/\[1\] 《[^》]+》/);
      expect(buttonsOf(m)).toEqual([expect.stringMatching(/^dg:d:\d+:1$/), expect.stringMatching(/^dg:d:\d+:2$/), expect.stringMatching(/^dg:d:\d+:3$/)]);
    }
    // A second pass the same day sends nothing more.
    expect(await at('2026-01-10T00:20:00Z')).toMatchObject({ chosen: 0, sent: 0 });
    expect(emulator.calls('sendMessage').filter((c) => c.error && c.error.error_code !== 429)).toEqual([]);
  });

  it('opens an item from its button, and a paused subscription stops arriving', async () => {
    const third = digestsIn(ALICE.id)[2]!;
    emulator.pressButton(ALICE.id, ALICE, third.message_id, buttonsOf(third)[0]!);
    const excerpt = await emulator.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === ALICE.id && String(c.params.text).includes('<blockquote expandable>'));
    expect(excerpt.error).toBeUndefined();
    const shown = emulator.messagesIn(ALICE.id).at(-1)!;
    expect(shown.reply_to_message_id).toBe(third.message_id);
    expect(shown.entities.map((e) => e.type)).toContain('expandable_blockquote');

    emulator.sendMessage(ALICE.id, ALICE, '/subscriptions');
    const list = await emulator.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === ALICE.id && String(c.params.text).startsWith('<b>本聊天的订阅'));
    const listMessage = list.result as { message_id: number };
    emulator.pressButton(ALICE.id, ALICE, listMessage.message_id, buttonsOf(emulator.messagesIn(ALICE.id).at(-1))[0]!);
    await emulator.waitFor((c) => c.method === 'editMessageText' && String(c.params.text).includes('已暂停'));
    await at('2026-01-10T23:31:00Z');
    await at('2026-01-11T00:01:00Z');
    expect(digestsIn(ALICE.id)).toHaveLength(5);
    expect(digestsIn(GROUP.id)).toHaveLength(6);
  });

  it('stops the subscriptions of a chat that blocked the bot (403)', async () => {
    emulator.sendMessage(DAVE.id, DAVE, '/subscribe 教育 09:00');
    await emulator.waitForMessages(DAVE.id, 1);
    emulator.blockedChats.add(DAVE.id);
    const report = await at('2026-01-12T01:01:00Z');
    expect(report).toMatchObject({ stoppedChats: 1 });
    expect((await store.subscriptions(DAVE.id))[0]).toMatchObject({ status: 'stopped' });
    expect(await at('2026-01-13T01:01:00Z')).toMatchObject({ stoppedChats: 0 });
    expect(emulator.calls('sendMessage').filter((c) => c.params.chat_id === DAVE.id && c.error?.error_code === 403)).toHaveLength(1);
  });

  it('leads with a chart of the indicator figures its items carry, uploaded once for all subscribers', async () => {
    const ERIN = { id: 6005, first_name: 'Erin' };
    const FRANK = { id: 6006, first_name: 'Frank' };
    for (const user of [ERIN, FRANK]) {
      emulator.sendMessage(user.id, user, '/subscribe 主要指标 10:00');
      await emulator.waitForMessages(user.id, 1);
    }
    await at('2026-01-13T02:01:00Z');
    const photos = emulator.calls('sendPhoto').filter((c) => !c.error);
    expect(photos).toHaveLength(2);
    expect(typeof photos[0]!.params.photo).toBe('object'); // uploaded
    expect(typeof photos[1]!.params.photo).toBe('string'); // the same chart by its file_id
    for (const user of [ERIN, FRANK]) {
      const [, chart, digest] = emulator.messagesIn(user.id);
      expect(chart?.photo?.width).toBe(1080);
      expect(chart?.text).toBe('📊 今日指标 · 主要指标');
      expect(digest?.text).toMatch(/^📰 每日摘要：主要指标/);
      expect(buttonsOf(digest)).toHaveLength(3);
    }
    const [delivery] = await store.deliveries((await store.subscriptions(ERIN.id))[0]!.id);
    expect(delivery).toMatchObject({ partsSent: 2 });
  });

  it('a delivery resumed after its chart was accepted does not send the chart again', async () => {
    const sent: string[] = [];
    const sub = (await store.subscriptions(6005))[0]!;
    const [row] = await store.deliveries(sub.id);
    const send = createDigestSender(bot.api);
    await send({ chatId: 6005, deliveryId: row!.id, content: row!.content, partsSent: 1 }, async (part) => void sent.push(`part ${part}`));
    expect(sent).toEqual(['part 1']);
    expect(emulator.calls('sendPhoto').filter((c) => c.params.chat_id === 6005)).toHaveLength(1);
  });
});
