import { z } from 'zod';
import { digestContentSchema, type DigestContent, type DigestScope } from '../digest/digest-content.ts';
import type { Database } from './database.ts';

/**
 * What the daily digest keeps in SQLite: subscriptions (topic, scope, local time,
 * next_run_at), the delivery ledger (one row per subscription and local date, with the
 * content chosen for it), the passages each subscription has received per round, the
 * documents seen in the index (for "新增文件"), and /digest previews. Synchronous
 * (better-sqlite3); every state change that must go together is one transaction.
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
  };
}

export class DigestStore {
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  // ---- subscriptions ----------------------------------------------------------------------

  /** Adds a subscription unless the chat already has the same one or is at `maxPerChat` (checked in the same transaction). */
  addSubscription(input: NewSubscription, maxPerChat: number): AddSubscriptionResult {
    return this.db.transaction((): AddSubscriptionResult => {
      const existing = this.db
        .prepare('SELECT * FROM digest_subscriptions WHERE chat_id = ? AND topic = ? AND scope_kind = ? AND scope_value = ?')
        .get(input.chatId, input.topic, input.scope?.kind ?? '', input.scope?.value ?? '') as SubscriptionRow | undefined;
      if (existing) return { ok: false, reason: 'duplicate', existing: toSubscription(existing) };
      const count = (this.db.prepare('SELECT COUNT(*) AS n FROM digest_subscriptions WHERE chat_id = ?').get(input.chatId) as { n: number }).n;
      if (count >= maxPerChat) return { ok: false, reason: 'limit', count };
      const t = this.now();
      const info = this.db
        .prepare(
          `INSERT INTO digest_subscriptions (chat_id, topic, scope_kind, scope_value, scope_label, send_time, time_zone, next_run_at, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(input.chatId, input.topic, input.scope?.kind ?? '', input.scope?.value ?? '', input.scope?.label ?? '', input.sendTime, input.timeZone, input.nextRunAt, input.createdBy ?? null, t, t);
      return { ok: true, subscription: this.subscription(Number(info.lastInsertRowid))! };
    })();
  }

  subscription(id: number): Subscription | undefined {
    const row = this.db.prepare('SELECT * FROM digest_subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
    return row ? toSubscription(row) : undefined;
  }

  /** A chat's subscriptions in the order they were made (the numbers /unsubscribe takes). */
  subscriptions(chatId: number): Subscription[] {
    return (this.db.prepare('SELECT * FROM digest_subscriptions WHERE chat_id = ? ORDER BY id').all(chatId) as SubscriptionRow[]).map(toSubscription);
  }

  /** Active subscriptions whose next slot has come, earliest first. */
  due(now: number, limit = 100_000): Subscription[] {
    return (
      this.db
        .prepare(`SELECT * FROM digest_subscriptions WHERE status = 'active' AND next_run_at <= ? ORDER BY next_run_at, id LIMIT ?`)
        .all(now, limit) as SubscriptionRow[]
    ).map(toSubscription);
  }

  /** Subscriptions scheduled in another time zone than `timeZone` (DIGEST_TZ changed). */
  inOtherTimeZone(timeZone: string): Subscription[] {
    return (this.db.prepare(`SELECT * FROM digest_subscriptions WHERE time_zone != ?`).all(timeZone) as SubscriptionRow[]).map(toSubscription);
  }

  /** Sets the schedule: status, time, zone and next slot (NULL unless active). */
  schedule(id: number, change: { status: 'active' | 'paused'; sendTime?: string; timeZone?: string; nextRunAt?: number }): void {
    this.db
      .prepare(
        `UPDATE digest_subscriptions SET status = ?, stopped_reason = NULL, send_time = COALESCE(?, send_time), time_zone = COALESCE(?, time_zone),
         next_run_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(change.status, change.sendTime ?? null, change.timeZone ?? null, change.status === 'active' ? (change.nextRunAt ?? null) : null, this.now(), id);
  }

  /** Moves an active subscription's next slot (a day already in the ledger, a failed choice). */
  postpone(id: number, nextRunAt: number): void {
    this.db.prepare(`UPDATE digest_subscriptions SET next_run_at = ? WHERE id = ? AND status = 'active'`).run(nextRunAt, id);
  }

  removeSubscription(id: number): boolean {
    return this.db.prepare('DELETE FROM digest_subscriptions WHERE id = ?').run(id).changes > 0;
  }

  removeAll(chatId: number): number {
    return this.db.prepare('DELETE FROM digest_subscriptions WHERE chat_id = ?').run(chatId).changes;
  }

  /**
   * Telegram will not deliver to this chat (403): its subscriptions stop, and its
   * undelivered digests are dropped with their passages released (so they are not
   * counted as received if the chat resumes). One transaction.
   */
  stopChat(chatId: number, reason: string, now: number): { subscriptions: number; dropped: number } {
    return this.db.transaction(() => {
      const subscriptions = this.db
        .prepare(`UPDATE digest_subscriptions SET status = 'stopped', stopped_reason = ?, next_run_at = NULL, updated_at = ? WHERE chat_id = ? AND status != 'stopped'`)
        .run(reason, now, chatId).changes;
      const pending = this.db.prepare(`SELECT id FROM digest_deliveries WHERE chat_id = ? AND status IN ('pending', 'sending')`).all(chatId) as Array<{ id: number }>;
      for (const { id } of pending) this.dropInTransaction(id, `chat gone: ${reason}`);
      return { subscriptions, dropped: pending.length };
    })();
  }

  // ---- choosing: the ledger entry ---------------------------------------------------------

  hasDelivery(subscriptionId: number, localDate: string): boolean {
    return this.db.prepare('SELECT 1 FROM digest_deliveries WHERE subscription_id = ? AND local_date = ?').get(subscriptionId, localDate) !== undefined;
  }

  /** Keys of the passages a subscription has received in a round. */
  usedPassages(subscriptionId: number, round: number): Set<string> {
    const rows = this.db.prepare('SELECT passage_key AS k FROM digest_passages WHERE subscription_id = ? AND round = ?').all(subscriptionId, round) as Array<{ k: string }>;
    return new Set(rows.map((r) => r.k));
  }

  /**
   * Records the day's digest: the ledger row (unique per subscription and local date)
   * with its content, the passages as used, and the subscription's round and next slot —
   * all or nothing. Returns the ledger id, or undefined when that day already has one
   * (then nothing changes but the next slot).
   */
  recordChoice(choice: ChoiceRecord): number | undefined {
    return this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO digest_deliveries (subscription_id, chat_id, local_date, status, content, retry_at, chosen_at)
           VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (subscription_id, local_date) DO NOTHING`,
        )
        .run(choice.subscriptionId, choice.chatId, choice.localDate, JSON.stringify(choice.content), choice.now, choice.now);
      if (info.changes === 0) {
        this.postpone(choice.subscriptionId, choice.nextRunAt);
        return undefined;
      }
      const id = Number(info.lastInsertRowid);
      const mark = this.db.prepare('INSERT OR IGNORE INTO digest_passages (subscription_id, round, passage_key, delivery_id) VALUES (?, ?, ?, ?)');
      for (const key of choice.passageKeys) mark.run(choice.subscriptionId, choice.round, key, id);
      this.db
        .prepare(`UPDATE digest_subscriptions SET round = ?, next_run_at = CASE WHEN status = 'active' THEN ? ELSE NULL END WHERE id = ?`)
        .run(choice.round, choice.nextRunAt, choice.subscriptionId);
      return id;
    })();
  }

  // ---- sending ------------------------------------------------------------------------------

  /** Digests not yet delivered whose (re)try time has come, oldest first. `sending` ones were interrupted by a crash. */
  pendingDeliveries(now: number, limit = 100_000): Delivery[] {
    return (
      this.db
        .prepare(`SELECT * FROM digest_deliveries WHERE status IN ('pending', 'sending') AND retry_at <= ? ORDER BY retry_at, id LIMIT ?`)
        .all(now, limit) as DeliveryRow[]
    ).map(toDelivery);
  }

  delivery(id: number): Delivery | undefined {
    const row = this.db.prepare('SELECT * FROM digest_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  deliveries(subscriptionId: number): Delivery[] {
    return (this.db.prepare('SELECT * FROM digest_deliveries WHERE subscription_id = ? ORDER BY local_date').all(subscriptionId) as DeliveryRow[]).map(toDelivery);
  }

  /** Committed before Telegram is called: from here a crash means "maybe delivered". */
  markSending(id: number): void {
    this.db.prepare(`UPDATE digest_deliveries SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status IN ('pending', 'sending')`).run(id);
  }

  /** One message of the digest was accepted by Telegram. */
  recordPart(id: number, part: number, messageId: number): void {
    const row = this.db.prepare('SELECT message_ids FROM digest_deliveries WHERE id = ?').get(id) as { message_ids: string } | undefined;
    if (!row) return;
    const ids = [...messageIdsSchema.parse(JSON.parse(row.message_ids)), messageId];
    this.db.prepare('UPDATE digest_deliveries SET parts_sent = MAX(parts_sent, ?), message_ids = ? WHERE id = ?').run(part + 1, JSON.stringify(ids), id);
  }

  markSent(id: number, now: number): void {
    this.db.prepare(`UPDATE digest_deliveries SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?`).run(now, id);
  }

  /** Back to pending until `retryAt`. A 429 does not count as an attempt (`countAttempt: false`). */
  markRetry(id: number, retry: { retryAt: number; error: string; countAttempt: boolean }): void {
    this.db
      .prepare(`UPDATE digest_deliveries SET status = 'pending', retry_at = ?, last_error = ?, attempts = attempts - ? WHERE id = ? AND status IN ('pending', 'sending')`)
      .run(retry.retryAt, retry.error.slice(0, 500), retry.countAttempt ? 0 : 1, id);
  }

  /** Gives a digest up: its passages are released so a later digest carries them. */
  drop(id: number, error: string): void {
    this.db.transaction(() => this.dropInTransaction(id, error))();
  }

  private dropInTransaction(id: number, error: string): void {
    this.db.prepare(`UPDATE digest_deliveries SET status = 'dropped', last_error = ? WHERE id = ?`).run(error.slice(0, 500), id);
    this.db.prepare('DELETE FROM digest_passages WHERE delivery_id = ?').run(id);
  }

  /** When the scheduler next has something to do: the earliest next slot or retry time. */
  nextWake(): number | undefined {
    const row = this.db
      .prepare(
        `SELECT MIN(t) AS t FROM (
           SELECT MIN(next_run_at) AS t FROM digest_subscriptions WHERE status = 'active'
           UNION ALL SELECT MIN(retry_at) FROM digest_deliveries WHERE status IN ('pending', 'sending'))`,
      )
      .get() as { t: number | null };
    return row.t ?? undefined;
  }

  /** Ledger counts by status (for /stats, the bench and tests). */
  deliveryCounts(): Record<DeliveryStatus, number> {
    const out: Record<DeliveryStatus, number> = { pending: 0, sending: 0, sent: 0, dropped: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM digest_deliveries GROUP BY status').all() as Array<{ status: DeliveryStatus; n: number }>) out[r.status] = r.n;
    return out;
  }

  // ---- documents --------------------------------------------------------------------------

  /**
   * Records the index's documents not seen before. The first sync is the baseline (those
   * documents are not new); a document whose checksum changed counts as seen anew.
   * Returns the files recorded as new.
   */
  syncDocuments(documents: ReadonlyArray<{ file: string; checksum: string }>, now: number): string[] {
    return this.db.transaction(() => {
      const known = new Map((this.db.prepare('SELECT file, checksum FROM digest_documents').all() as Array<{ file: string; checksum: string }>).map((r) => [r.file, r.checksum]));
      const baseline = known.size === 0 ? 1 : 0;
      const upsert = this.db.prepare(
        `INSERT INTO digest_documents (file, checksum, first_seen_at, baseline) VALUES (?, ?, ?, ?)
         ON CONFLICT (file) DO UPDATE SET checksum = excluded.checksum, first_seen_at = excluded.first_seen_at, baseline = excluded.baseline`,
      );
      const added: string[] = [];
      for (const d of documents) {
        if (known.get(d.file) === d.checksum) continue;
        upsert.run(d.file, d.checksum, now, baseline);
        if (!baseline) added.push(d.file);
      }
      return added;
    })();
  }

  /** Files first seen (after the baseline) at or after `since`. */
  newDocuments(since: number): Set<string> {
    const rows = this.db.prepare('SELECT file FROM digest_documents WHERE baseline = 0 AND first_seen_at >= ?').all(since) as Array<{ file: string }>;
    return new Set(rows.map((r) => r.file));
  }

  // ---- previews -----------------------------------------------------------------------------

  savePreview(chatId: number, content: DigestContent, now: number): number {
    return Number(this.db.prepare('INSERT INTO digest_previews (chat_id, content, created_at) VALUES (?, ?, ?)').run(chatId, JSON.stringify(content), now).lastInsertRowid);
  }

  preview(id: number): { id: number; chatId: number; content: DigestContent } | undefined {
    const row = this.db.prepare('SELECT id, chat_id, content FROM digest_previews WHERE id = ?').get(id) as { id: number; chat_id: number; content: string } | undefined;
    return row ? { id: row.id, chatId: row.chat_id, content: digestContentSchema.parse(JSON.parse(row.content)) } : undefined;
  }
}
