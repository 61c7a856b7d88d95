import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import { encodePng } from '../../src/chart/png-encode.ts';
import { BotApiEmulator, type EmulatorOptions } from './bot-api-emulator.ts';

const ALICE = { id: 1001, first_name: 'Alice', username: 'alice' };
const BOB = { id: 1002, first_name: 'Bob' };
const GROUP = -2001;

let emulator: BotApiEmulator;
let bot: Bot | undefined;
let running: Promise<void> | undefined;

async function setup(options: EmulatorOptions = {}): Promise<Bot> {
  emulator = await BotApiEmulator.start(options);
  bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
  return bot;
}

/** Starts long polling and resolves once the first getUpdates is being held. */
async function startPolling(b: Bot, timeout = 30): Promise<void> {
  const firstPoll = emulator.waitFor((c) => c.method === 'getUpdates');
  running = b.start({ timeout });
  await firstPoll;
}

async function apiError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

afterEach(async () => {
  if (bot?.isRunning()) await bot.stop();
  await running;
  await emulator.close();
  bot = undefined;
  running = undefined;
});

describe('long polling with the real grammY Bot', () => {
  it('delivers a user message and records the reply', async () => {
    const b = await setup();
    b.on('message:text', (ctx) => ctx.reply(`收到：${ctx.message.text}`));
    await startPolling(b);

    const update = emulator.sendMessage(ALICE.id, ALICE, '十四五规划的目标是什么？');
    const [reply] = await emulator.waitForMessages(ALICE.id, 1);

    expect(reply).toMatchObject({ chat_id: ALICE.id, text: '收到：十四五规划的目标是什么？', edits: 0 });
    expect(reply?.message_id).toBe((update.message?.message_id ?? 0) + 1);
    expect(emulator.calls('getMe')).toHaveLength(1);
    expect(emulator.calls('deleteWebhook')).toHaveLength(1);
  });

  it('adds bot_command and mention entities to user messages', async () => {
    await setup();
    const update = emulator.sendMessage(ALICE.id, ALICE, '/ask@plan_qa_bot 你好 @plan_qa_bot');
    expect(update.message?.entities).toEqual([
      { type: 'bot_command', offset: 0, length: 16 },
      { type: 'mention', offset: 20, length: 12 },
    ]);
  });

  it('confirms updates by offset, so each is handled once', async () => {
    const b = await setup();
    const seen: string[] = [];
    b.on('message:text', (ctx) => {
      seen.push(ctx.message.text);
    });
    emulator.sendMessage(ALICE.id, ALICE, 'one');
    emulator.sendMessage(ALICE.id, ALICE, 'two');
    await startPolling(b);
    emulator.sendMessage(ALICE.id, ALICE, 'three');
    await emulator.waitFor((c) => c.method === 'getUpdates' && (c.params.offset as number) === 4, 5000, 0);
    expect(seen).toEqual(['one', 'two', 'three']);
  });

  it('does not busy-loop while idle', async () => {
    const b = await setup();
    await startPolling(b, 1);
    const before = emulator.calls('getUpdates').length;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(emulator.calls('getUpdates').length - before).toBeLessThanOrEqual(3);
  });

  it('lets bot.stop() finish promptly while a poll is held', async () => {
    const b = await setup();
    await startPolling(b, 30);
    const started = Date.now();
    await b.stop();
    await running;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('releases a held poll on close(), so close() and bot.stop() are prompt', async () => {
    const b = await setup();
    await startPolling(b, 30);
    const started = Date.now();
    await emulator.close();
    expect(Date.now() - started).toBeLessThan(1000);
    // the server is gone: stop() settles at once (its final getUpdates cannot connect)
    await b.stop().catch((error: unknown) => expect(error).toBeInstanceOf(HttpError));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers a second concurrent getUpdates with 409 Conflict to the first', async () => {
    const b = await setup();
    const first = b.api.getUpdates({ timeout: 30 });
    await emulator.waitFor((c) => c.method === 'getUpdates', 5000, 0);
    const second = b.api.getUpdates({ timeout: 0 });
    const error = await apiError(first);
    expect(error.error_code).toBe(409);
    expect(error.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    await expect(second).resolves.toEqual([]);
  });
});

describe('webhook delivery', () => {
  it('POSTs each update with the secret token, and delivers it again until a 2xx confirms it', async () => {
    await setup({ webhookRetryMs: 50 });
    const seen: Array<{ id: number; secret: string | undefined }> = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const update = JSON.parse(Buffer.concat(chunks).toString()) as { update_id: number };
        seen.push({ id: update.update_id, secret: [req.headers['x-telegram-bot-api-secret-token']].flat()[0] });
        // The first attempt of each update fails.
        res.writeHead(seen.filter((s) => s.id === update.update_id).length === 1 ? 500 : 200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      await bot!.api.setWebhook(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, { secret_token: 's3cret' });
      const a = emulator.sendMessage(ALICE.id, ALICE, 'one');
      const b = emulator.sendMessage(ALICE.id, ALICE, 'two');
      await vi.waitFor(() => expect(emulator.webhook.unconfirmed).toBe(0));
      expect(seen.filter((s) => s.id === a.update_id)).toHaveLength(2);
      expect(seen.filter((s) => s.id === b.update_id)).toHaveLength(2);
      expect(new Set(seen.map((s) => s.secret))).toEqual(new Set(['s3cret']));
      expect(emulator.webhook.attempts.map((d) => d.status).sort()).toEqual([200, 200, 500, 500]);
      await expect(bot!.api.getUpdates()).rejects.toThrow(/409/);
    } finally {
      hook.close();
    }
  });
});

describe('message rules', () => {
  it('rejects malformed HTML with the Bot API wording, as a GrammyError inside the bot', async () => {
    const b = await setup();
    const errors: unknown[] = [];
    b.catch((error) => {
      errors.push(error.error);
    });
    b.command('bad', (ctx) => ctx.reply('<b>未闭合', { parse_mode: 'HTML' }));
    await startPolling(b);
    emulator.sendMessage(ALICE.id, ALICE, '/bad');
    const call = await emulator.waitFor((c) => c.method === 'sendMessage');

    expect(call.error).toEqual({ error_code: 400, description: "Bad Request: can't parse entities: Can't find end tag corresponding to start tag b" });
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(GrammyError);
    expect(emulator.messagesIn(ALICE.id)).toEqual([]);
  });

  it.each([
    ['<p>段落</p>', 'Unsupported start tag "p" at byte offset 0'],
    ['a < b', 'Unsupported start tag "" at byte offset 2'],
    ['<b>粗体<i>斜体</b></i>', 'Unmatched end tag at byte offset 18, expected "</i>", found "</b>"'],
    ['</b>', 'Unexpected end tag at byte offset 0'],
    ['<a href="https://x.cn">链接', "Can't find end tag corresponding to start tag a"],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
    ['<br/>换行', 'Unsupported start tag "br/" at byte offset 0'],
    ['R&D &nbsp;', 'Unsupported HTML entity "&D" at byte offset 1'],
  ])('HTML %s → 400 %s', async (html, detail) => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const error = await apiError(b.api.sendMessage(ALICE.id, html, { parse_mode: 'HTML' }));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe(`Bad Request: can't parse entities: ${detail}`);
  });

  it('stores the rendered text, the raw HTML and the entities of valid HTML', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const html = '<b>规划</b> &lt;2035&gt; <a href="https://www.gov.cn/">原文</a>\n<blockquote expandable>摘录</blockquote> <tg-spoiler>x</tg-spoiler> &#20013;';
    const sent = await b.api.sendMessage(ALICE.id, html, { parse_mode: 'HTML' });
    const [message] = emulator.messagesIn(ALICE.id);

    expect(message?.text).toBe('规划 <2035> 原文\n摘录 x 中');
    expect(message?.html).toBe(html);
    expect(message?.parse_mode).toBe('HTML');
    expect(message?.entities).toEqual([
      { type: 'bold', offset: 0, length: 2 },
      { type: 'text_link', offset: 10, length: 2, url: 'https://www.gov.cn/' },
      { type: 'expandable_blockquote', offset: 13, length: 2 },
      { type: 'spoiler', offset: 16, length: 1 },
    ]);
    expect(sent.entities).toEqual(message?.entities);
  });

  it('rejects MarkdownV2 with an unescaped reserved character', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const error = await apiError(b.api.sendMessage(ALICE.id, '*目标* 2025.', { parse_mode: 'MarkdownV2' }));
    expect(error.description).toBe("Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
    await b.api.sendMessage(ALICE.id, '*目标* 2025\\.', { parse_mode: 'MarkdownV2' });
    expect(emulator.messagesIn(ALICE.id)[0]).toMatchObject({ text: '目标 2025.', entities: [{ type: 'bold', offset: 0, length: 2 }] });
  });

  it('limits text to 4096 characters after entity parsing, and rejects empty text', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    await b.api.sendMessage(ALICE.id, '规'.repeat(4096));
    const long = await apiError(b.api.sendMessage(ALICE.id, '规'.repeat(4097)));
    expect(long.description).toBe('Bad Request: message is too long');
    // markup does not count: 4096 visible characters inside tags and entities pass
    await b.api.sendMessage(ALICE.id, `<b>${'&lt;'.repeat(4000)}</b>${'划'.repeat(96)}`, { parse_mode: 'HTML' });
    const empty = await apiError(b.api.sendMessage(ALICE.id, '<b> </b>\n', { parse_mode: 'HTML' }));
    expect(empty.description).toBe('Bad Request: message text is empty');
    expect(emulator.messagesIn(ALICE.id).map((m) => m.text.length)).toEqual([4096, 4096]);
  });

  it('validates inline keyboards: callback_data is at most 64 bytes, buttons need an action', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const tooLong = new InlineKeyboard().text('更多', `m:${'规'.repeat(21)}`); // 2 + 63 bytes
    expect((await apiError(b.api.sendMessage(ALICE.id, '答案', { reply_markup: tooLong }))).description).toBe('Bad Request: BUTTON_DATA_INVALID');
    const fits = new InlineKeyboard().text('更多', `${'规'.repeat(21)}x`); // 64 bytes
    await b.api.sendMessage(ALICE.id, '答案', { reply_markup: fits });
    const textOnly = { inline_keyboard: [[{ text: '只有文字' }]] } as unknown as InlineKeyboard;
    expect((await apiError(b.api.sendMessage(ALICE.id, '答案', { reply_markup: textOnly }))).description)
      .toBe("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  });

  it('refuses edits that change nothing, and edits of missing messages', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const keyboard = new InlineKeyboard().text('好', 'ok');
    const sent = await b.api.sendMessage(ALICE.id, '<b>答案</b>', { parse_mode: 'HTML', reply_markup: keyboard });
    const same = await apiError(b.api.editMessageText(ALICE.id, sent.message_id, '<b>答案</b>', { parse_mode: 'HTML', reply_markup: keyboard }));
    expect(same.description).toMatch(/^Bad Request: message is not modified: /);
    const missing = await apiError(b.api.editMessageText(ALICE.id, 999, '新'));
    expect(missing.description).toBe('Bad Request: message to edit not found');

    // as in Telegram, editing the text without reply_markup removes the keyboard
    await b.api.editMessageText(ALICE.id, sent.message_id, '<b>答案</b>', { parse_mode: 'HTML' });
    expect(emulator.messagesIn(ALICE.id)[0]).toMatchObject({ text: '答案', edits: 1 });
    expect(emulator.messagesIn(ALICE.id)[0]?.reply_markup).toBeUndefined();

    await b.api.deleteMessage(ALICE.id, sent.message_id);
    expect(emulator.messagesIn(ALICE.id)).toEqual([]);
    expect((await apiError(b.api.deleteMessage(ALICE.id, sent.message_id))).description).toBe('Bad Request: message to delete not found');
  });

  it('parses pre blocks with a language, and legacy Markdown', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    await b.api.sendMessage(ALICE.id, '<pre><code class="language-json">{"a": 1}</code></pre>', { parse_mode: 'HTML' });
    await b.api.sendMessage(ALICE.id, '*粗* _斜_ [链接](https://www.gov.cn)', { parse_mode: 'Markdown' });
    const [pre, legacy] = emulator.messagesIn(ALICE.id);
    expect(pre?.entities).toEqual([{ type: 'pre', offset: 0, length: 8, language: 'json' }]);
    expect(legacy).toMatchObject({ text: '粗 斜 链接', markdown: '*粗* _斜_ [链接](https://www.gov.cn)' });
    expect(legacy?.entities.map((e) => e.type)).toEqual(['bold', 'italic', 'text_link']);
  });

  it('accepts JSON, urlencoded, multipart and query-string requests', async () => {
    await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const url = `${emulator.apiRoot}/bot${emulator.token}/sendMessage`;
    const form = new FormData();
    form.set('chat_id', String(ALICE.id));
    form.set('text', '表单');
    form.set('reply_markup', JSON.stringify({ inline_keyboard: [[{ text: '好', callback_data: 'ok' }]] }));
    const responses = [
      await fetch(url, { method: 'POST', body: form }),
      await fetch(url, { method: 'POST', body: new URLSearchParams({ chat_id: String(ALICE.id), text: '编码' }) }),
      await fetch(`${url}?chat_id=${ALICE.id}&text=${encodeURIComponent('查询')}`),
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: ALICE.id, text: '' }) }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 400]);
    expect(await responses[3]?.json()).toEqual({ ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
    expect(emulator.messagesIn(ALICE.id).map((m) => m.text)).toEqual(['表单', '编码', '查询']);
    expect(emulator.calls('sendMessage')[0]?.params.chat_id).toBe(ALICE.id);
    expect(emulator.messagesIn(ALICE.id)[0]?.reply_markup?.inline_keyboard[0]?.[0]).toEqual({ text: '好', callback_data: 'ok' });
  });

  it('reads multipart bodies as grammY writes them', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    // an InputFile anywhere in the payload makes grammY switch to multipart/form-data
    const payload = { chat_id: ALICE.id, text: '附件说明', reply_markup: new InlineKeyboard().text('好', 'ok'), thumbnail: new InputFile(Buffer.from('abc'), 'a.jpg') };
    await b.api.raw.sendMessage(payload as unknown as Parameters<typeof b.api.raw.sendMessage>[0]);
    const call = emulator.calls('sendMessage')[0];
    expect(call?.params).toMatchObject({ chat_id: ALICE.id, text: '附件说明', thumbnail: { filename: 'a.jpg', size: 3 } });
    expect(emulator.messagesIn(ALICE.id)[0]?.reply_markup).toEqual({ inline_keyboard: [[{ text: '好', callback_data: 'ok' }]] });
  });
});

