import * as z from 'zod';
import { digestContentSchema, type DigestContent, type DigestScope } from '../digest/digest-content.ts';
import type { Sql } from './sql.ts';

/**
 * What the daily digest keeps in its database (SQLite, or PostgreSQL shared by several
 * instances): subscriptions (topic, scope, local time, next_run_at), the delivery ledger
 * (one row per subscription and local date, with the content chosen for it), the passages
 * each subscription has received per round, the documents seen in the index (for
 * "新增文件"), and /digest previews. Every state change that must go together is one
 * transaction; a subscription's slot and a delivery are claimed by one instance at a time
 * with a conditional UPDATE (a compare-and-set both engines make atomic).
 */

export type SubscriptionStatus = 'active' | 'paused' | 'stopped';

export interface Subscription {
  id: number;
  chatId: number;
  topic: string;
  scope?: DigestScope;
  /** "HH:MM", local time in `timeZone`. */
  sendTime: string;
  timeZone: string;
  status: SubscriptionStatus;
  stoppedReason?: string;
  round: number;
  /** Unix ms of the next slot; absent unless active. */
  nextRunAt?: number;
  createdBy?: number;
  createdAt: number;
}


export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'dropped';

export interface Delivery {
  id: number;
  subscriptionId: number;
  chatId: number;
  localDate: string;
  status: DeliveryStatus;
  content: DigestContent;
  /** Messages of a split digest already accepted by Telegram. */
  partsSent: number;
  messageIds: number[];
  attempts: number;
  retryAt: number;
  lastError?: string;
  chosenAt: number;
  sentAt?: number;
  /** The instance whose claim to send it holds until `claimedUntil`. */
  claimedBy?: string;
  claimedUntil?: number;
}

export interface NewSubscription {
  chatId: number;
  topic: string;
  scope?: DigestScope;
  sendTime: string;
  timeZone: string;
  nextRunAt: number;
  createdBy?: number;
}

export type AddSubscriptionResult =
  | { ok: true; subscription: Subscription }
  | { ok: false; reason: 'duplicate'; existing: Subscription }
  | { ok: false; reason: 'limit'; count: number };

export interface ChoiceRecord {
  subscriptionId: number;
  chatId: number;
  localDate: string;
  content: DigestContent;
  passageKeys: string[];
  /** The subscription's round after this choice. */
  round: number;
  nextRunAt: number;
  now: number;
}

interface SubscriptionRow {
  id: number;
  chat_id: number;
  topic: string;
  scope_kind: '' | 'district' | 'document';
  scope_value: string;
  scope_label: string;
  send_time: string;
  time_zone: string;
  status: SubscriptionStatus;
  stopped_reason: string | null;
  round: number;
  next_run_at: number | null;
  created_by: number | null;
  created_at: number;
}

interface DeliveryRow {
  id: number;
  subscription_id: number;
  chat_id: number;
  local_date: string;
  status: DeliveryStatus;
  content: string;
  parts_sent: number;
  message_ids: string;
  attempts: number;
  retry_at: number;
  last_error: string | null;
  chosen_at: number;
  sent_at: number | null;
  claimed_by: string | null;
  claimed_until: number | null;
}

const messageIdsSchema = z.array(z.number().int());

function toSubscription(r: SubscriptionRow): Subscription {
  return {
    id: r.id,
    chatId: r.chat_id,
    topic: r.topic,
    ...(r.scope_kind ? { scope: { kind: r.scope_kind, value: r.scope_value, label: r.scope_label } } : {}),
    sendTime: r.send_time,
    timeZone: r.time_zone,
    status: r.status,
    ...(r.stopped_reason !== null ? { stoppedReason: r.stopped_reason } : {}),
    round: r.round,
    ...(r.next_run_at !== null ? { nextRunAt: r.next_run_at } : {}),
    ...(r.created_by !== null ? { createdBy: r.created_by } : {}),
    createdAt: r.created_at,
  };
}

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    chatId: r.chat_id,
    localDate: r.local_date,
    status: r.status,
    content: digestContentSchema.parse(JSON.parse(r.content)),
    partsSent: r.parts_sent,
    messageIds: messageIdsSchema.parse(JSON.parse(r.message_ids)),
    attempts: r.attempts,
    retryAt: r.retry_at,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    chosenAt: r.chosen_at,
    ...(r.sent_at !== null ? { sentAt: r.sent_at } : {}),
    ...(r.claimed_by !== null ? { claimedBy: r.claimed_by } : {}),
    ...(r.claimed_until !== null ? { claimedUntil: r.claimed_until } : {}),
  };
}

