import { DeliveryError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { Delivery, DigestStore, Subscription } from '../store/digest-store.ts';
import type { DigestContent } from './digest-content.ts';
import type { DigestBuilder } from './digest-builder.ts';
import { latestSlotAtOrBefore, localDateOf, nextFreeSlot } from './schedule.ts';

/**
 * Sends what is due: a tick over next_run_at. Each pass chooses the digests of the
 * subscriptions whose slot has come and delivers every undelivered one, several at a
 * time (the bot's outgoing throttle paces them within Telegram's limits).
 *
 * The guarantee, per subscription and local date:
 * - At most one ledger row, ever (UNIQUE (subscription, local date)). It is written with
 *   the chosen content in the same transaction that records those passages as received
 *   and moves next_run_at on, so no crash can leave a day chosen twice, chosen without
 *   its passages counted, or counted without a ledger row.
 * - The row is marked `sending` (committed) before Telegram is called and `sent` after
 *   Telegram accepted every part. A process killed in between leaves it `sending`; the
 *   next start sends it again, from the first part not recorded as accepted, with the
 *   same stored content. So a day's digest is never lost, and a crash (or a network
 *   error after Telegram took the message) can repeat at most the one message Telegram
 *   may have accepted before the crash — never a second, different digest.
 * - After downtime a subscription gets one catch-up digest for the last slot it missed,
 *   not one per missed day.
 * - Telegram's answers: 429 pauses every send for retry_after and retries the digest
 *   (not counted as an attempt); 403 (blocked, removed) stops that chat's subscriptions
 *   and drops its undelivered digests, releasing their passages; anything else is retried
 *   with exponential back-off on later ticks, and after `maxAttempts` the digest is
 *   dropped (logged as an error) and its passages released for a later digest.
 *
 * Several instances on one PostgreSQL database (each with its own `instance` name) share
 * the work without doubling it: each due subscription's slot is claimed by one scheduler
 * (its next_run_at moved from the value read to a lease time, compare-and-set) before it
 * composes, and each ledger row by one (claimDelivery: owner and lease, conditional
 * UPDATE) before it sends; the unique (subscription, local date) key settles any race to
 * create the day's row. A scheduler that dies holding a claim leaves it to the others once
 * the lease (`claimLeaseMs`, renewed as each part is accepted) runs out; they resend from
 * the first part not recorded. What stays possible is the one message Telegram accepted
 * just before the kill and whose acceptance was not yet recorded: it goes out twice.
 * A scheduler that restarts under the same `instance` name takes its own claims back at
 * once (SQLite's one process is always "local").
 */

export interface DigestClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: DigestClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** A digest to put in a chat: the bot renders `content` and sends the parts from `partsSent` on. */
export interface OutgoingDigest {
  chatId: number;
  deliveryId: number;
  content: DigestContent;
  partsSent: number;
}

/**
 * How the digest reaches Telegram (main.ts builds it from the bot's API). Calls and
 * awaits `onPartSent` as each message is accepted (it records the part before the next
 * is sent); throws DeliveryError when Telegram refuses.
 */
export type DigestSend = (digest: OutgoingDigest, onPartSent: (part: number, messageId: number) => Promise<void>) => Promise<void>;

export interface SchedulerOptions {
  /** Longest pause between two passes. */
  tickMs: number;
  /** Digests in flight at once. */
  concurrency: number;
  /** Attempts (429s not counted) before a digest is dropped. */
  maxAttempts: number;
  /** Back-off after a failed attempt: base × 2^(attempts−1), at most max. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a claim on a slot or a digest holds without news from its holder (renewed per part sent). */
  claimLeaseMs: number;
}

export const SCHEDULER_DEFAULTS: SchedulerOptions = {
  tickMs: 30_000,
  concurrency: 32,
  maxAttempts: 10,
  retryBaseMs: 60_000,
  retryMaxMs: 6 * 3_600_000,
  claimLeaseMs: 5 * 60_000,
};

export interface TickReport {
  /** Digests chosen (ledger rows written) in this pass. */
  chosen: number;
  /** Due subscriptions whose day already had a digest. */
  skipped: number;
  sent: number;
  /** Failed attempts scheduled for a later pass. */
  retried: number;
  /** 429s waited out. */
  rateLimited: number;
  /** Chats whose subscriptions were stopped (403). */
  stoppedChats: number;
  dropped: number;
  /** Subscriptions whose digest could not be composed (retried later). */
  failedChoices: number;
  /** Slots and digests another scheduler claimed first. */
  claimedElsewhere: number;
}

export interface SchedulerDeps {
  store: DigestStore;
  builder: DigestBuilder;
  send: DigestSend;
  log?: Logger;
  clock?: DigestClock;
  options?: Partial<SchedulerOptions>;
  /**
   * This scheduler's name in claims: unique per running instance when several share a
   * database (main.ts: host and process id); the default "local" suits one process.
   */
  instance?: string;
  /** Test hook: runs after a digest is chosen (committed) and before it is sent. */
  afterChoose?: (deliveryId: number) => Promise<void> | void;
}

type Work = { kind: 'choose'; sub: Subscription } | { kind: 'deliver'; id: number };

/** A due subscription this scheduler has claimed: its next_run_at now holds `leaseUntil`. */
type ClaimedSlot = { sub: Subscription; leaseUntil: number };

export class DigestScheduler {
  readonly options: SchedulerOptions;
  private readonly store: DigestStore;
  private readonly log: Logger;
  private readonly clock: DigestClock;
  private running: Promise<TickReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private pauseUntil = 0;
  private readonly instance: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.options = { ...SCHEDULER_DEFAULTS, ...deps.options };
    this.store = deps.store;
    this.log = deps.log ?? silentLogger();
    this.clock = deps.clock ?? realClock;
    this.instance = deps.instance ?? 'local';
  }

  /** Runs passes until stop(): at once, then whenever something is due (at most tickMs apart). */
  start(): void {
    this.stopping = false;
    const loop = async () => {
      this.timer = undefined;
      try {
        await this.tick();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'digest: pass failed');
      }
      if (this.stopping) return;
      const wake = await this.store.nextWake().catch(() => undefined);
      const delay = Math.min(this.options.tickMs, Math.max(250, (wake ?? Infinity) - this.clock.now()));
      this.timer = setTimeout(() => void loop(), delay);
    };
    void loop();
    this.log.info({ concurrency: this.options.concurrency }, 'digest scheduler started');
  }

  /** Stops taking work; resolves when the digests in flight are settled (the rest wait for the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One pass (passes never overlap: a call during a pass waits for it). */
  tick(): Promise<TickReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<TickReport> {
    const report: TickReport = { chosen: 0, skipped: 0, sent: 0, retried: 0, rateLimited: 0, stoppedChats: 0, dropped: 0, failedChoices: 0, claimedElsewhere: 0 };
    const now = this.clock.now();
    const added = await this.deps.builder.syncDocuments(now);
    if (added.length > 0) this.log.info({ files: added }, 'digest: new documents');
    const queue: Work[] = [
      ...(await this.store.pendingDeliveries(now, { owner: this.instance })).map((d): Work => ({ kind: 'deliver', id: d.id })),
      ...(await this.store.due(now)).map((sub): Work => ({ kind: 'choose', sub })),
    ];
    if (queue.length === 0) return report;
    const t0 = performance.now();
    const worker = async () => {
      for (let work = queue.shift(); work && !this.stopping; work = queue.shift()) {
        // The per-recipient boundary: one subscription's failure never stops the others.
        let slot: ClaimedSlot | undefined;
        try {
          if (work.kind === 'choose') {
            slot = await this.claim(work.sub, report);
            if (!slot) continue;
          }
          const id = slot ? await this.choose(slot.sub, report) : work.kind === 'deliver' ? work.id : undefined;
          if (id !== undefined && (await this.deliver(id, report)) === 'again') queue.push({ kind: 'deliver', id });
        } catch (err) {
          if (slot && (await this.store.subscription(slot.sub.id).catch(() => undefined))?.nextRunAt === slot.leaseUntil) {
            // Composing failed (nothing was written): try again later.
            report.failedChoices++;
            await this.store.postpone(slot.sub.id, this.clock.now() + this.options.retryBaseMs).catch(() => {});
            this.log.warn({ subscription: slot.sub.id, err: (err as Error).message }, 'digest: could not compose; will retry');
          } else {
            this.log.error({ work: work.kind, id: work.kind === 'deliver' ? work.id : work.sub.id, err: (err as Error).message }, 'digest: unexpected failure');
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    this.log.info({ ...report, ms: Math.round(performance.now() - t0) }, 'digest pass');
    return report;
  }

  /** Claims a due subscription's slot for this scheduler, or undefined when another took it first. */
  private async claim(sub: Subscription, report: TickReport): Promise<ClaimedSlot | undefined> {
    const leaseUntil = this.clock.now() + this.options.claimLeaseMs;
    if (await this.store.claimDue(sub, leaseUntil)) return { sub, leaseUntil };
    report.claimedElsewhere++;
    return undefined;
  }

  /** Writes the day's ledger row (with its content); returns its id, or undefined when there is nothing to send. */
  private async choose(sub: Subscription, report: TickReport): Promise<number | undefined> {
    const now = this.clock.now();
    const slot = latestSlotAtOrBefore(now, sub.sendTime, sub.timeZone);
    const taken = await this.store.deliveryDates(sub.id, slot.date);
    const next = nextFreeSlot(sub, now, (date) => taken.has(date));
    if (taken.has(slot.date)) {
      await this.store.postpone(sub.id, next.at);
      report.skipped++;
      return undefined;
    }
    const choice = await this.deps.builder.choose(sub, { localDate: slot.date, catchUp: slot.date !== localDateOf(now, sub.timeZone), now });
    const id = await this.store.recordChoice({ subscriptionId: sub.id, chatId: sub.chatId, localDate: slot.date, ...choice, nextRunAt: next.at, now });
    if (id === undefined) {
      report.skipped++;
      return undefined;
    }
    report.chosen++;
    await this.deps.afterChoose?.(id);
    return id;
  }

  /** Sends one ledger row. 'again': rate-limited, to be retried in this pass after the pause. */
  private async deliver(id: number, report: TickReport): Promise<'done' | 'again'> {
    for (let wait = this.pauseUntil - this.clock.now(); wait > 0; wait = this.pauseUntil - this.clock.now()) await this.clock.sleep(wait);
    const found = await this.store.delivery(id);
    if (!found || found.status === 'sent' || found.status === 'dropped') return 'done';
    const sub = await this.store.subscription(found.subscriptionId);
    if (sub?.status !== 'active') {
      await this.store.drop(id, `subscription ${sub?.status ?? 'removed'}`);
      report.dropped++;
      return 'done';
    }
    // Claimed (and marked `sending`, committed) before Telegram is called; the row as
    // claimed is the one to send from: another scheduler may have sent parts meanwhile.
    const now = this.clock.now();
    const delivery = await this.store.claimDelivery(id, this.instance, now, now + this.options.claimLeaseMs);
    if (!delivery) {
      report.claimedElsewhere++;
      return 'done';
    }
    // Delivery is attempt-counted from the row before the claim (claimDelivery added one).
    const before = { ...delivery, attempts: delivery.attempts - 1 };
    try {
      await this.deps.send({ chatId: delivery.chatId, deliveryId: id, content: delivery.content, partsSent: delivery.partsSent }, (part, messageId) =>
        this.store.recordPart(id, part, messageId, this.clock.now() + this.options.claimLeaseMs),
      );
    } catch (err) {
      return this.failed(before, err, report);
    }
    await this.store.markSent(id, this.clock.now());
    report.sent++;
    return 'done';
  }

  private async failed(delivery: Delivery, err: unknown, report: TickReport): Promise<'done' | 'again'> {
    const now = this.clock.now();
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof DeliveryError && err.kind === 'gone') {
      const { subscriptions, dropped } = await this.store.stopChat(delivery.chatId, message, now);
      report.stoppedChats++;
      report.dropped += dropped;
      this.log.info({ chat: delivery.chatId, subscriptions, dropped, err: message }, 'digest: chat unreachable (403); its subscriptions stopped');
      return 'done';
    }
    if (err instanceof DeliveryError && err.kind === 'rate-limited') {
      const waitMs = Math.max(1000, err.retryAfterMs ?? 1000);
      this.pauseUntil = Math.max(this.pauseUntil, now + waitMs);
      await this.store.markRetry(delivery.id, { retryAt: now + waitMs, error: message, countAttempt: false });
      report.rateLimited++;
      this.log.warn({ chat: delivery.chatId, delivery: delivery.id, retryAfterMs: waitMs }, 'digest: rate-limited by Telegram; pausing sends');
      return 'again';
    }
    const attempts = delivery.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      await this.store.drop(delivery.id, message);
      report.dropped++;
      this.log.error({ chat: delivery.chatId, delivery: delivery.id, attempts, err: message }, 'digest: giving up; its passages go to a later digest');
      return 'done';
    }
    const backoff = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (attempts - 1));
    await this.store.markRetry(delivery.id, { retryAt: now + backoff, error: message, countAttempt: true });
    report.retried++;
    this.log.warn({ chat: delivery.chatId, delivery: delivery.id, attempts, retryInMs: backoff, err: message }, 'digest: send failed; will retry');
    return 'done';
  }
}
