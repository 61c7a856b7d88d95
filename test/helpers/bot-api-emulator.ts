/**
 * An in-process Telegram Bot API over real HTTP on 127.0.0.1, for end-to-end
 * tests and benchmarks: the real grammY `Bot` (with `client: { apiRoot }`)
 * long-polls it and calls methods on it, while tests play users and inspect
 * what the bot sent. It enforces Telegram's rules (see bot-api-emulator-rules.ts)
 * and answers exactly like the Bot API: `{ ok: true, result }` or
 * `{ ok: false, error_code, description, parameters? }` with HTTP status `error_code`.
 *
 * Module map: -http (request parsing, ApiError), -html / -markdown (parse
 * modes), -rules (content rules), -chats (users, chats, messages), -methods
 * (every method but getUpdates), -updates (the update queue, long polling).
 * This file: the server, the users' actions, and inspection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageEntity, Update, UserFromGetMe } from 'grammy/types';
import { ApiError, readParams, sendJson, type ApiErrorBody, type Outcome, type Params } from './bot-api-emulator-http.ts';
import { ChatStore, unixNow, type BotMessage, type ChatRecord, type ChatSpec, type StoredMessage, type UserSpec } from './bot-api-emulator-chats.ts';
import { BotApiMethods } from './bot-api-emulator-methods.ts';
import { UpdateQueue } from './bot-api-emulator-updates.ts';
import { WebhookDelivery } from './bot-api-emulator-webhook.ts';

export type { ApiErrorBody } from './bot-api-emulator-http.ts';
export type { BotMessage, ChatSpec, UserSpec } from './bot-api-emulator-chats.ts';

export interface EmulatorOptions {
  token?: string;
  botUsername?: string;
  /** Overrides for what getMe returns (e.g. `can_read_all_group_messages: true` turns privacy mode off). */
  botInfo?: Partial<UserFromGetMe>;
  /** More than this many sendMessage calls in any one second → 429 with retry_after. */
  globalRatePerSecond?: number;
  /** More than this many sendMessage calls to one group in any one minute → 429 with retry_after. */
  perChatPerMinute?: number;
  /**
   * Reject HTML entities Telegram does not decode (`&nbsp;`, a bare `&`) with
   * "can't parse entities" instead of showing them literally as Telegram does.
   * Default true: such output is nearly always an escaping bug.
   */
  strictHtmlEntities?: boolean;
  /** Webhook mode: pause before an unconfirmed update is delivered again (Telegram waits longer). */
  webhookRetryMs?: number;
  /** Webhook mode: a delivery not answered within this long counts as failed. */
  webhookTimeoutMs?: number;
}

/** One call the bot made. getUpdates calls are recorded on arrival; `result` is filled in when answered. */
export interface RecordedCall {
  method: string;
  params: Params;
  /** Date.now() on arrival. */
  at: number;
  result?: unknown;
  error?: ApiErrorBody;
}

const DEFAULTS = {
  token: '123456:TEST-token-abcdefghijklmnopqrstuvwxyz0123',
  botUsername: 'plan_qa_bot',
  waitMs: 5000,
} as const;

export class BotApiEmulator {
  readonly apiRoot: string;
  readonly token: string;
  readonly botInfo: UserFromGetMe;
  /** Every call the bot made, in order of arrival. */
  readonly sent: RecordedCall[] = [];
  /** Group updates that privacy mode kept from the bot (it is not an admin and they were not meant for it). */
  readonly hidden: Update[] = [];
  /** Private chats whose user blocked the bot: sending there → 403. */
  readonly blockedChats: Set<number>;