export class DigestStore {
  private readonly now: () => number;

  constructor(
    private readonly db: Sql,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  // ---- subscriptions ----------------------------------------------------------------------

  /** Adds a subscription unless the chat already has the same one or is at `maxPerChat` (checked in the same transaction). */
  addSubscription(input: NewSubscription, maxPerChat: number): Promise<AddSubscriptionResult> {
    const key = [input.chatId, input.topic, input.scope?.kind ?? '', input.scope?.value ?? ''];
    const same = 'SELECT * FROM digest_subscriptions WHERE chat_id = ? AND topic = ? AND scope_kind = ? AND scope_value = ?';
    return this.db.transaction(async (tx): Promise<AddSubscriptionResult> => {
      const existing = await tx.get<SubscriptionRow>(same, key);
      if (existing) return { ok: false, reason: 'duplicate', existing: toSubscription(existing) };
      const count = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM digest_subscriptions WHERE chat_id = ?', [input.chatId]))!.n;
      if (count >= maxPerChat) return { ok: false, reason: 'limit', count };
      const t = this.now();
      // ON CONFLICT: the same subscription made at the same moment on another instance.
      const row = await tx.get<SubscriptionRow>(
        `INSERT INTO digest_subscriptions (chat_id, topic, scope_kind, scope_value, scope_label, send_time, time_zone, next_run_at, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
        [...key.slice(0, 4), input.scope?.label ?? '', input.sendTime, input.timeZone, input.nextRunAt, input.createdBy ?? null, t, t],
      );
      if (!row) return { ok: false, reason: 'duplicate', existing: toSubscription((await tx.get<SubscriptionRow>(same, key))!) };
      return { ok: true, subscription: toSubscription(row) };
    });
  }

  async subscription(id: number): Promise<Subscription | undefined> {
    const row = await this.db.get<SubscriptionRow>('SELECT * FROM digest_subscriptions WHERE id = ?', [id]);
    return row ? toSubscription(row) : undefined;
  }

  /** A chat's subscriptions in the order they were made (the numbers /unsubscribe takes). */
  async subscriptions(chatId: number): Promise<Subscription[]> {
    return (await this.db.all<SubscriptionRow>('SELECT * FROM digest_subscriptions WHERE chat_id = ? ORDER BY id', [chatId])).map(toSubscription);
  }

  /** Active subscriptions whose next slot has come, earliest first. */
  async due(now: number, limit = 100_000): Promise<Subscription[]> {
    return (
      await this.db.all<SubscriptionRow>(`SELECT * FROM digest_subscriptions WHERE status = 'active' AND next_run_at <= ? ORDER BY next_run_at, id LIMIT ?`, [now, limit])
    ).map(toSubscription);
  }

  /**
   * Claims a due subscription's slot for this instance: moves next_run_at from the value
   * it was read with to `leaseUntil` (so, should this instance die while composing,
   * another takes it then). False when another instance claimed it first or it changed.
   */
  async claimDue(sub: Subscription, leaseUntil: number): Promise<boolean> {
    if (sub.nextRunAt === undefined) return false;
    const changed = await this.db.run(`UPDATE digest_subscriptions SET next_run_at = ? WHERE id = ? AND status = 'active' AND next_run_at = ?`, [
      leaseUntil,
      sub.id,
      sub.nextRunAt,
    ]);
    return changed === 1;
  }

  /** Subscriptions scheduled in another time zone than `timeZone` (DIGEST_TZ changed). */
  async inOtherTimeZone(timeZone: string): Promise<Subscription[]> {
    return (await this.db.all<SubscriptionRow>(`SELECT * FROM digest_subscriptions WHERE time_zone != ?`, [timeZone])).map(toSubscription);
  }

  /** Sets the schedule: status, time, zone and next slot (NULL unless active). */
  async schedule(id: number, change: { status: 'active' | 'paused'; sendTime?: string; timeZone?: string; nextRunAt?: number }): Promise<void> {
    await this.db.run(
      `UPDATE digest_subscriptions SET status = ?, stopped_reason = NULL, send_time = COALESCE(?, send_time), time_zone = COALESCE(?, time_zone),
       next_run_at = CAST(? AS BIGINT), updated_at = ? WHERE id = ?`,
      [change.status, change.sendTime ?? null, change.timeZone ?? null, change.status === 'active' ? (change.nextRunAt ?? null) : null, this.now(), id],
    );
  }

  /** Moves an active subscription's next slot (a day already in the ledger, a failed choice). */
  async postpone(id: number, nextRunAt: number): Promise<void> {
    await postpone(this.db, id, nextRunAt);
  }

  async removeSubscription(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM digest_subscriptions WHERE id = ?', [id])) > 0;
  }

  removeAll(chatId: number): Promise<number> {
    return this.db.run('DELETE FROM digest_subscriptions WHERE chat_id = ?', [chatId]);
  }

  /**
   * Telegram will not deliver to this chat (403): its subscriptions stop, and its
   * undelivered digests are dropped with their passages released (so they are not
   * counted as received if the chat resumes). One transaction.
   */
  stopChat(chatId: number, reason: string, now: number): Promise<{ subscriptions: number; dropped: number }> {
    return this.db.transaction(async (tx) => {
      const subscriptions = await tx.run(
        `UPDATE digest_subscriptions SET status = 'stopped', stopped_reason = ?, next_run_at = NULL, updated_at = ? WHERE chat_id = ? AND status != 'stopped'`,
        [reason, now, chatId],
      );
      const pending = await tx.all<{ id: number }>(`SELECT id FROM digest_deliveries WHERE chat_id = ? AND status IN ('pending', 'sending')`, [chatId]);
      for (const { id } of pending) await drop(tx, id, `chat gone: ${reason}`);
      return { subscriptions, dropped: pending.length };
    });
  }

  // ---- choosing: the ledger entry ---------------------------------------------------------

  async hasDelivery(subscriptionId: number, localDate: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS one FROM digest_deliveries WHERE subscription_id = ? AND local_date = ?', [subscriptionId, localDate])) !== undefined;
  }

  /** The local dates from `since` on that already have a ledger row (to find the next free slot). */
  async deliveryDates(subscriptionId: number, since: string): Promise<Set<string>> {
    const rows = await this.db.all<{ d: string }>('SELECT local_date AS d FROM digest_deliveries WHERE subscription_id = ? AND local_date >= ?', [subscriptionId, since]);
    return new Set(rows.map((r) => r.d));
  }

  /** Keys of the passages a subscription has received in a round. */
  async usedPassages(subscriptionId: number, round: number): Promise<Set<string>> {
    const rows = await this.db.all<{ k: string }>('SELECT passage_key AS k FROM digest_passages WHERE subscription_id = ? AND round = ?', [subscriptionId, round]);
    return new Set(rows.map((r) => r.k));
  }

  /**
   * Records the day's digest: the ledger row (unique per subscription and local date)
   * with its content, the passages as used, and the subscription's round and next slot —
   * all or nothing. Returns the ledger id, or undefined when that day already has one
   * (then nothing changes but the next slot). Two instances recording the same day at
   * once: the unique key lets one insert, the other gets undefined.
   */
  recordChoice(choice: ChoiceRecord): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ id: number }>(
        `INSERT INTO digest_deliveries (subscription_id, chat_id, local_date, status, content, retry_at, chosen_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (subscription_id, local_date) DO NOTHING RETURNING id`,
        [choice.subscriptionId, choice.chatId, choice.localDate, JSON.stringify(choice.content), choice.now, choice.now],
      );
      if (!row) {
        await postpone(tx, choice.subscriptionId, choice.nextRunAt);
        return undefined;
      }
      for (const key of choice.passageKeys) {
        await tx.run('INSERT INTO digest_passages (subscription_id, round, passage_key, delivery_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
          choice.subscriptionId,
          choice.round,
          key,
          row.id,
        ]);
      }
      await tx.run(`UPDATE digest_subscriptions SET round = ?, next_run_at = CASE WHEN status = 'active' THEN CAST(? AS BIGINT) ELSE NULL END WHERE id = ?`, [
        choice.round,
        choice.nextRunAt,
        choice.subscriptionId,
      ]);
      return row.id;
    });
  }

  // ---- sending ------------------------------------------------------------------------------

  /**
   * Digests not yet delivered whose (re)try time has come, oldest first, and that no other
   * instance holds a live claim on. `sending` ones were interrupted by a crash (ours, when
   * `owner` claimed them: taken again at once; another instance's: once its claim expires).
   */
  async pendingDeliveries(now: number, options: { owner?: string; limit?: number } = {}): Promise<Delivery[]> {
    return (
      await this.db.all<DeliveryRow>(
        `SELECT * FROM digest_deliveries WHERE status IN ('pending', 'sending') AND retry_at <= ?
         AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?) ORDER BY retry_at, id LIMIT ?`,
        [now, now, options.owner ?? null, options.limit ?? 100_000],
      )
    ).map(toDelivery);
  }

  async delivery(id: number): Promise<Delivery | undefined> {
    const row = await this.db.get<DeliveryRow>('SELECT * FROM digest_deliveries WHERE id = ?', [id]);
    return row ? toDelivery(row) : undefined;
  }

  async deliveries(subscriptionId: number): Promise<Delivery[]> {
    return (await this.db.all<DeliveryRow>('SELECT * FROM digest_deliveries WHERE subscription_id = ? ORDER BY local_date', [subscriptionId])).map(toDelivery);
  }

  /**
   * Claims a digest for `owner` until `leaseUntil` and marks it `sending` (one attempt
   * more), committed before Telegram is called: from here a crash means "maybe delivered".
   * Returns the claimed row, or undefined when it is delivered, dropped, or claimed by
   * another instance whose claim holds: a conditional UPDATE, so of two instances racing
   * for it exactly one gets it.
   */
  async claimDelivery(id: number, owner: string, now: number, leaseUntil: number): Promise<Delivery | undefined> {
    const row = await this.db.get<DeliveryRow>(
      `UPDATE digest_deliveries SET status = 'sending', attempts = attempts + 1, claimed_by = ?, claimed_until = ?
       WHERE id = ? AND status IN ('pending', 'sending') AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?) RETURNING *`,
      [owner, leaseUntil, id, now, owner],
    );
    return row ? toDelivery(row) : undefined;
  }

  /** One message of the digest was accepted by Telegram (and the sender's claim runs on until `leaseUntil`). */
  recordPart(id: number, part: number, messageId: number, leaseUntil?: number): Promise<void> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ message_ids: string }>('SELECT message_ids FROM digest_deliveries WHERE id = ?', [id]);
      if (!row) return;
      const ids = [...messageIdsSchema.parse(JSON.parse(row.message_ids)), messageId];
      await tx.run(
        `UPDATE digest_deliveries SET parts_sent = CASE WHEN parts_sent > ? THEN parts_sent ELSE ? END, message_ids = ?,
         claimed_until = COALESCE(CAST(? AS BIGINT), claimed_until) WHERE id = ?`,
        [part + 1, part + 1, JSON.stringify(ids), leaseUntil ?? null, id],
      );
    });
  }

  async markSent(id: number, now: number): Promise<void> {
    await this.db.run(`UPDATE digest_deliveries SET status = 'sent', sent_at = ?, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?`, [now, id]);
  }

  /** Back to pending until `retryAt`, unclaimed. A 429 does not count as an attempt (`countAttempt: false`). */
  async markRetry(id: number, retry: { retryAt: number; error: string; countAttempt: boolean }): Promise<void> {
    await this.db.run(
      `UPDATE digest_deliveries SET status = 'pending', retry_at = ?, last_error = ?, attempts = attempts - ?, claimed_by = NULL, claimed_until = NULL
       WHERE id = ? AND status IN ('pending', 'sending')`,
      [retry.retryAt, retry.error.slice(0, 500), retry.countAttempt ? 0 : 1, id],
    );
  }

  /** Gives a digest up: its passages are released so a later digest carries them. */
  drop(id: number, error: string): Promise<void> {
    return this.db.transaction((tx) => drop(tx, id, error));
  }

  /** When the scheduler next has something to do: the earliest next slot or retry time. */
  async nextWake(): Promise<number | undefined> {
    const row = await this.db.get<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(next_run_at) AS t FROM digest_subscriptions WHERE status = 'active'
         UNION ALL SELECT MIN(retry_at) FROM digest_deliveries WHERE status IN ('pending', 'sending')) AS wake`,
    );
    return row?.t ?? undefined;
  }

  /** Ledger counts by status (for /stats, the bench and tests). */
  async deliveryCounts(): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { pending: 0, sending: 0, sent: 0, dropped: 0 };
    for (const r of await this.db.all<{ status: DeliveryStatus; n: number }>('SELECT status, COUNT(*) AS n FROM digest_deliveries GROUP BY status')) out[r.status] = r.n;
    return out;
  }

  // ---- documents --------------------------------------------------------------------------

  /**
   * Records the index's documents not seen before. The first sync is the baseline (those
   * documents are not new); a document whose checksum changed counts as seen anew.
   * Returns the files recorded as new.
   */
  syncDocuments(documents: ReadonlyArray<{ file: string; checksum: string }>, now: number): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const known = new Map((await tx.all<{ file: string; checksum: string }>('SELECT file, checksum FROM digest_documents')).map((r) => [r.file, r.checksum]));
      const baseline = known.size === 0 ? 1 : 0;
      const added: string[] = [];
      for (const d of documents) {
        if (known.get(d.file) === d.checksum) continue;
        await tx.run(
          `INSERT INTO digest_documents (file, checksum, first_seen_at, baseline) VALUES (?, ?, ?, ?)
           ON CONFLICT (file) DO UPDATE SET checksum = excluded.checksum, first_seen_at = excluded.first_seen_at, baseline = excluded.baseline`,
          [d.file, d.checksum, now, baseline],
        );
        if (!baseline) added.push(d.file);
      }
      return added;
    });
  }

  /** Files first seen (after the baseline) at or after `since`. */
  async newDocuments(since: number): Promise<Set<string>> {
    const rows = await this.db.all<{ file: string }>('SELECT file FROM digest_documents WHERE baseline = 0 AND first_seen_at >= ?', [since]);
    return new Set(rows.map((r) => r.file));
  }

  // ---- previews -----------------------------------------------------------------------------

  async savePreview(chatId: number, content: DigestContent, now: number): Promise<number> {
    return (await this.db.get<{ id: number }>('INSERT INTO digest_previews (chat_id, content, created_at) VALUES (?, ?, ?) RETURNING id', [chatId, JSON.stringify(content), now]))!.id;
  }

  async preview(id: number): Promise<{ id: number; chatId: number; content: DigestContent } | undefined> {
    const row = await this.db.get<{ id: number; chat_id: number; content: string }>('SELECT id, chat_id, content FROM digest_previews WHERE id = ?', [id]);
    return row ? { id: row.id, chatId: row.chat_id, content: digestContentSchema.parse(JSON.parse(row.content)) } : undefined;
  }
}

async function postpone(db: Sql, id: number, nextRunAt: number): Promise<void> {
  await db.run(`UPDATE digest_subscriptions SET next_run_at = ? WHERE id = ? AND status = 'active'`, [nextRunAt, id]);
}

async function drop(db: Sql, id: number, error: string): Promise<void> {
  await db.run(`UPDATE digest_deliveries SET status = 'dropped', last_error = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?`, [error.slice(0, 500), id]);
  await db.run('DELETE FROM digest_passages WHERE delivery_id = ?', [id]);
}
