import { BotError, GrammyError, HttpError } from 'grammy';
import type { BotContext, BotServices } from './context.ts';
import { APOLOGY } from './texts.ts';

/**
 * The one place update failures end: logged with the update id (errors described
 * without payloads; the logger scrubs secrets from every line), answered with a short
 * apology, and the bot keeps running. A 403 means the chat blocked or removed the bot:
 * remembered, nothing more is sent.
 */

export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof GrammyError) return { type: 'telegram', method: err.method, code: err.error_code, description: err.description };
  if (err instanceof HttpError) return { type: 'network', message: err.message, cause: (err.error as Error)?.message };
  if (err instanceof Error) return { type: err.name, message: err.message, stack: err.stack };
  return { type: typeof err, message: String(err) };
}

export function errorHandler(services: BotServices) {
  return async (error: BotError<BotContext>): Promise<void> => {
    const ctx = error.ctx;
    const err = error.error;
    const log = ctx.log ?? services.log.child({ update_id: ctx.update.update_id });
    if (err instanceof GrammyError && err.error_code === 403 && ctx.chat) {
      await services.store.markBlocked(ctx.chat.id);
      log.info({ chat: ctx.chat.id, err: describeError(err) }, 'chat unreachable (403); marked blocked');
      return;
    }
    services.metrics.errors++;
    log.error({ err: describeError(err) }, 'update failed');
    try {
      if (ctx.inlineQuery) {
        await ctx.answerInlineQuery([], { cache_time: 5 });
        return;
      }
      // A button press may already have been answered: then the apology goes to the chat.
      if (ctx.callbackQuery && (await ctx.answerCallbackQuery({ text: APOLOGY }).then(() => true, () => false))) return;
      if (ctx.chat && ctx.msg) {
        const replyTo = ctx.chat.type === 'private' || ctx.callbackQuery ? {} : { reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true } };
        await ctx.api.sendMessage(ctx.chat.id, APOLOGY, replyTo);
      }
    } catch (again) {
      log.warn({ err: describeError(again) }, 'could not send the apology');
    }
  };
}
