import { Composer } from 'grammy';
import { commandForBot } from '../addressing.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { sendHtml } from '../send.ts';
import { EXPIRED_BUTTON, helpHtml } from '../texts.ts';

/**
 * Installed last: what no feature handled. An unknown command gets the help (in groups
 * only when addressed to this bot by name, since a bare /cmd is meant for every bot);
 * an unknown or outdated button is answered so the client stops spinning.
 */
export function unhandledFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on('message:text', async (ctx) => {
    const addressed = commandForBot(ctx.msg, ctx.me.username);
    if (addressed === undefined || (ctx.chat.type !== 'private' && addressed !== 'named')) return;
    const command = ctx.msg.text.split(/\s/)[0]!.split('@')[0]!;
    await sendHtml(ctx, `没有 ${escapeHtml(command)} 这个命令。\n\n${helpHtml(services, ctx.me.username)}`);
  });
  composer.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: EXPIRED_BUTTON }));
  return composer;
}
