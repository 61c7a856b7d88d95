import { InputFile, type InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import type { ChartRenderer } from '../chart/chart-renderer.ts';
import type { ChartSpec } from '../chart/chart-spec.ts';
import type { BotContext } from './context.ts';
import { escapeHtml, htmlToText, visibleLength } from './html.ts';
import { isTelegramError } from './send.ts';

/**
 * Sends a chart as a photo. Telegram keeps what it was sent: a chart it already has
 * (same content key) is sent again by its file_id instead of being uploaded again
 * (ChartRenderer.publishOnce); a file_id Telegram no longer accepts is forgotten and the
 * PNG uploaded. Rendering errors (ChartError) reach the caller, which falls back to text.
 */

export const CAPTION_LIMIT = 1024;

/** A caption within Telegram's 1024 characters: as it is, or (rarely: very long titles) cut as plain text. */
export function fitCaption(html: string): string {
  if (visibleLength(html) <= CAPTION_LIMIT) return html;
  return `${escapeHtml([...htmlToText(html)].slice(0, CAPTION_LIMIT - 1).join(''))}…`;
}

/** A photo Telegram no longer knows by that file_id. */
export const staleFileId = (err: unknown) => isTelegramError(err, 400, /file identifier|FILE_REFERENCE|wrong file/i);

export class ChartPhotos {
  constructor(readonly renderer: ChartRenderer) {}

  async send(ctx: BotContext, spec: ChartSpec, captionHtml: string, options: { keyboard?: InlineKeyboard; replyTo?: number } = {}): Promise<Message.PhotoMessage> {
    const chatId = ctx.chat!.id;
    const t0 = performance.now();
    ctx.api.sendChatAction(chatId, 'upload_photo').catch((err: unknown) => ctx.log.debug({ err: (err as Error).message }, 'chat action failed'));
    const chart = await this.renderer.render(spec);
    if (chart.missing.length > 0) ctx.log.warn({ chart: chart.key, missing: chart.missing.join('') }, 'chart font lacks characters');
    const extra = {
      caption: fitCaption(captionHtml),
      parse_mode: 'HTML' as const,
      ...(options.keyboard ? { reply_markup: options.keyboard } : {}),
      ...(options.replyTo ? { reply_parameters: { message_id: options.replyTo, allow_sending_without_reply: true } } : {}),
    };
    let sent: Message.PhotoMessage | undefined;
    let reused = false;
    for (let attempt = 0; !sent; attempt++) {
      const fileId = await this.renderer.publishOnce(chart.key, async () => {
        sent = await ctx.api.sendPhoto(chatId, new InputFile(chart.png, `chart-${chart.key}.png`), extra);
        return sent.photo?.at(-1)?.file_id;
      });
      if (sent) break;
      try {
        sent = await ctx.api.sendPhoto(chatId, fileId!, extra);
        reused = true;
      } catch (err) {
        // Telegram forgot the file: upload it again (once).
        if (!staleFileId(err) || attempt > 0) throw err;
        this.renderer.setPublishedId(chart.key, undefined);
      }
    }
    ctx.log.info({ chart: chart.key, bytes: chart.png.length, reused, ms: Math.round(performance.now() - t0) }, 'chart sent');
    return sent!;
  }
}
