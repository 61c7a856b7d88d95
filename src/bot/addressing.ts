import type { Message } from 'grammy/types';
import type { BotContext } from './context.ts';

/**
 * Whether a group message is meant for the bot: it mentions the bot, replies to one of
 * the bot's messages, or is a command addressed to it by name. In a private chat every
 * message is.
 */
export function addressedToBot(ctx: BotContext): boolean {
  const msg = ctx.msg;
  if (!msg || !ctx.chat) return false;
  if (ctx.chat.type === 'private') return true;
  if (msg.reply_to_message?.from?.id === ctx.me.id) return true;
  return mentionsBot(msg, ctx.me) || commandForBot(msg, ctx.me.username) === 'named';
}

export function mentionsBot(msg: Message, me: { id: number; username: string }): boolean {
  const username = me.username;
  const text = msg.text ?? msg.caption ?? '';
  const entities = msg.entities ?? msg.caption_entities ?? [];
  return entities.some(
    (e) =>
      (e.type === 'mention' && text.slice(e.offset, e.offset + e.length).toLowerCase() === `@${username.toLowerCase()}`) ||
      (e.type === 'text_mention' && e.user.id === me.id),
  );
}

/** 'named': `/cmd@thisbot`; 'bare': `/cmd` (meant for every bot in a group); undefined: not a command or for another bot. */
export function commandForBot(msg: Message, username: string): 'named' | 'bare' | undefined {
  const text = msg.text ?? '';
  const cmd = msg.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!cmd) return undefined;
  const at = text.slice(0, cmd.length).split('@')[1];
  if (at === undefined) return 'bare';
  return at.toLowerCase() === username.toLowerCase() ? 'named' : undefined;
}

/** The question in a message that mentions the bot: the text without the mention. */
export function withoutMention(text: string, username: string): string {
  return text.replace(new RegExp(`@${username}\\b`, 'gi'), ' ').replace(/\s+/g, ' ').trim();
}
