/**
 * Telegram's content rules, as the Bot API enforces them on what a bot sends:
 * message text (parse modes, trimming, 1..4096 characters), inline keyboards,
 * bot commands, chat actions and inline query results. Every rule throws an
 * {@link ApiError} carrying the Bot API's own description.
 */
import type { BotCommand, InlineKeyboardMarkup, MessageEntity } from 'grammy/types';
import { EntityParseError, parseHtml, sortEntities, checkedLink, type FormattedText } from './bot-api-emulator-html.ts';
import { parseMarkdownLegacy, parseMarkdownV2 } from './bot-api-emulator-markdown.ts';
import { ApiError, optionalString, type Params } from './bot-api-emulator-http.ts';

export const MESSAGE_TEXT_MAX = 4096;
export const CALLBACK_DATA_MAX_BYTES = 64;

export interface RenderedText extends FormattedText {
  /** The text as the bot sent it (HTML or Markdown source), when a parse mode was used. */
  source?: string;
  parseMode?: 'HTML' | 'MarkdownV2' | 'Markdown';
}

/**
 * Turns `text` + `parse_mode` (or explicit `entities`) into what Telegram
 * stores: the plain text, trimmed, with entities. The length limit counts
 * UTF-16 code units of the plain text, as entity offsets do.
 */
export function renderText(params: Params, options: { strictEntities: boolean }): RenderedText {
  const raw = optionalString(params, 'text');
  if (raw === undefined || raw === '') throw ApiError.badRequest('message text is empty');

  const mode = (optionalString(params, 'parse_mode') ?? '').toLowerCase();
  let parsed: FormattedText;
  let parseMode: RenderedText['parseMode'];
  try {
    if (mode === '') parsed = { text: raw, entities: explicitEntities(params.entities, raw.length) };
    else if (mode === 'html') [parsed, parseMode] = [parseHtml(raw, options), 'HTML'];
    else if (mode === 'markdownv2') [parsed, parseMode] = [parseMarkdownV2(raw), 'MarkdownV2'];
    else if (mode === 'markdown') [parsed, parseMode] = [parseMarkdownLegacy(raw), 'Markdown'];
    else throw ApiError.badRequest('unsupported parse_mode');
  } catch (error) {
    if (error instanceof EntityParseError) throw ApiError.badRequest(`can't parse entities: ${error.message}`);
    throw error;
  }

  const trimmed = trim(parsed);
  if (trimmed.text === '') throw ApiError.badRequest('message text is empty');
  if (trimmed.text.length > MESSAGE_TEXT_MAX) throw ApiError.badRequest('message is too long');
  return parseMode === undefined ? trimmed : { ...trimmed, source: raw, parseMode };
}

function explicitEntities(value: unknown, textLength: number): MessageEntity[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw ApiError.badRequest("can't parse entities JSON object");
  return value.filter((entity): entity is MessageEntity => {
    if (typeof entity !== 'object' || entity === null) throw ApiError.badRequest("can't parse entities JSON object");
    const { type, offset, length } = entity as { type?: unknown; offset?: unknown; length?: unknown };
    if (typeof type !== 'string' || !Number.isInteger(offset) || !Number.isInteger(length)) {
      throw ApiError.badRequest("can't parse MessageEntity: Field \"type\", \"offset\" and \"length\" are required");
    }
    return (length as number) > 0 && (offset as number) >= 0 && (offset as number) < textLength;
  });
}

/** Telegram strips leading and trailing whitespace; entities follow the text. */
function trim({ text, entities }: FormattedText): FormattedText {
  const start = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const moved = entities.flatMap((entity) => {
    const begin = Math.max(0, entity.offset - start);
    const end = Math.min(trimmed.length, entity.offset + entity.length - start);
    return end > begin ? [{ ...entity, offset: begin, length: end - begin }] : [];
  });
  return { text: trimmed, entities: sortEntities(moved) };
}

const BUTTON_ACTIONS = [
  'url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query', 'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat', 'copy_text', 'callback_game', 'pay',
] as const;

/**
 * Validates `reply_markup`. Returns the inline keyboard (the only markup a
 * message keeps), or undefined for reply keyboards / removal / force reply.
 */
