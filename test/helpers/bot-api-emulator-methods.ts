/**
 * The Bot API methods the emulator serves (all but getUpdates, which needs
 * the HTTP response to hold): each takes the request's parameters and returns
 * the `result`, or throws an {@link ApiError} worded as Telegram words it.
 */
import type { BotCommand, ChatMember, InlineKeyboardMarkup } from 'grammy/types';
import { ApiError, optionalInteger, optionalString, requireInteger, type Params, type UploadedFile } from './bot-api-emulator-http.ts';
import { CHAT_ACTIONS, renderText, validateCommands, validateInlineResults, validateReplyMarkup, type RenderedText } from './bot-api-emulator-rules.ts';
import { unixNow, type BotMessage, type BotPhoto, type ChatRecord, type ChatStore, type StoredMessage } from './bot-api-emulator-chats.ts';

export interface MethodOptions {
  strictEntities: boolean;
  globalRatePerSecond?: number;
  perChatPerMinute?: number;
}

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const QUERY_TOO_OLD = 'query is too old and response timeout expired or query ID is invalid';

type Handler = (params: Params) => unknown;

export class BotApiMethods {
  readonly blockedChats = new Set<number>();
  readonly callbackQueries = new Map<string, { answered: boolean }>();
  readonly inlineQueries = new Map<string, { answered: boolean }>();
  readonly commands = new Map<string, BotCommand[]>();
  webhookUrl = '';
  /** Photos the bot uploaded, by file_id (a photo can be sent again by its file_id). */
  readonly photos = new Map<string, BotPhoto>();
  private readonly sendTimes: number[] = [];
  private readonly chatSendTimes = new Map<number, number[]>();
  private readonly byLowerName: Map<string, string>;

  constructor(
    private readonly store: ChatStore,
    private readonly options: MethodOptions,
    private readonly pendingUpdateCount: () => number,
  ) {
    this.byLowerName = new Map(Object.keys(this.handlers).map((name) => [name.toLowerCase(), name]));
  }

  /** The canonical name of a method (Bot API method names are case-insensitive), or undefined if unknown. */
  canonicalName(method: string): string | undefined {
    return this.byLowerName.get(method.toLowerCase());
  }

  call(method: string, params: Params): unknown {
    const handler = this.handlers[method];
    if (handler === undefined) throw new ApiError({ error_code: 404, description: 'Not Found' });
    return handler(params);
  }