describe('photos', () => {
  const png = (w: number, h: number) => encodePng(new Uint8Array(w * h * 4).fill(255), w, h);

  it('takes an uploaded PNG with an HTML caption, reads its size, and takes it again by file_id', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const first = await b.api.sendPhoto(ALICE.id, new InputFile(await png(300, 200), 'chart.png'), { caption: '<b>指标</b>图', parse_mode: 'HTML', reply_markup: new InlineKeyboard().text('文字版', 't') });
    expect(first.photo.at(-1)).toMatchObject({ width: 300, height: 200 });
    expect(first.caption).toBe('指标图');
    expect(first.caption_entities).toEqual([{ type: 'bold', offset: 0, length: 2 }]);
    const again = await b.api.sendPhoto(ALICE.id, first.photo.at(-1)!.file_id);
    expect(again.photo.at(-1)?.file_id).toBe(first.photo.at(-1)?.file_id);
    expect(emulator.messagesIn(ALICE.id).map((m) => [m.photo?.width, m.text])).toEqual([[300, '指标图'], [300, '']]);
    // A photo message has no text to edit.
    expect((await apiError(b.api.editMessageText(ALICE.id, first.message_id, '文字'))).description).toBe('Bad Request: there is no text in the message to edit');
  });

  it('refuses what Telegram refuses: no image, odd dimensions, long captions, unknown file ids', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    const refused = async (photo: InputFile | string, caption?: string) => (await apiError(b.api.sendPhoto(ALICE.id, photo, caption ? { caption } : {}))).description;
    expect(await refused(new InputFile(Buffer.from('not a picture'), 'x.png'))).toBe('Bad Request: IMAGE_PROCESS_FAILED');
    expect(await refused(new InputFile(await png(10, 300), 'tall.png'))).toBe('Bad Request: PHOTO_INVALID_DIMENSIONS');
    expect(await refused(new InputFile(await png(10, 10), 'a.png'), '图'.repeat(1025))).toBe('Bad Request: message caption is too long');
    expect(await refused('AgACAgNoSuchPhoto')).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    expect(emulator.messagesIn(ALICE.id)).toEqual([]);
  });
});

