import { rm } from 'node:fs/promises';
import path from 'node:path';
import { InputFile, type Transformer } from 'grammy';
import type { Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { parseConfig, type Config, type TelegramConfig } from '../../src/config.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { copyCorpusIndex } from '../helpers/test-index.ts';

/** Shared by the bot tests: a real index in a temporary STATE_DIR, a recording Bot API, update factories. */

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface TestIndex {
  config: Config;
  stateDir: string;
  answerer: QuestionAnswerer;
  cleanup(): Promise<void>;
}

/** A copy of the run's corpus index in a temporary folder, and an answerer on it. */
export async function buildTestIndex(): Promise<TestIndex> {
  const stateDir = copyCorpusIndex();
  const config = parseConfig({ STATE_DIR: stateDir, CORPUS_DIR: path.join(REPO, 'data/corpus'), LOG_LEVEL: 'silent' }, REPO);
  const index = await loadPlanIndex(config.index, config.llm);
  return { config, stateDir, answerer: new QuestionAnswerer(index, { maxQuestionChars: config.telegram.maxQuestionChars }), cleanup: () => rm(stateDir, { recursive: true, force: true }) };
}

export function telegramConfig(overrides: Partial<TelegramConfig> = {}): TelegramConfig {
  return { port: 0, allowedChatIds: [], adminUserIds: [], rateLimitPerMinute: 10, messagesPerSecond: 30, maxQuestionChars: 500, shutdownDrainMs: 10_000, ...overrides };
}

export const BOT_INFO: UserFromGetMe = {
  id: 424242,
  is_bot: true,
  first_name: 'Plan QA Bot',
  username: 'plan_qa_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: true,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

export const ALICE: User = { id: 1001, is_bot: false, first_name: 'Alice', language_code: 'zh' };
export const BOB: User = { id: 1002, is_bot: false, first_name: 'Bob' };
export const GROUP = { id: -2001, type: 'group' as const, title: '规划讨论组' };

export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
  result?: unknown;
  error?: { error_code: number; description: string; parameters?: { retry_after?: number } };
}

/**
 * An API transformer standing in for Telegram: records every call and answers like the
 * Bot API (a Message for sends and edits, true otherwise), or with a scripted error.
 */
export class RecordingApi {
  readonly calls: RecordedCall[] = [];
  private readonly failures: Array<{ method: string; error: NonNullable<RecordedCall['error']>; remaining: number }> = [];
  private nextMessageId = 5000;

  failNext(method: string, error: NonNullable<RecordedCall['error']>, times = 1): void {
    this.failures.push({ method, error, remaining: times });
  }

  readonly transformer: Transformer = async (_prev, method, payload) => {
    // An uploaded file is recorded as its name and bytes.
    const files = Object.entries(payload as Record<string, unknown>).map(([k, v]) => [k, v instanceof InputFile ? { inputFile: v.filename ?? '' } : v]);
    const clone = JSON.parse(JSON.stringify(Object.fromEntries(files))) as Record<string, unknown>;
    const call: RecordedCall = { method, payload: clone, at: Date.now() };
    this.calls.push(call);
    const failure = this.failures.find((f) => f.method === method && f.remaining > 0);
    if (failure) {
      failure.remaining--;
      call.error = failure.error;
      return { ok: false, ...failure.error } as never;
    }
    call.result = this.fake(method, call.payload);
    return { ok: true, result: call.result } as never;
  };

  private fake(method: string, p: Record<string, unknown>): unknown {
    if (method === 'sendPhoto') {
      const chatId = Number(p.chat_id);
      const id = this.nextMessageId++;
      return {
        message_id: id,
        date: Math.floor(Date.now() / 1000),
        chat: chatId > 0 ? { id: chatId, type: 'private', first_name: 'x' } : { id: chatId, type: 'group', title: 'g' },
        from: BOT_INFO,
        photo: [{ file_id: `photo${id}`, file_unique_id: `u${id}`, width: 1080, height: 1080 }],
        ...(p.caption ? { caption: String(p.caption) } : {}),
        ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}),
      };
    }
    if (method === 'sendMessage' || method === 'editMessageText') {
      const chatId = Number(p.chat_id);
      const message: Partial<Message.TextMessage> = {
        message_id: method === 'sendMessage' ? this.nextMessageId++ : Number(p.message_id),
        date: Math.floor(Date.now() / 1000),
        chat: chatId > 0 ? { id: chatId, type: 'private', first_name: 'x' } : { id: chatId, type: 'group', title: 'g' },
        from: BOT_INFO,
        text: String(p.text),
        ...(p.reply_markup ? { reply_markup: p.reply_markup as Message.TextMessage['reply_markup'] } : {}),
      };
      return message;
    }
    return true;
  }

  /** Calls of one method that succeeded. */
  ok(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && !c.error);
  }

  /** The successful sendMessage calls to a chat. */
  sent(chatId: number): RecordedCall[] {
    return this.ok('sendMessage').filter((c) => c.payload.chat_id === chatId);
  }

  clear(): void {
    this.calls.length = 0;
  }
}