  private readonly store: ChatStore;
  private readonly methods: BotApiMethods;
  private readonly updates = new UpdateQueue();
  /** Webhook mode (after setWebhook with a URL): how updates reach the bot, and every attempt. */
  readonly webhook: WebhookDelivery;
  private nextQueryId = 1;
  private readonly failures = new Map<string, { error: ApiErrorBody; remaining: number }[]>();
  private readonly observers = new Set<(event: RecordedCall | 'closed') => void>();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(private readonly server: Server, port: number, options: EmulatorOptions) {
    this.apiRoot = `http://127.0.0.1:${port}`;
    this.token = options.token ?? DEFAULTS.token;
    const id = Number(this.token.split(':')[0]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`bot-api-emulator: token must start with the bot id, got "${this.token}"`);
    this.botInfo = {
      id, is_bot: true, first_name: 'Plan QA Bot', username: options.botUsername ?? DEFAULTS.botUsername,
      can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: true,
      can_connect_to_business: false, has_main_web_app: false, has_topics_enabled: false,
      allows_users_to_create_topics: false, can_manage_bots: false, supports_join_request_queries: false,
      ...options.botInfo,
    };
    this.store = new ChatStore(this.botInfo);
    this.methods = new BotApiMethods(this.store, {
      strictEntities: options.strictHtmlEntities ?? true,
      ...(options.globalRatePerSecond === undefined ? {} : { globalRatePerSecond: options.globalRatePerSecond }),
      ...(options.perChatPerMinute === undefined ? {} : { perChatPerMinute: options.perChatPerMinute }),
    }, () => this.updates.pendingCount);
    this.blockedChats = this.methods.blockedChats;
    this.webhook = new WebhookDelivery(() => this.updates.shift(), { retryMs: options.webhookRetryMs ?? 1000, timeoutMs: options.webhookTimeoutMs ?? 60_000 });
    this.updates.onPush = () => this.webhook.kick();
  }

