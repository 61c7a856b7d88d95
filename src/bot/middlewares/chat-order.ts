import { sequentialize } from '@grammyjs/runner';
import type { Middleware } from 'grammy';
import type { UpdateJournal } from '../../store/update-journal.ts';
import type { BotContext } from '../context.ts';

/**
 * How updates get their turn. Each update is recorded in the journal on arrival (a stop
 * from then on leaves it to be handled later); one chat's updates are handled one at a
 * time and in order — within this process by sequentialize, across the instances of a
 * fleet by the chat's lock (PostgreSQL); and under that lock an update already handled
 * (a redelivery, here or on another instance) is skipped, so no update is handled twice.
 *
 * Across instances the lock alone gives one at a time, not order: an instance holding a
 * chat's lock first lets an earlier update of that chat that another instance has
 * recorded (and is about to handle) go first, for at most EARLIER_WAIT_MS.
 */

/** Mutual exclusion per chat across a fleet (see store's PostgreSQL chat locks). */
export interface ChatLock {
  /** Runs `fn` while holding the lock of `key`, which one instance at a time holds. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** How long an update waits for an earlier one of its chat held by another instance. */
const EARLIER_WAIT_MS = 5_000;
const EARLIER_POLL_MS = 40;

/**
 * The ordering key of an update's chat: a chat's messages in order; its button presses
 * in order among themselves, without waiting behind an answer; updates without a chat
 * (inline queries) per user.
 */
export function chatKey(ctx: BotContext): string | undefined {
  if (ctx.callbackQuery) return ctx.chat ? `cb${ctx.chat.id}` : `cbu${ctx.from?.id}`;
  if (ctx.chat) return String(ctx.chat.id);
  return ctx.from ? `u${ctx.from.id}` : undefined;
}

export function chatOrder(deps: { journal?: UpdateJournal; chatLock?: ChatLock }): Middleware<BotContext>[] {
  const { journal, chatLock } = deps;
  /** Updates this process holds (recorded, not finished): its own queue orders them. */
  const held = new Set<number>();

  const record: Middleware<BotContext> = async (ctx, next) => {
    const id = ctx.update.update_id;
    await journal?.accept(id, JSON.stringify(ctx.update), chatKey(ctx));
    held.add(id);
    try {
      await next();
    } finally {
      held.delete(id);
    }
  };

  const handleOnce = async (ctx: BotContext, next: () => Promise<void>): Promise<void> => {
    const id = ctx.update.update_id;
    if (journal && (await journal.begin(id, JSON.stringify(ctx.update))) === 'handled') return; // a redelivery
    try {
      await next();
    } finally {
      await journal?.done(id);
    }
  };

  const exclusive: Middleware<BotContext> = async (ctx, next) => {
    const key = chatKey(ctx);
    if (!chatLock || key === undefined) return handleOnce(ctx, next);
    const id = ctx.update.update_id;
    const deadline = Date.now() + EARLIER_WAIT_MS;
    for (;;) {
      const turn = await chatLock.run(key, async () => {
        const earlier = journal && Date.now() < deadline ? await journal.earlierUnhandled(key, id, EARLIER_WAIT_MS, held) : [];
        if (earlier.length > 0) return 'wait' as const;
        await handleOnce(ctx, next);
        return 'done' as const;
      });
      if (turn === 'done') return;
      await new Promise((resolve) => setTimeout(resolve, EARLIER_POLL_MS));
    }
  };

  return [record, sequentialize<BotContext>(chatKey), exclusive];
}
