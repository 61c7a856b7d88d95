/**
 * What the emulated Telegram knows: users, chats, and every message in them
 * (the users' and the bot's), with per-chat message ids shared by both, as in
 * Telegram. Renders stored messages as Bot API `Message` objects.
 */
import type { Chat, InlineKeyboardMarkup, Message, MessageEntity, User, UserFromGetMe } from 'grammy/types';

/** A chat the tests act in: a number (positive: private chat with that user; negative: a group) or a description. */
export type ChatSpec = number | { id: number; type?: 'private' | 'group' | 'supergroup'; title?: string; username?: string };

/** A user the tests play: an id, or a fuller description. */
export type UserSpec = number | { id: number; first_name?: string; last_name?: string; username?: string; language_code?: string };

/** The current state of one message the bot sent. */
export interface BotMessage {
  chat_id: number;
  message_id: number;
  date: number;
  /** The plain text as users see it: tags stripped, entities decoded, trimmed. */
  text: string;
  /** The raw HTML the bot sent, when parse_mode was HTML. */
  html?: string;
  /** The raw source the bot sent, when parse_mode was MarkdownV2 or Markdown. */
  markdown?: string;
  parse_mode?: 'HTML' | 'MarkdownV2' | 'Markdown';
  entities: MessageEntity[];
  reply_markup?: InlineKeyboardMarkup;
  reply_to_message_id?: number;
  /** A photo the bot sent: its largest size; `text` and `entities` are then its caption. */
  photo?: BotPhoto;
  /** A file the bot sent (sendDocument); `text` then holds its caption. */
  document?: { file_name: string; content: Buffer };
  /** How many times the text or keyboard was edited. */
  edits: number;
  edit_date?: number;
}

export interface BotPhoto {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size: number;
  /** The uploaded bytes (the first upload, for a photo re-sent by file_id). */
  data: Buffer;
}

export interface StoredMessage {
  message_id: number;
  date: number;
  from: User;
  deleted: boolean;
  reply_to?: number;
  /** Set for the bot's own messages. */
  bot?: BotMessage;
  /** The fields of a user's message: text, entities, sticker, photo … */
  content?: Record<string, unknown>;
}

export interface ChatRecord {
  chat: Chat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  admins: Set<number>;
  creatorId?: number;
  members: Set<number>;
  botStatus: 'member' | 'left';
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);

export class ChatStore {
  readonly chats = new Map<number, ChatRecord>();
  readonly users = new Map<number, User>();

  constructor(readonly bot: UserFromGetMe) {}

  get botUser(): User {
    return { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username };
  }

  user(spec: UserSpec): User {
    const id = typeof spec === 'number' ? spec : spec.id;
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`bot-api-emulator: user id must be a positive integer, got ${id}`);
    const known = this.users.get(id);
    const described = typeof spec === 'number' ? {} : spec;
    const user: User = { ...(known ?? { id, is_bot: false, first_name: `User ${id}` }), ...described, is_bot: false };
    this.users.set(id, user);
    return user;
  }

  /** The chat a user acts in; registers it (the bot is taken to be a member) and the user as a member. */
  chatFor(spec: ChatSpec, from: User): ChatRecord {
    const id = typeof spec === 'number' ? spec : spec.id;
    if (id > 0 && id !== from.id) {
      throw new Error(`bot-api-emulator: private chat ${id} belongs to user ${id}, not ${from.id}; use a negative id for a group`);
    }
    const record = this.register(spec, from);
    if (record.botStatus !== 'member') throw new Error(`bot-api-emulator: the bot is not a member of chat ${id} (it left)`);
    record.members.add(from.id);
    return record;
  }

  register(spec: ChatSpec, from?: User): ChatRecord {
    const description = typeof spec === 'number' ? { id: spec } : spec;
    const { id } = description;
    if (!Number.isSafeInteger(id) || id === 0) throw new Error(`bot-api-emulator: bad chat id ${id}`);
    let record = this.chats.get(id);
    if (record === undefined) {
      record = { chat: makeChat(description, from), nextMessageId: 1, messages: new Map(), admins: new Set(), members: new Set(), botStatus: 'member' };
      this.chats.set(id, record);
    }
    return record;
  }

  addMessage(record: ChatRecord, message: Omit<StoredMessage, 'message_id' | 'date' | 'deleted'>): StoredMessage {
    const stored: StoredMessage = { ...message, message_id: record.nextMessageId++, date: unixNow(), deleted: false };
    if (stored.bot !== undefined) Object.assign(stored.bot, { message_id: stored.message_id, date: stored.date });
    record.messages.set(stored.message_id, stored);
    return stored;
  }

  /** A message that still exists, or undefined. */
  message(record: ChatRecord, messageId: number): StoredMessage | undefined {
    const stored = record.messages.get(messageId);
    return stored === undefined || stored.deleted ? undefined : stored;
  }

  botMessages(chatId: number): BotMessage[] {
    const record = this.chats.get(chatId);
    if (record === undefined) return [];
    return [...record.messages.values()].flatMap((m) => (m.deleted || m.bot === undefined ? [] : [m.bot]));
  }

  /** A stored message as the Bot API returns it; replies carry the replied-to message one level deep. */
  toMessage(record: ChatRecord, stored: StoredMessage, withReply = true): Message {
    const message: Record<string, unknown> = {
      message_id: stored.message_id,
      from: stored.from,
      chat: record.chat,
      date: stored.date,
    };
    if (stored.bot !== undefined) {
      const { text, entities, reply_markup, edit_date, photo } = stored.bot;
      if (photo !== undefined) {
        const { data: _bytes, ...size } = photo;
        const thumb = { ...size, file_id: `${photo.file_id}-s`, file_unique_id: `${photo.file_unique_id}-s`, width: Math.round((photo.width * 90) / Math.max(photo.width, photo.height)), height: Math.round((photo.height * 90) / Math.max(photo.width, photo.height)) };
        Object.assign(message, { photo: [thumb, size] }, text !== '' ? { caption: text } : {}, entities.length > 0 ? { caption_entities: entities } : {});
      } else Object.assign(message, { text }, entities.length > 0 ? { entities } : {});
      if (reply_markup !== undefined) message.reply_markup = reply_markup;
      if (edit_date !== undefined) message.edit_date = edit_date;
    } else {
      Object.assign(message, stored.content);
    }
    const replied = stored.reply_to === undefined ? undefined : record.messages.get(stored.reply_to);
    if (withReply && replied !== undefined && !replied.deleted) message.reply_to_message = this.toMessage(record, replied, false);
    return message as unknown as Message;
  }

  userById(id: number): User {
    if (id === this.bot.id) return this.botUser;
    return this.users.get(id) ?? { id, is_bot: false, first_name: `User ${id}` };
  }
}

function makeChat(spec: Exclude<ChatSpec, number>, from: User | undefined): Chat {
  const { id } = spec;
  if (id > 0) {
    const user: User = from ?? { id, is_bot: false, first_name: `User ${id}` };
    return {
      id,
      type: 'private',
      first_name: user.first_name,
      ...(user.last_name === undefined ? {} : { last_name: user.last_name }),
      ...(user.username === undefined ? {} : { username: user.username }),
    } as Chat;
  }
  const type = spec.type ?? (id <= -1_000_000_000_000 ? 'supergroup' : 'group');
  if (type === 'private') throw new Error(`bot-api-emulator: chat ${id} is negative, so it cannot be private`);
  return {
    id,
    type,
    title: spec.title ?? `Group ${-id}`,
    ...(spec.username === undefined ? {} : { username: spec.username }),
  } as Chat;
}