  /** Starts an emulator listening on an ephemeral port of 127.0.0.1. */
  static async start(options: EmulatorOptions = {}): Promise<BotApiEmulator> {
    let emulator: BotApiEmulator | undefined;
    const server = createServer((req, res) => {
      void emulator?.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    emulator = new BotApiEmulator(server, (server.address() as AddressInfo).port, options);
    return emulator;
  }

  // ---- users act ------------------------------------------------------------------------------

  /** A user sends a text message. Commands, mentions, hashtags and URLs get entities as Telegram adds them. */
  sendMessage(chat: ChatSpec, from: UserSpec, text: string, extra: { reply_to_message_id?: number; entities?: MessageEntity[] } = {}): Update {
    const entities = extra.entities ?? detectEntities(text);
    return this.userMessage(chat, from, { text, ...(entities.length > 0 ? { entities } : {}) }, extra.reply_to_message_id);
  }

  sendSticker(chat: ChatSpec, from: UserSpec): Update {
    const sticker = { ...this.file('sticker'), type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '🙂' };
    return this.userMessage(chat, from, { sticker });
  }

  sendPhoto(chat: ChatSpec, from: UserSpec, caption?: string): Update {
    const photo = [{ ...this.file('photo'), width: 90, height: 90 }, { ...this.file('photo'), width: 1280, height: 1280 }];
    return this.userMessage(chat, from, { photo, ...(caption === undefined ? {} : { caption }) });
  }

  sendVoice(chat: ChatSpec, from: UserSpec): Update {
    return this.userMessage(chat, from, { voice: { ...this.file('voice'), duration: 3, mime_type: 'audio/ogg' } });
  }

  /**
   * A user sends a file. With `content` the bot can fetch it (getFile, then GET
   * /file/bot<token>/<file_path>); `file_size` may claim more than the content, as
   * Telegram reports files the Bot API will not hand out (over 20 MB).
   */
  sendDocument(chat: ChatSpec, from: UserSpec, document: { file_name?: string; mime_type?: string; caption?: string; content?: Buffer; file_size?: number } = {}): Update {
    const { caption, content, ...meta } = document;
    const file = this.file('document');
    const size = meta.file_size ?? content?.length;
    if (content !== undefined) this.files.set(file.file_id, { content, size: size ?? content.length, path: `documents/file_${this.files.size}${/\.\w+$/.exec(meta.file_name ?? '')?.[0] ?? ''}` });
    return this.userMessage(chat, from, {
      document: { ...file, file_name: 'document.pdf', mime_type: 'application/pdf', ...(size !== undefined ? { file_size: size } : {}), ...meta },
      ...(caption === undefined ? {} : { caption }),
    });
  }

  /** A user presses an inline button; throws if that bot message has no button with this callback_data. */
  pressButton(chat: ChatSpec, from: UserSpec, messageId: number, callbackData: string): Update {
    const user = this.store.user(from);
    const record = this.store.chatFor(chat, user);
    const stored = this.store.message(record, messageId);
    if (stored?.bot === undefined) throw new Error(`bot-api-emulator: no bot message ${messageId} in chat ${record.chat.id}`);
    const data = (stored.bot.reply_markup?.inline_keyboard.flat() ?? []).flatMap((b) => ('callback_data' in b ? [b.callback_data] : []));
    if (!data.includes(callbackData)) {
      throw new Error(`bot-api-emulator: message ${messageId} in chat ${record.chat.id} has no button "${callbackData}" (it has ${JSON.stringify(data)})`);
    }
    const id = `${this.botInfo.id}${String(this.nextQueryId++).padStart(6, '0')}`;
    this.methods.callbackQueries.set(id, { answered: false });
    return this.updates.push({
      callback_query: {
        id, from: user, message: this.store.toMessage(record, stored), chat_instance: `${-record.chat.id * 31 + 7}`, data: callbackData,
      },
    });
  }

  /** A user types `@bot query` in some chat. */
  inlineQuery(from: UserSpec, query: string): Update {
    if (!this.botInfo.supports_inline_queries) throw new Error('bot-api-emulator: the bot has no inline mode (botInfo.supports_inline_queries)');
    const id = `${this.botInfo.id}${String(this.nextQueryId++).padStart(6, '0')}`;
    this.methods.inlineQueries.set(id, { answered: false });
    return this.updates.push({ inline_query: { id, from: this.store.user(from), query, offset: '', chat_type: 'sender' } });
  }

  /** A user adds the bot to a group: a `my_chat_member` update and a service message. */
  addBotToGroup(chat: ChatSpec, by: UserSpec): Update {
    const user = this.store.user(by);
    const record = this.store.register(chat, user);
    if (record.chat.type === 'private') throw new Error('bot-api-emulator: addBotToGroup needs a group (negative id)');
    const old_chat_member = { status: 'left', user: this.store.botUser };
    record.botStatus = 'member';
    this.userMessage(record.chat.id, user, { new_chat_members: [this.store.botUser] });
    return this.updates.push({
      my_chat_member: { chat: record.chat, from: user, date: unixNow(), old_chat_member, new_chat_member: { status: 'member', user: this.store.botUser } },
    });
  }

  /** Makes a chat known without anyone writing in it (the bot may then send there, e.g. a digest). */
  registerChat(chat: ChatSpec, user?: UserSpec): void {
    const id = typeof chat === 'number' ? chat : chat.id;
    const member = user === undefined ? undefined : this.store.user(user);
    if (id > 0 && member !== undefined && member.id !== id) throw new Error(`bot-api-emulator: private chat ${id} belongs to user ${id}`);
    const record = this.store.register(chat, member);
    if (member !== undefined) record.members.add(member.id);
  }

  /** Sets a group's administrators (the bot's own id included, it is an admin and sees every message). */
  setAdmins(chatId: number, userIds: number[], creatorId?: number): void {
    const record = this.store.register(chatId);
    record.admins = new Set(userIds);
    if (creatorId !== undefined) record.creatorId = creatorId;
    for (const id of [...userIds, ...(creatorId === undefined ? [] : [creatorId])]) {
      if (id !== this.botInfo.id) record.members.add(this.store.user(id).id);
    }
  }

  // ---- inspect --------------------------------------------------------------------------------

  /** The bot's messages in a chat as they are now (after edits and deletions), oldest first. */
  messagesIn(chatId: number): BotMessage[] {
    return structuredClone(this.store.botMessages(chatId));
  }

  /** The recorded calls of one method. */
  calls(method: string): RecordedCall[] {
    return this.sent.filter((call) => call.method === method);
  }

  /**
   * Resolves with the first call matching `predicate` that arrives from now on
   * (or from index `since` of {@link sent}, to include calls already made).
   */
  waitFor(predicate: (call: RecordedCall) => boolean, timeoutMs: number = DEFAULTS.waitMs, since?: number): Promise<RecordedCall> {
    const earlier = since === undefined ? undefined : this.sent.slice(since).find(predicate);
    if (earlier !== undefined) return Promise.resolve(earlier);
    return this.until(timeoutMs, (call) => (predicate(call) ? call : undefined), () => {
      const last = this.sent.slice(-5).map((c) => `${c.method}${c.error ? `(${c.error.error_code})` : ''}`);
      return `no matching call within ${timeoutMs} ms; last calls: ${last.join(', ') || 'none'}`;
    });
  }

  /** Resolves once the chat holds at least `count` bot messages. */
  waitForMessages(chatId: number, count: number, timeoutMs: number = DEFAULTS.waitMs): Promise<BotMessage[]> {
    const check = (): BotMessage[] | undefined => {
      const messages = this.messagesIn(chatId);
      return messages.length >= count ? messages : undefined;
    };
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return this.until(timeoutMs, check, () => `chat ${chatId} has ${this.messagesIn(chatId).length} bot messages after ${timeoutMs} ms, wanted ${count}`);
  }

  /** The next `times` calls of `method` fail with this error (e.g. 429 with parameters.retry_after, 403, 500). */
  failNext(method: string, error: ApiErrorBody, times = 1): void {
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    queue.push({ error, remaining: times });
    this.failures.set(key, queue);
  }

  /** Answers a held getUpdates with an empty batch, fails pending waits, and stops listening. */
  close(): Promise<void> {
    this.closed = true;
    this.webhook.stop();
    this.closing ??= new Promise<void>((resolve) => {
      this.updates.releaseHeld();
      for (const observer of [...this.observers]) observer('closed');
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 100).unref();
    });
    return this.closing;
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  /** Files users sent, by file_id. */
  private readonly files = new Map<string, { content: Buffer; size: number; path: string }>();

  /** Bot API file downloads: GET /file/bot<token>/<file_path>. */
  private download(url: URL, res: ServerResponse): boolean {
    const match = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (match === null) return false;
    const file = decodeURIComponent(match[1]!) === this.token ? [...this.files.values()].find((f) => f.path === decodeURIComponent(match[2]!)) : undefined;
    if (file === undefined) sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' }, true);
    else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.content.length }).end(file.content);
    return true;
  }

