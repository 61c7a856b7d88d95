import type { Transformer } from 'grammy';
import type { ChatMember } from 'grammy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/create-bot.ts';
import { digestCommandsFeature, parseSubscribeArgs } from '../../src/bot/features/digest-commands.ts';
import { htmlToText } from '../../src/bot/html.ts';
import { silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { ALICE, BOB, BOT_INFO, GROUP, buildTestIndex, callbackDataOf, pressUpdate, telegramConfig, textUpdate, type TestIndex, type RecordedCall } from '../bot/fixtures.ts';
import { digestRig, type DigestRig } from './helpers.ts';

/** The digest commands through the real bot (createBot, the recording API): what users type, what they are told. */

let fixture: TestIndex;
let rig: DigestRig;
let admins: Set<number>;

beforeAll(async () => {
  fixture = await buildTestIndex();
});
afterAll(() => fixture.cleanup());
afterEach(async () => rig?.close());

/** getChatMember answers from `admins` (the recorder answers everything else). */
const members: Transformer = async (prev, method, payload, signal) => {
  if (method !== 'getChatMember') return prev(method, payload, signal);
  const userId = (payload as { user_id: number }).user_id;
  const user = { id: userId, is_bot: false, first_name: 'u' };
  const result: ChatMember = admins.has(userId)
    ? ({ status: 'administrator', user, can_be_edited: false, is_anonymous: false } as ChatMember)
    : { status: 'member', user };
  return { ok: true, result } as never;
};

async function bot(max = 5) {
  rig = await digestRig({ index: () => fixture.answerer.index, config: { maxSubscriptionsPerChat: max } });
  admins = new Set();
  return createBot('424242:TEST', {
    telegram: telegramConfig(),
    log: silentLogger(),
    store: new BotStore(rig.db),
    answerer: () => fixture.answerer,
    botInfo: BOT_INFO,
    transformers: [rig.api.transformer, members],
    throttle: false,
    now: rig.clock.now,
    features: [(services) => digestCommandsFeature(services, rig.service)],
  });
}

const texts = (chatId: number) => rig.api.sent(chatId).map((c) => htmlToText(String(c.payload.text)));
const last = (chatId: number) => texts(chatId).at(-1) ?? '';
const lastCall = (chatId: number): RecordedCall => rig.api.sent(chatId).at(-1)!;

describe('reading /subscribe', () => {
  it('takes topic words, a time and a district or document in any order', () => {
    const index = fixture.answerer.index;
    expect(parseSubscribeArgs('生态环境 07:30 津南区', index)).toMatchObject({ topic: '生态环境', time: '07:30', scope: { kind: 'district', value: '津南区' } });
    expect(parseSubscribeArgs('津南 7:05 养老 服务', index)).toMatchObject({ topic: '养老 服务', time: '07:05', scope: { value: '津南区' } });
    expect(parseSubscribeArgs('营商环境 政府工作报告', index)).toMatchObject({ topic: '营商环境', scope: { kind: 'document', value: 'wuqing-2018-government-work-report.txt' } });
    expect(parseSubscribeArgs('养老 25:00', index)).toMatchObject({ topic: '养老', badTime: '25:00' });
    expect(parseSubscribeArgs('养老 7点', index)).toMatchObject({ badTime: '7点' });
    expect(parseSubscribeArgs('养老 8', index)).toMatchObject({ badTime: '8' });
    expect(parseSubscribeArgs('2025年目标', index)).toMatchObject({ topic: '2025年目标' });
  });
});

describe('digest commands', () => {
  it('subscribes with a time and a district, and shows it in /subscriptions', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 生态环境 07:30 津南区'));
    expect(last(ALICE.id)).toMatch(/^✅ 已订阅 生态环境（津南区）\n每天 07:30（Asia\/Shanghai）推送，第一期：明天 07:30。\n相关段落 \d+ 段/);
    await b.handleUpdate(textUpdate(ALICE, '/subscriptions'));
    expect(last(ALICE.id)).toMatch(/本聊天的订阅（1\/5）\n1\. 生态环境 · 津南区\n +每天 07:30 · 下一期 明天 07:30/);
    expect(callbackDataOf(lastCall(ALICE.id))).toEqual([expect.stringMatching(/^ds:p:\d+$/), expect.stringMatching(/^ds:t:\d+$/), expect.stringMatching(/^ds:u:\d+$/)]);
  });

  it('explains malformed times, empty and too-long topics, duplicates and the cap', async () => {
    const b = await bot(2);
    await b.handleUpdate(textUpdate(ALICE, '/subscribe'));
    expect(last(ALICE.id)).toMatch(/^订阅每日摘要：\/subscribe 主题 \[HH:MM\] \[区名或文件\][\s\S]*文件里常见的主题：\S+、/);
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老 25:00'));
    expect(last(ALICE.id)).toBe('“25:00”不是有效的时间。时间格式不对：请用 24 小时制 HH:MM，例如 07:30。');
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老 7点半'));
    expect(last(ALICE.id)).toMatch(/^“7点半”不是有效的时间/);
    await b.handleUpdate(textUpdate(ALICE, `/subscribe ${'生态环境保护'.repeat(4)}`));
    expect(last(ALICE.id)).toBe('主题太长（24字）：请用 20 字以内的关键词，例如“生态环境”“养老”。');
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老'));
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老 09:00'));
    expect(last(ALICE.id)).toBe('已经订阅过“养老”了（每天 08:00）。要改时间或暂停，请用 /subscriptions。');
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 教育'));
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 交通'));
    expect(last(ALICE.id)).toBe('这个聊天已有 2 个订阅，最多 2 个。请先用 /unsubscribe 退订一个。');
    expect((await rig.service.list(ALICE.id)).map((s) => s.topic)).toEqual(['养老', '教育']);
  });

  it('refuses a topic the corpus does not have, suggesting topics it does', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 火星探测'));
    const text = last(ALICE.id);
    expect(text).toMatch(/^收录的文件里没有和“火星探测”相关的内容，无法订阅。\n这些主题有内容：/);
    const suggested = text.split('这些主题有内容：')[1]!.split('、');
    expect(suggested.length).toBeGreaterThanOrEqual(3);
    for (const topic of suggested) expect((await rig.builder.topics().pool(topic)).length).toBeGreaterThanOrEqual(3);
    expect(await rig.service.list(ALICE.id)).toEqual([]);
    // Within a scope, the suggestions are that scope's.
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 会展经济 武清区'));
    expect(last(ALICE.id)).toMatch(/没有和“会展经济”相关的内容/);
  });

  it('pauses, resumes, changes the time and unsubscribes with the buttons (editing the list in place)', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老'));
    await b.handleUpdate(textUpdate(ALICE, '/subscriptions'));
    const list = lastCall(ALICE.id);
    const [pause, time, unsubscribe] = callbackDataOf(list);
    await b.handleUpdate(pressUpdate(ALICE, list, pause!));
    expect(htmlToText(String(rig.api.ok('editMessageText').at(-1)?.payload.text))).toMatch(/每天 08:00 · ⏸ 已暂停/);
    expect(rig.api.ok('answerCallbackQuery').at(-1)?.payload.text).toBe('已暂停“养老”');
    const paused = rig.api.ok('editMessageText').at(-1)!;
    expect(callbackDataOf(paused)[0]).toMatch(/^ds:r:/);
    await b.handleUpdate(pressUpdate(ALICE, list, callbackDataOf(paused)[0]!));
    expect((await rig.service.list(ALICE.id))[0]?.status).toBe('active');

    await b.handleUpdate(pressUpdate(ALICE, list, time!));
    const picker = rig.api.ok('editMessageText').at(-1)!;
    expect(htmlToText(String(picker.payload.text))).toMatch(/^修改订阅 #\d+「养老」的推送时间（现在每天 08:00）/);
    await b.handleUpdate(pressUpdate(ALICE, list, callbackDataOf(picker).find((d) => d.endsWith(':0630'))!));
    expect((await rig.service.list(ALICE.id))[0]?.sendTime).toBe('06:30');
    // Or a reply to the picker with any time.
    await b.handleUpdate(textUpdate(ALICE, '21:15', { replyTo: picker.result as never }));
    expect(last(ALICE.id)).toMatch(/^“养老”改为每天 21:15。下一期：今天 21:15。/);
    await b.handleUpdate(textUpdate(ALICE, '9点', { replyTo: picker.result as never }));
    expect(last(ALICE.id)).toMatch(/^时间格式不对/);
    expect(rig.api.ok('sendChatAction')).toHaveLength(0); // never taken as a question

    await b.handleUpdate(pressUpdate(ALICE, list, unsubscribe!));
    expect(await rig.service.list(ALICE.id)).toEqual([]);
    expect(htmlToText(String(rig.api.ok('editMessageText').at(-1)?.payload.text))).toMatch(/^这个聊天还没有订阅/);
  });

  it('/unsubscribe n, all, and the mistakes', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老'));
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 教育'));
    await b.handleUpdate(textUpdate(ALICE, '/unsubscribe'));
    expect(last(ALICE.id)).toMatch(/^用法：\/unsubscribe 编号 或 \/unsubscribe all\n\n本聊天的订阅（2\/5）/);
    await b.handleUpdate(textUpdate(ALICE, '/unsubscribe 3'));
    expect(last(ALICE.id)).toBe('没有第 3 个订阅：请写 1–2 之间的编号，或 all。');
    await b.handleUpdate(textUpdate(ALICE, '/unsubscribe abc'));
    expect(last(ALICE.id)).toBe('没有第 abc 个订阅：请写 1–2 之间的编号，或 all。');
    await b.handleUpdate(textUpdate(ALICE, '/unsubscribe 1'));
    expect(last(ALICE.id)).toBe('已退订“养老”。');
    await b.handleUpdate(textUpdate(ALICE, '/unsubscribe all'));
    expect(last(ALICE.id)).toBe('已退订全部 1 个订阅。');
    expect(await rig.service.list(ALICE.id)).toEqual([]);
  });

  it('in a group only admins may subscribe, unsubscribe or use the buttons; anyone may list and preview', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(BOB, '/subscribe 养老', { chat: GROUP }));
    expect(last(GROUP.id)).toBe('在群里只有群管理员可以订阅、退订或修改订阅。');
    admins.add(ALICE.id);
    await b.handleUpdate(textUpdate(ALICE, '/subscribe 养老', { chat: GROUP }));
    expect(last(GROUP.id)).toMatch(/^✅ 已订阅 养老/);
    await b.handleUpdate(textUpdate(BOB, '/unsubscribe all', { chat: GROUP }));
    expect(last(GROUP.id)).toBe('在群里只有群管理员可以订阅、退订或修改订阅。');
    await b.handleUpdate(textUpdate(BOB, '/subscriptions', { chat: GROUP }));
    const list = lastCall(GROUP.id);
    await b.handleUpdate(pressUpdate(BOB, list, callbackDataOf(list)[0]!));
    expect(rig.api.ok('answerCallbackQuery').at(-1)?.payload.text).toBe('在群里只有群管理员可以订阅、退订或修改订阅。');
    expect((await rig.service.list(GROUP.id))[0]?.status).toBe('active');
    await b.handleUpdate(textUpdate(BOB, '/digest 养老', { chat: GROUP }));
    expect(last(GROUP.id)).toMatch(/^📰 每日摘要：养老\n预览/);
  });

  it('/digest previews a digest with buttons that open each passage', async () => {
    const b = await bot();
    await b.handleUpdate(textUpdate(ALICE, '/digest 乡村振兴'));
    const preview = lastCall(ALICE.id);
    expect(last(ALICE.id)).toMatch(/^📰 每日摘要：乡村振兴\n预览 · \d+月\d+日 周.\n\n1\. .+ \[1\]\n/);
    expect(last(ALICE.id)).toMatch(/这是预览，不计入每日推送。订阅：\/subscribe 乡村振兴$/);
    const buttons = callbackDataOf(preview);
    expect(buttons).toEqual([expect.stringMatching(/^dg:p:\d+:1$/), expect.stringMatching(/^dg:p:\d+:2$/), expect.stringMatching(/^dg:p:\d+:3$/)]);
    await b.handleUpdate(pressUpdate(ALICE, preview, buttons[1]!));
    const excerpt = lastCall(ALICE.id);
    expect(String(excerpt.payload.text)).toMatch(/^<b>\[2\] 《.+》<\/b>\n<i>.+<\/i>\n<blockquote expandable>[\s\S]*<b>[\s\S]+<\/b>/);
    expect((excerpt.payload.reply_parameters as { message_id: number }).message_id).toBe((preview.result as { message_id: number }).message_id);
    // Button data naming another chat's preview opens nothing.
    await b.handleUpdate(textUpdate(BOB, '/digest 养老'));
    const bobs = callbackDataOf(lastCall(BOB.id))[0]!;
    await b.handleUpdate(pressUpdate(ALICE, preview, bobs));
    expect(rig.api.ok('answerCallbackQuery').at(-1)?.payload.text).toMatch(/失效/);
    await b.handleUpdate(textUpdate(ALICE, '/digest 火星'));
    expect(last(ALICE.id)).toMatch(/^收录的文件里没有和“火星”相关的内容/);
    await b.handleUpdate(textUpdate(ALICE, '/digest'));
    expect(last(ALICE.id)).toBe('请写上想订阅的主题，例如 /digest 生态环境。');
  });
});
