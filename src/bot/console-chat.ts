import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { InputFile, type Bot, type Transformer } from 'grammy';
import type { InlineKeyboardMarkup, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import type { Logger } from '../logger.ts';
import type { BotContext } from './context.ts';
import { escapeHtml } from './html.ts';
import { displayWidth, renderHtml, renderKeyboard, type NumberedButton, type TerminalStyle } from './console-render.ts';

/**
 * The console chat: the very same grammY bot, with updates made from what you type and
 * its API calls rendered in the terminal instead of sent to Telegram (an API transformer
 * that never calls the network). Buttons are numbered; typing a number presses one.
 */

export const CONSOLE_BOT_INFO: UserFromGetMe = {
  id: 1_000_000_001,
  is_bot: true,
  first_name: '规划问答',
  username: 'plan_qa_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

export const CONSOLE_USER: User = { id: 1_000_000_002, is_bot: false, first_name: '你', language_code: 'zh' };

export interface ConsoleChatOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { columns?: number };
  /** Interactive terminal: prompt, colours, in-place updates of streamed answers. */
  tty: boolean;
  /** Builds the bot with the console's transformer (installed innermost) and bot info. */
  createBot: (transformer: Transformer, botInfo: UserFromGetMe) => Bot<BotContext>;
  /** Printed before the first /start. */
  banner?: string;
  /** Where charts (photos the bot sends) are saved as PNG files; their paths are shown. */
  chartDir: string;
  /** Ends the chat as if input had ended (SIGINT/SIGTERM when input is not a terminal). */
  signal?: AbortSignal;
  log: Logger;
}

const QUIT = new Set(['/quit', '/exit', 'quit', 'exit', '退出']);

export async function runConsoleChat(options: ConsoleChatOptions): Promise<void> {
  const { output, tty } = options;
  const style: TerminalStyle = { color: tty && !process.env.NO_COLOR };
  const chat = { id: CONSOLE_USER.id, type: 'private' as const, first_name: CONSOLE_USER.first_name };
  const botUser: User = { id: CONSOLE_BOT_INFO.id, is_bot: true, first_name: CONSOLE_BOT_INFO.first_name, username: CONSOLE_BOT_INFO.username };
  const messages = new Map<number, { text: string; reply_markup?: InlineKeyboardMarkup; photo?: string }>();
  let nextMessageId = 1;
  let nextUpdateId = 1;
  let buttons: NumberedButton[] = [];
  let buttonsMessageId: number | undefined;
  let buttonHintShown = false;
  let transient = false;
  /** The last block printed, for in-place updates while an answer streams. */
  let last: { messageId: number; rows: number } | undefined;

  const write = (text: string) => {
    if (transient) output.write('\r\x1b[2K');
    transient = false;
    output.write(text);
  };
  const rowsOf = (block: string) => block.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil(displayWidth(line) / (output.columns || 80))), 0);
  const dim = (s: string) => (style.color ? `\x1b[2m${s}\x1b[22m` : s);

  const show = (messageId: number, text: string, parseMode: unknown, markup: InlineKeyboardMarkup | undefined, replace: boolean) => {
    const body = parseMode === 'HTML' ? renderHtml(text, style) : text.trim();
    let block = `\n${body}\n`;
    if (markup && markup.inline_keyboard.length > 0) {
      const rendered = renderKeyboard(markup, style);
      buttons = rendered.buttons;
      buttonsMessageId = messageId;
      block += `${rendered.lines.join('\n')}\n`;
      if (!buttonHintShown) {
        block += `${dim('  （输入按钮前的编号即可点按）')}\n`;
        buttonHintShown = true;
      }
    }
    let printed: string;
    if (replace && tty && last?.messageId === messageId) {
      printed = block.slice(1);
      write(`\x1b[${last.rows}F\x1b[J${printed}`);
    } else {
      printed = replace ? `\n${dim('（已更新）')}${block}` : block;
      write(printed);
    }
    // The rows the message occupies (rowsOf also counts the line before it and the empty one after).
    last = { messageId, rows: rowsOf(printed.startsWith('\n') ? printed : `\n${printed}`) - 2 };
  };

  const message = (id: number, text: string, markup?: InlineKeyboardMarkup): Message.TextMessage => ({
    message_id: id,
    date: Math.floor(Date.now() / 1000),
    chat,
    from: botUser,
    text,
    ...(markup ? { reply_markup: markup } : {}),
  });
  // A photo's file_id here is the path it was saved to.
  const photoMessage = (id: number, file: string, caption: string, markup?: InlineKeyboardMarkup): Message.PhotoMessage => ({
    message_id: id,
    date: Math.floor(Date.now() / 1000),
    chat,
    from: botUser,
    photo: [{ file_id: file, file_unique_id: path.basename(file), width: 0, height: 0 }],
    ...(caption ? { caption } : {}),
    ...(markup ? { reply_markup: markup } : {}),
  });
  const savePhoto = async (photo: unknown): Promise<string> => {
    if (typeof photo === 'string') return photo;
    if (!(photo instanceof InputFile)) throw new Error('console: sendPhoto without a photo');
    // toRaw() is how grammY itself reads an InputFile; ours wrap a Buffer, so it is the bytes.
    const raw = await photo.toRaw();
    if (!(raw instanceof Uint8Array)) throw new Error('console: a photo that is not in memory');
    mkdirSync(options.chartDir, { recursive: true });
    const file = path.resolve(options.chartDir, path.basename(photo.filename ?? `photo-${Date.now()}.png`));
    writeFileSync(file, raw);
    return file;
  };

  const terminal: Transformer = async (_prev, method, payload) => {
    const p = payload as Record<string, unknown>;
    const ok = (result: unknown) => ({ ok: true as const, result }) as never;
    switch (method) {
      case 'sendMessage': {
        const id = nextMessageId++;
        const markup = p.reply_markup as InlineKeyboardMarkup | undefined;
        messages.set(id, { text: String(p.text), ...(markup ? { reply_markup: markup } : {}) });
        show(id, String(p.text), p.parse_mode, markup, false);
        return ok(message(id, String(p.text), markup));
      }
      case 'sendPhoto': {
        const id = nextMessageId++;
        const markup = p.reply_markup as InlineKeyboardMarkup | undefined;
        const file = await savePhoto(p.photo);
        const caption = typeof p.caption === 'string' ? p.caption : '';
        messages.set(id, { text: caption, ...(markup ? { reply_markup: markup } : {}), photo: file });
        const note = `📊 图表已保存：${file}`;
        show(id, caption ? `${caption}\n${p.parse_mode === 'HTML' ? escapeHtml(note) : note}` : note, p.parse_mode, markup, false);
        return ok(photoMessage(id, file, caption, markup));
      }
      case 'editMessageText': {
        const id = Number(p.message_id);
        const markup = p.reply_markup as InlineKeyboardMarkup | undefined;
        messages.set(id, { text: String(p.text), ...(markup ? { reply_markup: markup } : {}) });
        show(id, String(p.text), p.parse_mode, markup, true);
        return ok(message(id, String(p.text), markup));
      }
      case 'editMessageReplyMarkup': {
        const id = Number(p.message_id);
        const stored = messages.get(id);
        const markup = p.reply_markup as InlineKeyboardMarkup | undefined;
        if (stored) messages.set(id, { ...stored, ...(markup ? { reply_markup: markup } : {}) });
        return ok(message(id, stored?.text ?? '', markup));
      }
      case 'answerCallbackQuery':
        if (typeof p.text === 'string' && p.text) write(`${dim(`  ⓘ ${p.text}`)}\n`);
        return ok(true);
      case 'sendChatAction':
        if (tty && !transient) {
          output.write(dim('  …正在查找'));
          transient = true;
        }
        return ok(true);
      case 'getMe':
        return ok(CONSOLE_BOT_INFO);
      default:
        return ok(true);
    }
  };

  const bot = options.createBot(terminal, CONSOLE_BOT_INFO);
  const textUpdate = (text: string): Update => {
    const command = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?/.exec(text);
    const entities: MessageEntity[] = command ? [{ type: 'bot_command', offset: 0, length: command[0].length }] : [];
    return {
      update_id: nextUpdateId++,
      message: { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat, from: CONSOLE_USER, text, ...(entities.length ? { entities } : {}) },
    } as Update;
  };
  const pressUpdate = (button: NumberedButton & { data: string }, messageId: number): Update => ({
    update_id: nextUpdateId++,
    callback_query: {
      id: String(nextUpdateId),
      from: CONSOLE_USER,
      chat_instance: String(chat.id),
      data: button.data,
      message: messages.get(messageId)?.photo
        ? photoMessage(messageId, messages.get(messageId)!.photo!, messages.get(messageId)!.text, messages.get(messageId)?.reply_markup)
        : message(messageId, messages.get(messageId)?.text ?? '', messages.get(messageId)?.reply_markup),
    },
  });

  const handle = async (update: Update) => {
    try {
      await bot.handleUpdate(update);
    } catch (err) {
      options.log.error({ err: (err as Error).message }, 'console update failed');
      write('\n出错了，请再试一次。\n');
    }
  };

  if (options.banner) write(`${options.banner}\n`);
  await handle(textUpdate('/start'));

  const rl = readline.createInterface({ input: options.input, output: tty ? output : undefined, terminal: tty, crlfDelay: Infinity });
  rl.setPrompt('\n你> ');
  rl.on('SIGINT', () => rl.close());
  options.signal?.addEventListener('abort', () => rl.close(), { once: true });
  if (tty) rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (QUIT.has(line.toLowerCase())) break;
    if (line !== '') {
      if (!tty) write(`\n你> ${line}\n`);
      last = undefined;
      const pressed = /^\d{1,2}$/.test(line) ? buttons.find((b) => b.n === Number(line)) : undefined;
      if (pressed?.url) write(`\n  链接：${pressed.url}\n`);
      else if (pressed?.data) {
        if (buttonsMessageId !== undefined) await handle(pressUpdate({ ...pressed, data: pressed.data }, buttonsMessageId));
      } else await handle(textUpdate(line));
    }
    if (tty) rl.prompt();
  }
  rl.close();
  write('\n');
}