  private getFile(params: Params): unknown {
    const id = typeof params.file_id === 'string' ? params.file_id : '';
    const file = this.files.get(id);
    if (file === undefined) throw ApiError.badRequest('invalid file_id');
    if (file.size > 20 * 1024 * 1024) throw ApiError.badRequest('file is too big');
    return { file_id: id, file_unique_id: `u-${id}`, file_size: file.size, file_path: file.path };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiRoot);
    if (this.download(url, res)) return;
    const match = /^\/bot([^/]+)\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (match === null) return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' }, true);
    const [, token, requested] = match as unknown as [string, string, string];
    const method = requested.toLowerCase() === 'getupdates' ? 'getUpdates' : this.methods.canonicalName(requested) ?? requested;
    const call: RecordedCall = { method, params: {}, at: Date.now() };
    this.sent.push(call);
    try {
      if (decodeURIComponent(token) !== this.token) throw new ApiError({ error_code: 401, description: 'Unauthorized' });
      call.params = await readParams(req, url);
      const scripted = this.takeFailure(method);
      if (scripted !== undefined) throw new ApiError(scripted);
      if (method === 'getUpdates') return this.getUpdates(call, res);
      const result = method === 'getFile' ? this.getFile(call.params) : this.methods.call(method, call.params);
      if (/^(set|delete)Webhook$/.test(method) && call.params.drop_pending_updates === true) this.updates.dropPending();
      if (/^(set|delete)Webhook$/.test(method)) this.setWebhookTarget(call.params);
      this.finish(call, res, { ok: true, result });
    } catch (error) {
      if (error instanceof ApiError) return this.finish(call, res, { ok: false, error: error.body });
      const description = `Internal Server Error: bot-api-emulator: ${error instanceof Error ? error.message : String(error)}`;
      this.finish(call, res, { ok: false, error: { error_code: 500, description } });
    }
  }

  private finish(call: RecordedCall, res: ServerResponse, outcome: Outcome): void {
    if (outcome.ok) call.result = outcome.result;
    else call.error = outcome.error;
    const body = outcome.ok ? { ok: true, result: outcome.result } : { ok: false, ...outcome.error };
    sendJson(res, outcome.ok ? 200 : outcome.error.error_code, body, this.closed);
    if (call.method !== 'getUpdates') this.notify(call);
  }

  private takeFailure(method: string): ApiErrorBody | undefined {
    const queue = this.failures.get(method.toLowerCase());
    const next = queue?.[0];
    if (queue === undefined || next === undefined) return undefined;
    if (--next.remaining <= 0) queue.shift();
    return next.error;
  }

  private getUpdates(call: RecordedCall, res: ServerResponse): void {
    this.notify(call);
    if (this.methods.webhookUrl !== '') {
      throw new ApiError({ error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });
    }
    this.updates.getUpdates(call.params, (outcome) => this.finish(call, res, outcome), (listener) => res.on('close', listener), this.closed);
  }

  // ---- helpers --------------------------------------------------------------------------------

  private setWebhookTarget(params: Params): void {
    const url = this.methods.webhookUrl;
    if (url === '') return this.webhook.set(undefined);
    this.updates.allow(params.allowed_updates);
    const secretToken = typeof params.secret_token === 'string' ? params.secret_token : undefined;
    const maxConnections = typeof params.max_connections === 'number' ? Math.min(100, Math.max(1, params.max_connections)) : 40;
    this.webhook.set({ url, maxConnections, ...(secretToken ? { secretToken } : {}) });
  }

  private userMessage(chat: ChatSpec, from: UserSpec, content: Record<string, unknown>, replyTo?: number): Update {
    const user = this.store.user(from);
    const record = this.store.chatFor(chat, user);
    if (replyTo !== undefined && this.store.message(record, replyTo) === undefined) {
      throw new Error(`bot-api-emulator: cannot reply to message ${replyTo}, chat ${record.chat.id} has no such message`);
    }
    const stored = this.store.addMessage(record, { from: user, content, ...(replyTo === undefined ? {} : { reply_to: replyTo }) });
    const body = { message: this.store.toMessage(record, stored) };
    if (this.visibleToBot(record, stored)) return this.updates.push(body);
    const update = { update_id: 0, ...body } as unknown as Update;
    this.hidden.push(update);
    return update;
  }

  /**
   * Privacy mode (on unless botInfo.can_read_all_group_messages): in groups the
   * bot only gets commands meant for it, replies to its messages and service
   * messages — unless it is an admin.
   */
  private visibleToBot(record: ChatRecord, stored: StoredMessage): boolean {
    if (record.chat.type === 'private' || this.botInfo.can_read_all_group_messages) return true;
    if (record.admins.has(this.botInfo.id)) return true;
    const content = stored.content ?? {};
    if ('new_chat_members' in content || 'left_chat_member' in content) return true;
    if (stored.reply_to !== undefined && record.messages.get(stored.reply_to)?.bot !== undefined) return true;
    const text = typeof content.text === 'string' ? content.text : typeof content.caption === 'string' ? content.caption : '';
    const command = /^\/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]+))?(?=\s|$)/.exec(text);
    return command !== null && (command[1] === undefined || command[1].toLowerCase() === this.botInfo.username.toLowerCase());
  }

  private file(kind: string): { file_id: string; file_unique_id: string } {
    const n = this.nextQueryId++;
    return { file_id: `${kind}-file-${n}`, file_unique_id: `${kind}-${n}` };
  }

  /** Waits until `check`, run after every completed call, returns a value; fails on timeout or close. */
  private until<T>(timeoutMs: number, check: (call: RecordedCall) => T | undefined, describe: () => string): Promise<T> {
    if (this.closed) return Promise.reject(new Error('bot-api-emulator: closed'));
    return new Promise<T>((resolve, reject) => {
      const observer = (event: RecordedCall | 'closed'): void => {
        if (event === 'closed') return done(new Error(`bot-api-emulator: closed while waiting (${describe()})`));
        const value = check(event);
        if (value !== undefined) done(undefined, value);
      };
      const done = (error: Error | undefined, value?: T): void => {
        clearTimeout(timer);
        this.observers.delete(observer);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const timer = setTimeout(() => done(new Error(`bot-api-emulator: ${describe()}`)), timeoutMs);
      this.observers.add(observer);
    });
  }

  private notify(call: RecordedCall): void {
    for (const observer of [...this.observers]) observer(call);
  }
}

/** The entities Telegram adds to a user's text: bot commands, mentions, hashtags, URLs (UTF-16 offsets). */
function detectEntities(text: string): MessageEntity[] {
  const patterns: [MessageEntity['type'], RegExp][] = [
    ['bot_command', /(?<=^|\s)\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$|[.,!?;:])/g],
    ['mention', /(?<=^|[^\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w])/g],
    ['hashtag', /(?<=^|[^\w#])#[\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*/gu],
    ['url', /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'"]/g],
  ];
  const entities = patterns.flatMap(([type, pattern]) =>
    [...text.matchAll(pattern)].map((m) => ({ type, offset: m.index, length: m[0].length }) as MessageEntity));
  return entities.sort((a, b) => a.offset - b.offset);
}
