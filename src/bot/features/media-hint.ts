import { Composer } from 'grammy';
import { addressedToBot } from '../addressing.ts';
import type { BotContext } from '../context.ts';
import { sendHtml } from '../send.ts';
import { MEDIA_HINT } from '../texts.ts';

/** Stickers, photos, voice, files … get a short hint (in groups only when meant for the bot). */
export function mediaHintFeature(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer
    .on(['message:sticker', 'message:photo', 'message:voice', 'message:video', 'message:video_note', 'message:audio', 'message:document', 'message:animation', 'message:location', 'message:contact', 'message:poll'])
    .filter(addressedToBot, (ctx) => sendHtml(ctx, MEDIA_HINT, ctx.chat.type === 'private' ? {} : { replyTo: ctx.msg.message_id }));
  return composer;
}
