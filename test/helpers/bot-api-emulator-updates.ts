/**
 * The bot's update queue and getUpdates long polling, with Telegram's
 * semantics: `offset` confirms (forgets) earlier updates, a negative offset
 * keeps only the last ones, `allowed_updates` persists until changed, an idle
 * poll is held for `timeout` seconds and answered as soon as an update
 * arrives, and a second poll terminates a held one with 409 Conflict.
 */
import type { Update } from 'grammy/types';
import { optionalInteger, type Outcome, type Params } from './bot-api-emulator-http.ts';

/** What Telegram delivers when allowed_updates is empty or never given. */
const DEFAULT_UPDATE_TYPES: ReadonlySet<string> = new Set([
  'message', 'edited_message', 'channel_post', 'edited_channel_post', 'inline_query', 'chosen_inline_result',
  'callback_query', 'shipping_query', 'pre_checkout_query', 'poll', 'poll_answer', 'my_chat_member',
  'chat_join_request', 'chat_boost', 'removed_chat_boost', 'business_connection', 'business_message',
  'edited_business_message', 'deleted_business_messages', 'purchased_paid_media',
]);

const CONFLICT = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';

interface HeldPoll {
  limit: number;
  answer: (outcome: Outcome) => void;
  timer: NodeJS.Timeout;
}

export class UpdateQueue {
  private queue: Update[] = [];
  private nextUpdateId = 1;
  private allowed = DEFAULT_UPDATE_TYPES;
  private held: HeldPoll | undefined;
  /** Called after each push (the webhook delivery starts). */
  onPush: (() => void) | undefined;

  get pendingCount(): number {
    return this.queue.length;
  }

  /** Adds an update (numbering it) and wakes a held poll that may take it. */
  push(body: Record<string, unknown>): Update {
    const update = { update_id: this.nextUpdateId++, ...body } as unknown as Update;
    this.queue.push(update);
    this.onPush?.();
    const held = this.held;
    if (held !== undefined) {
      const batch = this.batch(held.limit);
      if (batch.length > 0) this.answerHeld(held, { ok: true, result: batch });
    }
    return update;
  }

  /** The next deliverable update, removed from the queue (webhook delivery). */
  shift(): Update | undefined {
    return this.batch(1).length > 0 ? this.queue.shift() : undefined;
  }

  /** deleteWebhook / setWebhook with drop_pending_updates. */
  dropPending(): void {
    this.queue = [];
  }

  /**
   * Serves one getUpdates call: `answer` is called now, or later for a held
   * poll. `onAbort` registers a callback for a client that gives up (grammY
   * aborts its poll in bot.stop()). With `noHold` (closing) it never holds.
   */
  getUpdates(params: Params, answer: (outcome: Outcome) => void, onAbort: (listener: () => void) => void, noHold: boolean): void {
    const offset = optionalInteger(params, 'offset') ?? 0;
    const limit = Math.min(100, Math.max(1, optionalInteger(params, 'limit') ?? 100));
    const timeout = Math.max(0, optionalInteger(params, 'timeout') ?? 0);
    this.allow(params.allowed_updates);

    if (offset > 0) this.queue = this.queue.filter((update) => update.update_id >= offset);
    else if (offset < 0) this.queue = this.queue.slice(offset);
    if (this.held !== undefined) this.answerHeld(this.held, { ok: false, error: { error_code: 409, description: CONFLICT } });

    const batch = this.batch(limit);
    if (batch.length > 0 || timeout === 0 || noHold) return answer({ ok: true, result: batch });
    const held: HeldPoll = { limit, answer, timer: setTimeout(() => this.answerHeld(held, { ok: true, result: [] }), timeout * 1000) };
    this.held = held;
    onAbort(() => this.release(held));
  }

  /** allowed_updates, as getUpdates and setWebhook take it: persists until changed. */
  allow(allowed: unknown): void {
    if (Array.isArray(allowed)) this.allowed = allowed.length === 0 ? DEFAULT_UPDATE_TYPES : new Set(allowed.map(String));
  }

  /** Answers a held poll with an empty batch (on close). */
  releaseHeld(): void {
    if (this.held !== undefined) this.answerHeld(this.held, { ok: true, result: [] });
  }

  /** The first `limit` deliverable updates; updates of types not allowed are dropped, as Telegram never sends them. */
  private batch(limit: number): Update[] {
    this.queue = this.queue.filter((update) => this.allowed.has(updateType(update)));
    return this.queue.slice(0, limit);
  }

  private answerHeld(held: HeldPoll, outcome: Outcome): void {
    this.release(held);
    held.answer(outcome);
  }

  private release(held: HeldPoll): void {
    clearTimeout(held.timer);
    if (this.held === held) this.held = undefined;
  }
}

function updateType(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}
