import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { User } from 'grammy/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/create-bot.ts';
import { announceSettledUploads, parseFieldValue } from '../../src/bot/features/document-upload.ts';
import { DocumentLibrary, type StagedUpload } from '../../src/ingest/document-library.ts';
import { silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { JINGHAI_MARKDOWN } from '../helpers/format-fixtures.ts';
import { ALICE, BOB, BOT_INFO, buildTestIndex, callbackDataOf, pressUpdate, RecordingApi, telegramConfig, textUpdate, type TestIndex } from './fixtures.ts';

/**
 * The upload buttons carry an upload id: forged, stale or someone else's data must change
 * nothing. ALICE and BOB are admins, CAROL is not.
 */

const CAROL: User = { id: 1003, is_bot: false, first_name: 'Carol' };

let fixture: TestIndex;
let dir: string;
let db: Database;
let library: DocumentLibrary;
let upload: StagedUpload;
const api = new RecordingApi();

function makeBot() {
  return createBot('424242:TEST', {
    telegram: telegramConfig({ adminUserIds: [ALICE.id, BOB.id] }),
    log: silentLogger(),
    store: new BotStore(db),
    answerer: () => fixture.answerer,
    botInfo: BOT_INFO,
    transformers: [api.transformer],
    throttle: false,
    library,
    reindex: () => Promise.reject(new Error('reindex: not expected in this test')),
  });
}

beforeAll(async () => {
  fixture = await buildTestIndex();
  dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-guards-'));
  db = await openDatabase(databaseFile(dir));
  library = new DocumentLibrary(path.join(dir, 'corpus'), dir, fixture.config.index.chunking);
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
  await fixture?.cleanup();
});
beforeEach(async () => {
  api.clear();
  upload = await library.stage(Buffer.from(JINGHAI_MARKDOWN), 'jinghai.md', { chatId: ALICE.id, userId: ALICE.id });
});

const callbackAnswers = () => api.ok('answerCallbackQuery').map((c) => c.payload.text);

describe('upload buttons', () => {
  it("refuses another admin, a non-admin and forged ids; the upload is unchanged", async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '/docs'));
    const shown = api.ok('sendMessage')[0]!;
    await bot.handleUpdate(pressUpdate(BOB, shown, `up:${upload.id}:ok`));
    await bot.handleUpdate(pressUpdate(CAROL, shown, `up:${upload.id}:no`));
    await bot.handleUpdate(pressUpdate(ALICE, shown, 'up:../../etc:ok'));
    await bot.handleUpdate(pressUpdate(ALICE, shown, `up:${upload.id}:k:99`));
    await bot.handleUpdate(pressUpdate(ALICE, shown, `up:${upload.id}:e:evil`));
    await bot.handleUpdate(pressUpdate(CAROL, shown, 'rm:0123456789abcdef'));
    await bot.handleUpdate(pressUpdate(ALICE, shown, 'rm:0123456789abcdef'));
    expect(callbackAnswers()).toEqual([
      '这个文件已处理或已过期。',
      '这个文件已处理或已过期。',
      '这个文件已处理或已过期。',
      '这个按钮已失效。',
      '这个按钮已失效。',
      '这个命令只对管理员开放。',
      '这份文件已经不在了。',
    ]);
    expect(await library.get(upload.id)).toEqual(upload);
  });

  it('a field value is checked before it is taken; only the owner answers the prompt', async () => {
    const bot = makeBot();
    await bot.handleUpdate(textUpdate(ALICE, '/docs'));
    const shown = api.ok('sendMessage')[0]!;
    await bot.handleUpdate(pressUpdate(ALICE, shown, `up:${upload.id}:e:year`));
    await bot.handleUpdate(textUpdate(BOB, '1800'));
    expect((await library.get(upload.id))?.meta.year).toBe(upload.meta.year);
    await bot.handleUpdate(textUpdate(ALICE, '明年'));
    expect(String(api.sent(ALICE.id).at(-1)?.payload.text)).toMatch(/年份请写四位数字/);
    await bot.handleUpdate(textUpdate(ALICE, '2022年'));
    const after = await library.get(upload.id);
    expect(after?.meta.year).toBe(2022);
    expect(after?.editing).toBeUndefined();
    expect(String(api.sent(ALICE.id).at(-1)?.payload.text)).toMatch(/年份：2022/);
  });

  it('after a restart, tells the admin how an interrupted upload ended; a failure to tell is not fatal', async () => {
    const bot = makeBot();
    const done = { ...upload, state: 'done' as const };
    const pending = { ...upload, id: 'abcdefabcdef', state: 'pending' as const };
    api.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    await announceSettledUploads(bot.api, [done, done, pending], silentLogger());
    const sent = api.sent(ALICE.id);
    expect(sent.map((c) => String(c.payload.text))).toEqual([
      '重启前正在收录的《天津市静海区国民经济和社会发展第十四个五年规划纲要》已经收录完成，现在可以提问了。',
      '重启打断了《天津市静海区国民经济和社会发展第十四个五年规划纲要》的收录，文件没有收录。确认无误后请再按一次“确认收录”：',
    ]);
    expect(callbackDataOf(sent[1])).toContain('up:abcdefabcdef:ok');
  });

  it('parses field values strictly', () => {
    expect(parseFieldValue('year', '2024')).toEqual({ value: 2024 });
    expect(parseFieldValue('year', '24')).toHaveProperty('error');
    expect(parseFieldValue('district', '西青区')).toEqual({ value: '西青区' });
    expect(parseFieldValue('district', '西青')).toHaveProperty('error');
    expect(parseFieldValue('title', 'x'.repeat(201))).toHaveProperty('error');
  });
});