describe('buttons, queries and chats', () => {
  it('round-trips a callback button press', async () => {
    const b = await setup();
    b.command('start', (ctx) => ctx.reply('选择主题', { reply_markup: new InlineKeyboard().text('交通', 'topic:交通') }));
    b.callbackQuery(/^topic:(.+)$/, async (ctx) => {
      await ctx.answerCallbackQuery({ text: '已订阅' });
      await ctx.editMessageText(`已订阅：${ctx.match[1] ?? ''}`);
    });
    await startPolling(b);

    emulator.sendMessage(ALICE.id, ALICE, '/start');
    const [menu] = await emulator.waitForMessages(ALICE.id, 1);
    expect(() => emulator.pressButton(ALICE.id, ALICE, menu?.message_id ?? 0, 'topic:教育')).toThrow(/no button/);
    const press = emulator.pressButton(ALICE.id, ALICE, menu?.message_id ?? 0, 'topic:交通');

    const edit = await emulator.waitFor((c) => c.method === 'editMessageText');
    expect(edit.error).toBeUndefined();
    expect(emulator.calls('answerCallbackQuery')[0]?.params).toMatchObject({ callback_query_id: press.callback_query?.id, text: '已订阅' });
    expect(emulator.messagesIn(ALICE.id)).toMatchObject([{ text: '已订阅：交通', edits: 1 }]);

    const again = await apiError(b.api.answerCallbackQuery(press.callback_query?.id ?? ''));
    expect(again.description).toBe('Bad Request: query is too old and response timeout expired or query ID is invalid');
  });

  it('validates inline query answers', async () => {
    const b = await setup();
    const query = emulator.inlineQuery(ALICE, '碳达峰');
    const id = query.inline_query?.id ?? '';
    const article = (n: string) => ({ type: 'article' as const, id: n, title: n, input_message_content: { message_text: n } });
    expect((await apiError(b.api.answerInlineQuery(id, [article('a'), article('a')]))).description).toBe('Bad Request: RESULT_ID_DUPLICATE');
    const many = Array.from({ length: 51 }, (_, i) => article(String(i)));
    expect((await apiError(b.api.answerInlineQuery(id, many))).description).toBe('Bad Request: RESULTS_TOO_MUCH');
    await b.api.answerInlineQuery(id, [article('a')]);
  });

  it('hides group chatter from a bot in privacy mode, unless it is an admin', async () => {
    const b = await setup();
    const seen: string[] = [];
    b.on('message:text', (ctx) => {
      seen.push(ctx.message.text);
    });
    await startPolling(b);
    emulator.sendMessage(GROUP, ALICE, '大家好');
    emulator.sendMessage(GROUP, ALICE, '/ask@plan_qa_bot 规划');
    emulator.setAdmins(GROUP, [ALICE.id, emulator.botInfo.id]);
    emulator.sendMessage(GROUP, BOB, '管理员可见');
    await expect.poll(() => seen).toEqual(['/ask@plan_qa_bot 规划', '管理员可见']);
    expect(emulator.hidden.map((u) => u.message?.text)).toEqual(['大家好']);

    const admins = await b.api.getChatAdministrators(GROUP);
    expect(admins.map((m) => m.user.id).sort()).toEqual([ALICE.id, emulator.botInfo.id].sort());
    expect((await b.api.getChatMember(GROUP, BOB.id)).status).toBe('member');
    await b.api.leaveChat(GROUP);
    expect((await apiError(b.api.sendMessage(GROUP, '还在吗'))).error_code).toBe(403);
  });

  it('answers 403 for blocked chats and 400 for unknown ones', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    emulator.blockedChats.add(ALICE.id);
    expect((await apiError(b.api.sendMessage(ALICE.id, '摘要'))).description).toBe('Forbidden: bot was blocked by the user');
    expect((await apiError(b.api.sendMessage(424242, '摘要'))).description).toBe('Bad Request: chat not found');
  });

  it('validates and returns bot commands', async () => {
    const b = await setup();
    expect((await apiError(b.api.setMyCommands([{ command: 'Ask', description: '提问' }]))).description).toBe('Bad Request: BOT_COMMAND_INVALID');
    expect((await apiError(b.api.setMyCommands([{ command: 'ask', description: '' }]))).error_code).toBe(400);
    await b.api.setMyCommands([{ command: 'ask', description: '提问' }]);
    expect(await b.api.getMyCommands()).toEqual([{ command: 'ask', description: '提问' }]);
  });
});

