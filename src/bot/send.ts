import { GrammyError, type InlineKeyboard } from 'grammy';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import type { BotContext } from './context.ts';
import { MESSAGE_LIMIT, escapeHtml, htmlToText, splitHtml, visibleLength } from './html.ts';

/**
 * Sending formatted text: split under Telegram's limit, buttons on the last part, and
 * recovery from the two 400s that formatting can cause (message too long: split smaller;
 * can't parse entities: send plain text). Other errors go to the error boundary.
 */

export interface SendOptions {
  keyboard?: InlineKeyboard | InlineKeyboardMarkup;
  /** Reply to this message (the first part only); sent anyway if it is gone. */
  replyTo?: number;
}

export function isTelegramError(err: unknown, code: number, pattern?: RegExp): err is GrammyError {
  return err instanceof GrammyError && err.error_code === code && (!pattern || pattern.test(err.description));
}
export const tooLong = (err: unknown) => isTelegramError(err, 400, /message is too long|MESSAGE_TOO_LONG/i);
export const badEntities = (err: unknown) => isTelegramError(err, 400, /can't parse entities/i);
export const notModified = (err: unknown) => isTelegramError(err, 400, /message is not modified/i);

/** Keeps a reply in the forum topic it was asked in. */
function threadOf(ctx: BotContext): { message_thread_id?: number } {
  const msg = ctx.msg;
  return msg?.is_topic_message && msg.message_thread_id !== undefined ? { message_thread_id: msg.message_thread_id } : {};
}

function markupOf(keyboard: SendOptions['keyboard']): { reply_markup?: InlineKeyboardMarkup } {
  return keyboard ? { reply_markup: keyboard } : {};
}

/** Plain text in pieces under the limit (split like HTML, then decoded). */
function plainParts(text: string, limit: number): string[] {
  return splitHtml(escapeHtml(text), limit).map(htmlToText);
}

export async function sendHtml(ctx: BotContext, html: string, options: SendOptions = {}): Promise<Message.TextMessage[]> {
  const parts = splitHtml(html);
  const sent: Message.TextMessage[] = [];
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    sent.push(...(await sendPart(ctx, part, { ...(last && options.keyboard ? { keyboard: options.keyboard } : {}), ...(i === 0 && options.replyTo ? { replyTo: options.replyTo } : {}) })));
  }
  return sent;
}

async function sendPart(ctx: BotContext, part: string, options: SendOptions, limit = MESSAGE_LIMIT): Promise<Message.TextMessage[]> {
  const chatId = ctx.chat!.id;
  const common = {
    ...threadOf(ctx),
    ...(options.replyTo ? { reply_parameters: { message_id: options.replyTo, allow_sending_without_reply: true } } : {}),
  };
  try {
    return [await ctx.api.sendMessage(chatId, part, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...common, ...markupOf(options.keyboard) })];
  } catch (err) {
    if (tooLong(err) && limit > 256) {
      ctx.log.warn({ chars: visibleLength(part), limit }, 'telegram said message too long; splitting smaller');
      const pieces = splitHtml(part, Math.floor(limit / 2));
      const out: Message.TextMessage[] = [];
      for (const [i, piece] of pieces.entries()) {
        const o = { ...(i === pieces.length - 1 && options.keyboard ? { keyboard: options.keyboard } : {}), ...(i === 0 && options.replyTo ? { replyTo: options.replyTo } : {}) };
        out.push(...(await sendPart(ctx, piece, o, Math.floor(limit / 2))));
      }
      return out;
    }
    if (badEntities(err)) {
      ctx.log.warn({ err: (err as GrammyError).description }, 'telegram could not parse our HTML; sending plain text');
      const pieces = plainParts(htmlToText(part), limit);
      const out: Message.TextMessage[] = [];
      for (const [i, piece] of pieces.entries()) {
        const markup = i === pieces.length - 1 ? markupOf(options.keyboard) : {};
        out.push(await ctx.api.sendMessage(chatId, piece, { link_preview_options: { is_disabled: true }, ...(i === 0 ? common : threadOf(ctx)), ...markup }));
      }
      return out;
    }
    throw err;
  }
}

/** Replaces a message's text (and buttons); an unchanged message is fine, unparsable HTML falls back to plain text. */
export async function editHtml(ctx: BotContext, messageId: number, html: string, keyboard?: SendOptions['keyboard']): Promise<void> {
  const chatId = ctx.chat!.id;
  try {
    await ctx.api.editMessageText(chatId, messageId, html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...markupOf(keyboard) });
  } catch (err) {
    if (notModified(err)) return;
    if (badEntities(err)) {
      ctx.log.warn({ err: (err as GrammyError).description }, 'telegram could not parse our HTML; editing to plain text');
      await ctx.api.editMessageText(chatId, messageId, htmlToText(html).slice(0, MESSAGE_LIMIT), { link_preview_options: { is_disabled: true }, ...markupOf(keyboard) });
      return;
    }
    throw err;
  }
}

/**
 * Shows "typing…" now and every few seconds until stopped. Fire-and-forget: a failing
 * chat action is logged at debug level and never delays or fails the answer.
 */
export function startTyping(ctx: BotContext, everyMs = 4500): () => void {
  const chatId = ctx.chat?.id;
  if (chatId === undefined) return () => {};
  const thread = threadOf(ctx);
  const send = () => {
    ctx.api.sendChatAction(chatId, 'typing', thread).catch((err: unknown) => ctx.log.debug({ err: (err as Error).message }, 'chat action failed'));
  };
  send();
  const timer = setInterval(send, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
