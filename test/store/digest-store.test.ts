import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { DigestStore, type NewSubscription } from '../../src/store/digest-store.ts';
import { type DigestContent } from '../../src/digest/digest-content.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';

let dir: string;
let db: Database;
let store: DigestStore;
let now: number;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-digest-store-'));
  db = openDatabase(databaseFile(dir));
  now = Date.UTC(2026, 0, 5);
  store = new DigestStore(db, { now: () => now });
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const sub = (over: Partial<NewSubscription> = {}): NewSubscription => ({ chatId: 1, topic: '养老', sendTime: '08:00', timeZone: 'Asia/Shanghai', nextRunAt: now + 1000, ...over });
const content = (over: Partial<DigestContent> = {}): DigestContent => ({
  topic: '养老', localDate: '2026-01-05', round: 1, items: [], poolSize: 3, roundStarted: false, roundEnded: false, catchUp: false, preview: false, ...over,
});

function added(over: Partial<NewSubscription> = {}) {
  const r = store.addSubscription(sub(over), 5);
  if (!r.ok) throw new Error(r.reason);
  return r.subscription;
}

describe('digest store', () => {
  it('appends its migration after the bot core', () => {
    expect(MIGRATIONS.map((m) => m.id)).toEqual(['001-bot-core', '002-digest', '003-update-journal', '004-handled-updates']);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'digest_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(['digest_deliveries', 'digest_documents', 'digest_passages', 'digest_previews', 'digest_subscriptions']);
  });

  it('refuses a duplicate (same topic and scope) and a chat over its cap', () => {
    const a = added();
    expect(store.addSubscription(sub(), 5)).toMatchObject({ ok: false, reason: 'duplicate', existing: { id: a.id } });
    // Another scope is another subscription.
    expect(store.addSubscription(sub({ scope: { kind: 'district', value: '津南区', label: '津南区' } }), 5).ok).toBe(true);
    expect(store.addSubscription(sub({ topic: '教育' }), 2)).toMatchObject({ ok: false, reason: 'limit', count: 2 });
    expect(store.addSubscription(sub({ chatId: 2 }), 2).ok).toBe(true);
    expect(store.subscriptions(1).map((s) => s.topic)).toEqual(['养老', '养老']);
    expect(store.subscriptions(1)[1]?.scope).toEqual({ kind: 'district', value: '津南区', label: '津南区' });
  });

  it('writes one ledger row per subscription and local date, with its passages and the next slot, in one transaction', () => {
    const s = added();
    const id = store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a#1', 'b#2'], round: 1, nextRunAt: now + 86_400_000, now });
    expect(id).toBeTypeOf('number');
    expect(store.usedPassages(s.id, 1)).toEqual(new Set(['a#1', 'b#2']));
    expect(store.subscription(s.id)?.nextRunAt).toBe(now + 86_400_000);
    // The same day again: refused, nothing else changes but the next slot.
    const again = store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['c#3'], round: 1, nextRunAt: now + 2 * 86_400_000, now });
    expect(again).toBeUndefined();
    expect(store.usedPassages(s.id, 1)).toEqual(new Set(['a#1', 'b#2']));
    expect(store.deliveries(s.id)).toHaveLength(1);
    expect(store.subscription(s.id)?.nextRunAt).toBe(now + 2 * 86_400_000);
    // A failure inside the transaction leaves nothing behind.
    expect(() =>
      store.recordChoice({ subscriptionId: 999, chatId: 1, localDate: '2026-01-06', content: content(), passageKeys: ['x'], round: 1, nextRunAt: now, now }),
    ).toThrow(/FOREIGN KEY/);
    expect(db.prepare('SELECT COUNT(*) AS n FROM digest_passages').get()).toEqual({ n: 2 });
  });

  it('tracks a delivery: sending (with parts) → sent; retries; a crash leaves it pending as "sending"', () => {
    const s = added();
    const id = store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now })!;
    expect(store.pendingDeliveries(now).map((d) => d.id)).toEqual([id]);
    store.markSending(id);
    store.recordPart(id, 0, 77);
    // Interrupted here: still due, resumed after the first part.
    expect(store.pendingDeliveries(now)[0]).toMatchObject({ status: 'sending', partsSent: 1, messageIds: [77], attempts: 1 });
    store.markRetry(id, { retryAt: now + 60_000, error: 'telegram 500', countAttempt: true });
    expect(store.pendingDeliveries(now)).toEqual([]);
    expect(store.pendingDeliveries(now + 60_000)[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'telegram 500' });
    store.markSending(id);
    store.markRetry(id, { retryAt: now, error: 'telegram 429', countAttempt: false });
    expect(store.delivery(id)?.attempts).toBe(1);
    store.markSending(id);
    store.markSent(id, now + 5);
    expect(store.delivery(id)).toMatchObject({ status: 'sent', sentAt: now + 5, attempts: 2 });
    expect(store.deliveryCounts()).toEqual({ pending: 0, sending: 0, sent: 1, dropped: 0 });
  });

  it('stops a chat that blocked the bot: all its subscriptions, its undelivered digests dropped and their passages released', () => {
    const a = added();
    const b = added({ topic: '教育' });
    const other = added({ chatId: 2 });
    const da = store.recordChoice({ subscriptionId: a.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now })!;
    const dOther = store.recordChoice({ subscriptionId: other.id, chatId: 2, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now })!;
    expect(store.stopChat(1, 'telegram 403: Forbidden: bot was blocked by the user', now)).toEqual({ subscriptions: 2, dropped: 1 });
    expect(store.subscription(a.id)).toMatchObject({ status: 'stopped', stoppedReason: expect.stringMatching(/403/) });
    expect(store.subscription(a.id)?.nextRunAt).toBeUndefined();
    expect(store.subscription(b.id)?.status).toBe('stopped');
    expect(store.delivery(da)?.status).toBe('dropped');
    expect(store.usedPassages(a.id, 1).size).toBe(0);
    expect(store.delivery(dOther)?.status).toBe('pending');
    expect(store.due(now + 10).map((s) => s.id)).toEqual([other.id]);
  });

  it('removing a subscription removes its ledger and passages', () => {
    const a = added();
    store.recordChoice({ subscriptionId: a.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now });
    expect(store.removeSubscription(a.id)).toBe(true);
    expect(db.prepare('SELECT (SELECT COUNT(*) FROM digest_deliveries) + (SELECT COUNT(*) FROM digest_passages) AS n').get()).toEqual({ n: 0 });
  });

  it('records documents: the first sync is the baseline, later ones (and changed ones) are new', () => {
    expect(store.syncDocuments([{ file: 'a.txt', checksum: '1' }, { file: 'b.txt', checksum: '1' }], now)).toEqual([]);
    expect(store.newDocuments(0).size).toBe(0);
    expect(store.syncDocuments([{ file: 'a.txt', checksum: '1' }, { file: 'b.txt', checksum: '2' }, { file: 'c.txt', checksum: '1' }], now + 10)).toEqual(['b.txt', 'c.txt']);
    expect(store.newDocuments(now)).toEqual(new Set(['b.txt', 'c.txt']));
    expect(store.newDocuments(now + 11).size).toBe(0);
  });

  it('keeps previews for their buttons', () => {
    const id = store.savePreview(5, content({ preview: true }), now);
    expect(store.preview(id)).toMatchObject({ chatId: 5, content: { preview: true } });
  });
});