  private readonly handlers: Record<string, Handler> = {
    getMe: () => this.store.bot,
    setWebhook: (p) => {
      this.webhookUrl = optionalString(p, 'url') ?? '';
      return true;
    },
    deleteWebhook: () => {
      this.webhookUrl = '';
      return true;
    },
    getWebhookInfo: () => ({ url: this.webhookUrl, has_custom_certificate: false, pending_update_count: this.pendingUpdateCount() }),
    setMyCommands: (p) => {
      this.commands.set(commandsKey(p), validateCommands(p.commands));
      return true;
    },
    getMyCommands: (p) => this.commands.get(commandsKey(p)) ?? [],
    deleteMyCommands: (p) => this.commands.delete(commandsKey(p)) || true,
    setMyDescription: () => true,
    setMyShortDescription: () => true,
    setMyName: () => true,
    setChatMenuButton: () => true,

    sendMessage: (p) => {
      const record = this.chat(p, true);
      const rendered = renderText(p, this.options);
      const reply_markup = validateReplyMarkup(p.reply_markup, false);
      const replyTo = this.replyTarget(record, p);
      this.takeSendSlot(record.chat.id);
      const bot: BotMessage = { chat_id: record.chat.id, message_id: 0, date: 0, edits: 0, ...view(rendered, reply_markup) };
      if (replyTo !== undefined) bot.reply_to_message_id = replyTo;
      const stored = this.store.addMessage(record, { from: this.store.botUser, reply_to: replyTo, bot });
      return this.store.toMessage(record, stored);
    },
    sendPhoto: (p) => {
      const record = this.chat(p, true);
      const photo = this.photo(p.photo);
      const caption = optionalString(p, 'caption') ?? '';
      const rendered: RenderedText = caption === '' ? { text: '', entities: [] } : renderText({ text: caption, parse_mode: p.parse_mode, entities: p.caption_entities }, this.options);
      if (rendered.text.length > PHOTO_CAPTION_MAX) throw ApiError.badRequest('message caption is too long');
      const reply_markup = validateReplyMarkup(p.reply_markup, false);
      const replyTo = this.replyTarget(record, p);
      this.takeSendSlot(record.chat.id);
      const bot: BotMessage = { chat_id: record.chat.id, message_id: 0, date: 0, edits: 0, ...view(rendered, reply_markup), photo };
      if (replyTo !== undefined) bot.reply_to_message_id = replyTo;
      const stored = this.store.addMessage(record, { from: this.store.botUser, reply_to: replyTo, bot });
      return this.store.toMessage(record, stored);
    },
    /** Files uploaded in the request (multipart); the caption is kept as plain text. */
    sendDocument: (p) => {
      const record = this.chat(p, true);
      const file = p.document as UploadedFile | undefined;
      if (file === undefined || typeof file !== 'object' || !Buffer.isBuffer(file.content)) throw ApiError.badRequest('there is no document in the request');
      if (file.size > 50 * 1024 * 1024) throw ApiError.badRequest('file is too big');
      const caption = optionalString(p, 'caption') ?? '';
      if (caption.length > 1024) throw ApiError.badRequest('message caption is too long');
      this.takeSendSlot(record.chat.id);
      const bot: BotMessage = { chat_id: record.chat.id, message_id: 0, date: 0, edits: 0, text: caption, entities: [], document: { file_name: file.filename, content: file.content } };
      const stored = this.store.addMessage(record, { from: this.store.botUser, reply_to: undefined, bot });
      return this.store.toMessage(record, stored);
    },
    editMessageText: (p) => {
      const rendered = renderText(p, this.options);
      const reply_markup = validateReplyMarkup(p.reply_markup, true);
      if (p.inline_message_id !== undefined) return true;
      const { record, stored, bot } = this.editable(p);
      if (bot.photo !== undefined) throw ApiError.badRequest('there is no text in the message to edit');
      const next = view(rendered, reply_markup);
      if (sameContent(bot, next)) throw ApiError.badRequest(NOT_MODIFIED);
      delete bot.html;
      delete bot.markdown;
      delete bot.parse_mode;
      delete bot.reply_markup;
      Object.assign(bot, next, { edits: bot.edits + 1, edit_date: unixNow() });
      return this.store.toMessage(record, stored);
    },
    editMessageReplyMarkup: (p) => {
      const reply_markup = validateReplyMarkup(p.reply_markup, true);
      if (p.inline_message_id !== undefined) return true;
      const { record, stored, bot } = this.editable(p);
      if (canonical(bot.reply_markup) === canonical(reply_markup)) throw ApiError.badRequest(NOT_MODIFIED);
      if (reply_markup === undefined) delete bot.reply_markup;
      else bot.reply_markup = reply_markup;
      Object.assign(bot, { edits: bot.edits + 1, edit_date: unixNow() });
      return this.store.toMessage(record, stored);
    },
    deleteMessage: (p) => {
      const record = this.chat(p, true);
      const stored = this.store.message(record, requireInteger(p, 'message_id', 'message identifier is not specified'));
      if (stored === undefined) throw ApiError.badRequest('message to delete not found');
      const botIsAdmin = record.admins.has(this.store.bot.id);
      if (stored.bot === undefined && record.chat.type !== 'private' && !botIsAdmin) {
        throw ApiError.badRequest("message can't be deleted");
      }
      stored.deleted = true;
      return true;
    },
    sendChatAction: (p) => {
      this.chat(p, true);
      if (!CHAT_ACTIONS.has(optionalString(p, 'action') ?? '')) throw ApiError.badRequest('wrong parameter action in request');
      return true;
    },
    answerCallbackQuery: (p) => {
      const query = this.callbackQueries.get(optionalString(p, 'callback_query_id') ?? '');
      if (query === undefined || query.answered) throw ApiError.badRequest(QUERY_TOO_OLD);
      if ((optionalString(p, 'text') ?? '').length > 200) throw ApiError.badRequest('MESSAGE_TOO_LONG');
      query.answered = true;
      return true;
    },
    answerInlineQuery: (p) => {
      const query = this.inlineQueries.get(optionalString(p, 'inline_query_id') ?? '');
      if (query === undefined || query.answered) throw ApiError.badRequest(QUERY_TOO_OLD);
      validateInlineResults(p.results, this.options);
      query.answered = true;
      return true;
    },

    getChat: (p) => ({
      ...this.chat(p, false).chat,
      accent_color_id: 0,
      max_reaction_count: 11,
      accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false },
    }),
    getChatMember: (p) => {
      const record = this.chat(p, false);
      return this.member(record, requireInteger(p, 'user_id', 'user_id is empty'));
    },
    getChatAdministrators: (p) => {
      const record = this.chat(p, false);
      if (record.chat.type === 'private') throw ApiError.badRequest('there are no administrators in the private chat');
      const ids = [...(record.creatorId === undefined ? [] : [record.creatorId]), ...record.admins];
      return [...new Set(ids)].map((id) => this.member(record, id));
    },
    leaveChat: (p) => {
      const record = this.chat(p, false);
      if (record.chat.type === 'private') throw ApiError.badRequest("chat member status can't be changed in private chats");
      record.botStatus = 'left';
      return true;
    },
  };

  /** The chat named by `chat_id`; `write` adds the checks that sending or editing there is allowed. */
  private chat(params: Params, write: boolean): ChatRecord {
    const raw = params.chat_id;
    if (raw === undefined || raw === null || raw === '') throw ApiError.badRequest('chat_id is empty');
    if (write && typeof raw === 'number' && this.blockedChats.has(raw)) throw ApiError.forbidden('bot was blocked by the user');
    const record = typeof raw === 'number'
      ? this.store.chats.get(raw)
      : typeof raw === 'string' && raw.startsWith('@')
        ? [...this.store.chats.values()].find((r) => 'username' in r.chat && `@${r.chat.username}` === raw)
        : undefined;
    if (record === undefined) throw ApiError.badRequest('chat not found');
    if (write && record.botStatus === 'left') {
      throw ApiError.forbidden(`bot is not a member of the ${record.chat.type === 'supergroup' ? 'supergroup' : 'group'} chat`);
    }
    return record;
  }

  private editable(params: Params): { record: ChatRecord; stored: StoredMessage; bot: BotMessage } {
    const record = this.chat(params, true);
    const stored = this.store.message(record, requireInteger(params, 'message_id', 'message identifier is not specified'));
    if (stored === undefined) throw ApiError.badRequest('message to edit not found');
    if (stored.bot === undefined) throw ApiError.badRequest("message can't be edited");
    return { record, stored, bot: stored.bot };
  }

  private replyTarget(record: ChatRecord, params: Params): number | undefined {
    const reply = (params.reply_parameters ?? {}) as { message_id?: unknown; allow_sending_without_reply?: unknown };
    const messageId = typeof reply.message_id === 'number' ? reply.message_id : optionalInteger(params, 'reply_to_message_id');
    if (messageId === undefined) return undefined;
    if (this.store.message(record, messageId) !== undefined) return messageId;
    if (reply.allow_sending_without_reply === true || params.allow_sending_without_reply === true) return undefined;
    throw ApiError.badRequest('message to be replied not found');
  }

  /** An uploaded PNG or JPEG (checked as Telegram checks photos), or the file_id of one sent before. */
  private photo(value: unknown): BotPhoto {
    if (value === undefined || value === null || value === '') throw ApiError.badRequest('there is no photo in the request');
    if (typeof value === 'string') {
      const known = this.photos.get(value);
      if (known === undefined) throw ApiError.badRequest('wrong file identifier/HTTP URL specified');
      return known;
    }
    const file = value as UploadedFile;
    if (!Buffer.isBuffer(file.content)) throw ApiError.badRequest('there is no photo in the request');
    if (file.size > PHOTO_MAX_BYTES) throw ApiError.badRequest('file is too big');
    const size = imageSize(file.content);
    if (size === undefined) throw ApiError.badRequest('IMAGE_PROCESS_FAILED');
    const { width, height } = size;
    if (width + height > 10_000 || Math.max(width, height) / Math.min(width, height) > 20) throw ApiError.badRequest('PHOTO_INVALID_DIMENSIONS');
    const n = this.photos.size + 1;
    const photo: BotPhoto = { file_id: `AgACAgPhoto${n}`, file_unique_id: `AQADPhoto${n}`, width, height, file_size: file.size, data: file.content };
    this.photos.set(photo.file_id, photo);
    return photo;
  }

  /** Flood control: a sliding one-second window overall, a one-minute window per group. */
  private takeSendSlot(chatId: number): void {
    const now = Date.now();
    const { globalRatePerSecond, perChatPerMinute } = this.options;
    if (globalRatePerSecond !== undefined) checkWindow(this.sendTimes, now, 1000, globalRatePerSecond);
    const chatTimes = this.chatSendTimes.get(chatId) ?? [];
    if (perChatPerMinute !== undefined && chatId < 0) checkWindow(chatTimes, now, 60_000, perChatPerMinute);
    this.sendTimes.push(now);
    chatTimes.push(now);
    this.chatSendTimes.set(chatId, chatTimes);
  }

  private member(record: ChatRecord, userId: number): ChatMember {
    const user = this.store.userById(userId);
    if (record.chat.type === 'private') return { status: 'member', user };
    if (record.creatorId === userId) return { status: 'creator', user, is_anonymous: false };
    if (record.admins.has(userId)) {
      return {
        status: 'administrator', user, can_be_edited: false, is_anonymous: false, can_manage_chat: true,
        can_delete_messages: true, can_manage_video_chats: true, can_restrict_members: true, can_promote_members: false,
        can_change_info: true, can_invite_users: true, can_post_stories: false, can_edit_stories: false,
        can_delete_stories: false, can_pin_messages: true, can_send_welcome_messages: false,
      };
    }
    if (userId === this.store.bot.id) return { status: record.botStatus === 'member' ? 'member' : 'left', user };
    return record.members.has(userId) ? { status: 'member', user } : { status: 'left', user };
  }
}

