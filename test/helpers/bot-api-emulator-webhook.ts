/**
 * Webhook delivery as Telegram does it: once setWebhook has a URL, each update is POSTed
 * there as JSON with the X-Telegram-Bot-Api-Secret-Token header, up to `max_connections`
 * at a time, oldest first; one chat's updates in sequence (the next once the previous is
 * confirmed), different chats' concurrently. A 2xx confirms an update; anything else (an
 * error status, a refused or dropped connection, no answer within the timeout) has it
 * delivered again after a pause, holding up its chat's later updates — the bot must
 * recognise a redelivery.
 */
import type { Update } from 'grammy/types';

export interface WebhookTarget {
  url: string;
  secretToken?: string;
  maxConnections: number;
}

export interface Delivery {
  updateId: number;
  /** HTTP status, or 0 when the connection failed or timed out. */
  status: number;
  at: number;
}

export class WebhookDelivery {
  /** Every delivery attempt, in order of completion. */
  readonly attempts: Delivery[] = [];
  private target: WebhookTarget | undefined;
  private inFlight = 0;
  /** Failed deliveries pausing before their next attempt. */
  private waiting = 0;
  /** Taken from the queue, not yet handed out (their chat is busy). */
  private readonly waitingForChat: Update[] = [];
  /** Chats with an update handed out and not yet confirmed. */
  private readonly busyChats = new Set<string>();
  private stopped = false;

  constructor(
    /** The next update to deliver (removed from the queue), or undefined. */
    private readonly take: () => Update | undefined,
    private readonly options: { retryMs: number; timeoutMs: number },
  ) {}

  get active(): boolean {
    return this.target !== undefined;
  }

  /** Updates handed out and not yet confirmed. */
  get unconfirmed(): number {
    return this.inFlight + this.waiting + this.waitingForChat.length;
  }

  set(target: WebhookTarget | undefined): void {
    this.target = target;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Starts deliveries while there are updates and free connections. */
  kick(): void {
    if (!this.target || this.stopped) return;
    for (let u = this.take(); u !== undefined; u = this.take()) this.waitingForChat.push(u);
    while (this.target && !this.stopped && this.inFlight < this.target.maxConnections) {
      const i = this.waitingForChat.findIndex((u) => !this.busyChats.has(chatOf(u)));
      if (i < 0) return;
      const [update] = this.waitingForChat.splice(i, 1) as [Update];
      this.busyChats.add(chatOf(update));
      this.inFlight++;
      void this.deliver(this.target, update);
    }
  }

  private async deliver(target: WebhookTarget, update: Update): Promise<void> {
    let status = 0;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(target.secretToken ? { 'x-telegram-bot-api-secret-token': target.secretToken } : {}) },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = 0;
    }
    this.attempts.push({ updateId: update.update_id, status, at: Date.now() });
    this.inFlight--;
    if (status >= 200 && status < 300) {
      this.busyChats.delete(chatOf(update));
      return this.kick();
    }
    this.waiting++;
    setTimeout(() => {
      this.waiting--;
      this.busyChats.delete(chatOf(update));
      this.waitingForChat.unshift(update);
      this.kick();
    }, this.options.retryMs).unref();
    this.kick();
  }
}

/** The chat an update belongs to, for ordering (a user's for updates without a chat). */
function chatOf(update: Update): string {
  const chat = update.message?.chat ?? update.callback_query?.message?.chat ?? update.my_chat_member?.chat;
  if (chat) return `c${chat.id}`;
  const from = update.callback_query?.from ?? update.inline_query?.from;
  return from ? `u${from.id}` : `x${update.update_id}`;
}
