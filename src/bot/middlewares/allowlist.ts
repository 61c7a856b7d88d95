import type { NextFunction } from 'grammy';
import { addressedToBot } from '../addressing.ts';
import type { BotContext, BotServices } from '../context.ts';
import { REFUSAL } from '../texts.ts';

/**
 * ALLOWED_CHAT_IDS (when set): other chats get a polite refusal and nothing else — in
 * groups only when the bot is addressed or added, so it never chatters. Inline queries
 * are allowed for users whose private chat is listed.
 */
export function allowlist(services: BotServices) {
  const allowed = new Set(services.telegram.allowedChatIds);
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    if (allowed.size === 0) return next();
    const id = ctx.chat?.id ?? ctx.from?.id;
    if (id !== undefined && allowed.has(id)) return next();
    ctx.log.info({ chat: ctx.chat?.id, user: ctx.from?.id }, 'chat not allowed');
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: REFUSAL });
    } else if (ctx.inlineQuery) {
      await ctx.answerInlineQuery([], { cache_time: 60, is_personal: true });
    } else if (ctx.myChatMember && ctx.chat && ctx.chat.type !== 'private' && ['member', 'administrator'].includes(ctx.myChatMember.new_chat_member.status)) {
      await ctx.api.sendMessage(ctx.chat.id, REFUSAL);
    } else if (ctx.msg && ctx.chat && !ctx.editedMessage && addressedToBot(ctx)) {
      await ctx.reply(REFUSAL);
    }
  };
}