export function callbackDataOf(call: RecordedCall | undefined): string[] {
  const markup = call?.payload.reply_markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().flatMap((b) => (b.callback_data ? [b.callback_data] : []));
}

let updateId = 1;
let messageId = 1;

function entitiesOf(text: string): MessageEntity[] {
  const out: MessageEntity[] = [];
  const cmd = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?/.exec(text);
  if (cmd) out.push({ type: 'bot_command', offset: 0, length: cmd[0].length });
  for (const m of text.matchAll(/(?<=^|[^\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w])/g)) out.push({ type: 'mention', offset: m.index, length: m[0].length });
  return out;
}

type ChatSpec = { id: number; type: 'private' | 'group' | 'supergroup'; title?: string };
const privateChat = (user: User): ChatSpec => ({ id: user.id, type: 'private' });

export function textUpdate(from: User, text: string, options: { chat?: ChatSpec; replyTo?: Message } = {}): Update {
  const chat = options.chat ?? privateChat(from);
  const entities = entitiesOf(text);
  return {
    update_id: updateId++,
    message: {
      message_id: messageId++,
      date: Math.floor(Date.now() / 1000),
      chat: chat.type === 'private' ? { id: chat.id, type: 'private', first_name: from.first_name } : { id: chat.id, type: chat.type, title: chat.title ?? 'group' },
      from,
      text,
      ...(entities.length ? { entities } : {}),
      ...(options.replyTo ? { reply_to_message: options.replyTo as Message.TextMessage & { reply_to_message: undefined } } : {}),
    },
  } as Update;
}

export function mediaUpdate(from: User, kind: 'sticker' | 'photo' | 'voice' | 'document', chat: ChatSpec = privateChat(from)): Update {
  const file = { file_id: `f${messageId}`, file_unique_id: `u${messageId}` };
  const content = {
    sticker: { sticker: { ...file, type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } },
    photo: { photo: [{ ...file, width: 90, height: 90 }] },
    voice: { voice: { ...file, duration: 2 } },
    document: { document: { ...file, file_name: 'a.pdf' } },
  }[kind];
  return {
    update_id: updateId++,
    message: { message_id: messageId++, date: Math.floor(Date.now() / 1000), chat: chat.type === 'private' ? { id: chat.id, type: 'private', first_name: 'x' } : { id: chat.id, type: chat.type, title: 'g' }, from, ...content },
  } as Update;
}

/** A press of a button on a message the bot sent (as recorded). */
export function pressUpdate(from: User, call: RecordedCall, data: string): Update {
  const message = call.result as Message.TextMessage;
  return { update_id: updateId++, callback_query: { id: `cq${updateId}`, from, chat_instance: 'ci', data, message } } as Update;
}

export function inlineUpdate(from: User, query: string): Update {
  return { update_id: updateId++, inline_query: { id: `iq${updateId}`, from, query, offset: '', chat_type: 'private' } } as Update;
}

/** A message the bot sent, as it appears in reply_to_message. */
export function botMessage(call: RecordedCall): Message {
  return call.result as Message;
}
