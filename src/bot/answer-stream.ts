import type { InlineKeyboard } from 'grammy';
import type { BotContext } from './context.ts';
import { splitHtml } from './html.ts';
import { editHtml, sendHtml, type SendOptions } from './send.ts';
import { partialHtml } from './format.ts';

/**
 * Shows an answer while a model writes it: the first text is sent as a message, later
 * text replaces it at most once per `intervalMs` (Telegram allows about one edit a second
 * per chat), and `finish` puts the verified answer in its place — split into more
 * messages if needed, buttons on the last. Without partial text, `finish` just sends.
 * A failing preview is logged and never fails the answer.
 */
export class AnswerStream {
  private messageId: number | undefined;
  private shown = '';
  private pending: string | undefined;
  private lastAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: BotContext,
    private readonly intervalMs: number,
    private readonly options: { replyTo?: number; prefix?: string; now?: () => number } = {},
  ) {}

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The answer text so far (unverified). */
  update(text: string): void {
    if (this.closed || text.trim() === '') return;
    this.pending = text;
    if (this.timer) return;
    const wait = Math.max(0, this.lastAt + this.intervalMs - this.now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next !== undefined) this.chain = this.chain.then(() => this.show(next));
    }, wait);
  }

  private async show(text: string): Promise<void> {
    if (this.closed) return;
    const html = (this.options.prefix ?? '') + partialHtml(text);
    if (html === this.shown) return;
    this.lastAt = this.now;
    try {
      if (this.messageId === undefined) {
        const [m] = await sendHtml(this.ctx, html, this.options.replyTo ? { replyTo: this.options.replyTo } : {});
        this.messageId = m?.message_id;
      } else {
        await editHtml(this.ctx, this.messageId, html);
      }
      this.shown = html;
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'streaming preview failed');
    }
    this.lastAt = this.now;
  }

  /** Sends (or edits in) the final answer; returns the id of the message carrying the buttons. */
  async finish(html: string, keyboard: InlineKeyboard): Promise<number | undefined> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
    const send: SendOptions = { keyboard, ...(this.options.replyTo ? { replyTo: this.options.replyTo } : {}) };
    if (this.messageId === undefined) return (await sendHtml(this.ctx, html, send)).at(-1)?.message_id;
    const [first, ...rest] = splitHtml(html);
    try {
      await editHtml(this.ctx, this.messageId, first ?? html, rest.length === 0 ? keyboard : undefined);
    } catch (err) {
      // The preview cannot be replaced (deleted, too old): send the answer afresh.
      this.ctx.log.warn({ err: (err as Error).message }, 'final edit failed; sending the answer as a new message');
      await this.ctx.api.deleteMessage(this.ctx.chat!.id, this.messageId).catch(() => {});
      return (await sendHtml(this.ctx, html, send)).at(-1)?.message_id;
    }
    if (rest.length === 0) return this.messageId;
    return (await sendHtml(this.ctx, rest.join(''), { keyboard })).at(-1)?.message_id ?? this.messageId;
  }
}
