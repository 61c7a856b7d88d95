/**
 * Webhook delivery as Telegram does it: once setWebhook has a URL, each update is POSTed
 * there as JSON with the X-Telegram-Bot-Api-Secret-Token header, up to `max_connections`
 * at a time, oldest first. A 2xx confirms it; anything else (an error status, a refused
 * or dropped connection, no answer within the timeout) has it delivered again after a
 * pause — the bot must recognise a redelivery.
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
  private readonly retries: Update[] = [];
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
    return this.inFlight + this.waiting + this.retries.length;
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
    while (this.target && !this.stopped && this.inFlight < this.target.maxConnections) {
      const update = this.retries.shift() ?? this.take();
      if (update === undefined) return;
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
    if (status >= 200 && status < 300) return this.kick();
    this.waiting++;
    setTimeout(() => {
      this.waiting--;
      this.retries.push(update);
      this.kick();
    }, this.options.retryMs).unref();
    this.kick();
  }
}