const PHOTO_CAPTION_MAX = 1024;
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

/** Width and height from a PNG's IHDR or a JPEG's SOF marker; undefined for anything else. */
function imageSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length >= 24 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) && data.toString('latin1', 12, 16) === 'IHDR') {
    const width = data.readUInt32BE(16);
    const height = data.readUInt32BE(20);
    return width > 0 && height > 0 ? { width, height } : undefined;
  }
  if (data.length > 4 && data[0] === 0xff && data[1] === 0xd8) {
    for (let i = 2; i + 9 < data.length; ) {
      if (data[i] !== 0xff) return undefined;
      const marker = data[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xc3) return { height: data.readUInt16BE(i + 5), width: data.readUInt16BE(i + 7) };
      i += 2 + data.readUInt16BE(i + 2);
    }
  }
  return undefined;
}

function view(rendered: RenderedText, reply_markup: InlineKeyboardMarkup | undefined): Pick<BotMessage, 'text' | 'entities' | 'html' | 'markdown' | 'parse_mode' | 'reply_markup'> {
  const out: Pick<BotMessage, 'text' | 'entities' | 'html' | 'markdown' | 'parse_mode' | 'reply_markup'> = {
    text: rendered.text,
    entities: rendered.entities,
  };
  if (rendered.parseMode !== undefined) {
    out.parse_mode = rendered.parseMode;
    if (rendered.parseMode === 'HTML') out.html = rendered.source;
    else out.markdown = rendered.source;
  }
  if (reply_markup !== undefined) out.reply_markup = reply_markup;
  return out;
}

function sameContent(current: BotMessage, next: Pick<BotMessage, 'text' | 'entities' | 'reply_markup'>): boolean {
  return current.text === next.text
    && canonical(current.entities) === canonical(next.entities)
    && canonical(current.reply_markup) === canonical(next.reply_markup);
}

/** JSON with sorted keys, so that equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v) ?? 'undefined';
}

function commandsKey(params: Params): string {
  const scope = (params.scope ?? { type: 'default' }) as Record<string, unknown>;
  return `${canonical(scope)}|${optionalString(params, 'language_code') ?? ''}`;
}

function checkWindow(times: number[], now: number, windowMs: number, max: number): void {
  while (times.length > 0 && (times[0] as number) <= now - windowMs) times.shift();
  if (times.length >= max) {
    const retryAfter = Math.max(1, Math.ceil(((times[0] as number) + windowMs - now) / 1000));
    throw new ApiError({
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    });
  }
}