describe('failures and limits', () => {
  it('scripts failures with failNext: a 429 carries retry_after', async () => {
    const b = await setup();
    emulator.registerChat(ALICE.id, ALICE);
    emulator.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
    const error = await apiError(b.api.sendMessage(ALICE.id, '你好'));
    expect(error.error_code).toBe(429);
    expect(error.parameters.retry_after).toBe(7);
    await b.api.sendMessage(ALICE.id, '你好');
    expect(emulator.calls('sendMessage').map((c) => c.error?.error_code ?? 'ok')).toEqual([429, 'ok']);
  });

  it('enforces the global and the per-group rate', async () => {
    const b = await setup({ globalRatePerSecond: 3, perChatPerMinute: 2 });
    emulator.registerChat(ALICE.id, ALICE);
    emulator.registerChat(GROUP, ALICE);
    await b.api.sendMessage(GROUP, '1');
    await b.api.sendMessage(GROUP, '2');
    const group = await apiError(b.api.sendMessage(GROUP, '3'));
    expect(group.error_code).toBe(429);
    expect(group.parameters.retry_after).toBeGreaterThan(50);
    await b.api.sendMessage(ALICE.id, '3');
    const global = await apiError(b.api.sendMessage(ALICE.id, '4'));
    expect(global.parameters.retry_after).toBe(1);
    expect(global.description).toBe('Too Many Requests: retry after 1');
  });

  it('answers unknown methods with 404 and wrong tokens with 401', async () => {
    const b = await setup();
    const unknown = await apiError(b.api.raw.getUserProfilePhotos({ user_id: ALICE.id }));
    expect([unknown.error_code, unknown.description]).toEqual([404, 'Not Found']);
    const stranger = new Bot('654321:WRONG', { client: { apiRoot: emulator.apiRoot } });
    const error = await apiError(stranger.api.getMe());
    expect([error.error_code, error.description]).toEqual([401, 'Unauthorized']);
  });
});