export function validateReplyMarkup(value: unknown, inlineOnly: boolean): InlineKeyboardMarkup | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw ApiError.badRequest('object expected as reply markup');
  const markup = value as Record<string, unknown>;
  if (!('inline_keyboard' in markup)) {
    if (inlineOnly) throw ApiError.badRequest('inline keyboard expected');
    if (!('keyboard' in markup) && !('remove_keyboard' in markup) && !('force_reply' in markup)) {
      throw ApiError.badRequest('object expected as reply markup');
    }
    return undefined;
  }
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows) || rows.some((row) => !Array.isArray(row))) {
    throw ApiError.badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
  }
  let total = 0;
  for (const row of rows as unknown[][]) {
    total += row.length;
    if (row.length > 8 || total > 100) throw ApiError.badRequest('REPLY_MARKUP_TOO_LONG');
    for (const button of row) validateInlineButton(button);
  }
  return { inline_keyboard: rows as InlineKeyboardMarkup['inline_keyboard'] };
}

function validateInlineButton(value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw ApiError.badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  }
  const button = value as Record<string, unknown>;
  if (!('text' in button)) throw ApiError.badRequest('can\'t parse inline keyboard button: Can\'t find field "text"');
  if (typeof button.text !== 'string') {
    throw ApiError.badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
  }
  if (button.text.trim() === '') throw ApiError.badRequest('BUTTON_TEXT_INVALID');
  const actions = BUTTON_ACTIONS.filter((key) => button[key] !== undefined && button[key] !== '');
  if (actions.length === 0) {
    throw ApiError.badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  }
  if (button.callback_data !== undefined) {
    if (typeof button.callback_data !== 'string') {
      throw ApiError.badRequest('can\'t parse inline keyboard button: Field "callback_data" must be of type String');
    }
    if (Buffer.byteLength(button.callback_data, 'utf8') > CALLBACK_DATA_MAX_BYTES) {
      throw ApiError.badRequest('BUTTON_DATA_INVALID');
    }
  }
  if (button.url !== undefined && (typeof button.url !== 'string' || checkedLink(button.url) === undefined)) {
    throw ApiError.badRequest('BUTTON_URL_INVALID');
  }
}

/** setMyCommands: ≤100 commands, 1-32 of a-z 0-9 _, descriptions of 1-256 characters. */
export function validateCommands(value: unknown): BotCommand[] {
  if (!Array.isArray(value)) throw ApiError.badRequest("can't parse commands JSON object");
  if (value.length > 100) throw ApiError.badRequest('BOT_COMMANDS_TOO_MUCH');
  return value.map((entry: unknown) => {
    const { command, description } = (entry ?? {}) as { command?: unknown; description?: unknown };
    if (typeof command !== 'string' || typeof description !== 'string') {
      throw ApiError.badRequest("can't parse BotCommand: Field \"command\" and \"description\" must be of type String");
    }
    const name = command.startsWith('/') ? command.slice(1) : command;
    if (!/^[a-z0-9_]{1,32}$/.test(name)) throw ApiError.badRequest('BOT_COMMAND_INVALID');
    if (description.trim().length === 0 || description.length > 256) {
      throw ApiError.badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    }
    return { command: name, description };
  });
}

export const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice', 'upload_document',
  'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);

const INLINE_RESULT_TYPES = new Set([
  'article', 'photo', 'gif', 'mpeg4_gif', 'video', 'audio', 'voice', 'document', 'location', 'venue',
  'contact', 'game', 'sticker',
]);

/** answerInlineQuery: an array of ≤50 results with unique ids of 1-64 bytes; article texts follow the text rules. */
export function validateInlineResults(value: unknown, options: { strictEntities: boolean }): void {
  if (!Array.isArray(value)) throw ApiError.badRequest("can't parse results JSON object");
  if (value.length > 50) throw ApiError.badRequest('RESULTS_TOO_MUCH');
  const ids = new Set<string>();
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw ApiError.badRequest("can't parse InlineQueryResult: Object expected");
    const result = entry as Record<string, unknown>;
    if (typeof result.type !== 'string' || !INLINE_RESULT_TYPES.has(result.type)) {
      throw ApiError.badRequest("can't parse InlineQueryResult: Unsupported type");
    }
    const id = result.id;
    if (typeof id !== 'string' || id === '' || Buffer.byteLength(id, 'utf8') > 64) {
      throw ApiError.badRequest('RESULT_ID_INVALID');
    }
    if (ids.has(id)) throw ApiError.badRequest('RESULT_ID_DUPLICATE');
    ids.add(id);
    validateReplyMarkup(result.reply_markup, true);
    if (result.type === 'article') {
      if (typeof result.title !== 'string' || result.title === '') throw ApiError.badRequest('RESULT_TITLE_EMPTY');
      const content = result.input_message_content as Record<string, unknown> | undefined;
      if (content === undefined) throw ApiError.badRequest('can\'t parse InlineQueryResult: Can\'t find field "input_message_content"');
      if ('message_text' in content) {
        renderText({ text: content.message_text, parse_mode: content.parse_mode, entities: content.entities }, options);
      }
    }
  }
}
