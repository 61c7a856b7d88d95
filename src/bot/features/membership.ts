import { Composer } from 'grammy';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';

/** The bot joins a group (greets once) or is blocked / removed (remembered, so nothing more is sent there). */
export function membershipFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on('my_chat_member', async (ctx) => {
    const { old_chat_member: before, new_chat_member: after } = ctx.myChatMember;
    const inside = (s: string) => s === 'member' || s === 'administrator' || s === 'creator';
    if (inside(after.status) && !inside(before.status)) {
      ctx.log.info({ chat: ctx.chat.id, type: ctx.chat.type }, 'bot added to chat');
      if (ctx.chat.type === 'private') return;
      const at = `@${escapeHtml(ctx.me.username)}`;
      await ctx.api.sendMessage(ctx.chat.id, `大家好！我回答天津市区级规划的问题，并标出原文出处。\n在群里 ${at} 加问题、回复我的消息，或用 /ask 问题 来提问。`, { parse_mode: 'HTML' });
    } else if (!inside(after.status)) {
      ctx.log.info({ chat: ctx.chat.id, status: after.status }, 'bot removed or blocked');
      await services.store.markBlocked(ctx.chat.id);
    }
  });
  return composer;
}
