import { Composer } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';
import { sendHtml } from '../send.ts';
import { helpHtml } from '../texts.ts';

/** /help: how to ask, in private chats, groups and inline. */
export function helpFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command('help', (ctx) => sendHtml(ctx, helpHtml(services, ctx.me.username)));
  return composer;
}
