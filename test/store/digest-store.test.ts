import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DigestContent } from '../../src/digest/digest-content.ts';
import { DigestStore, type NewSubscription } from '../../src/store/digest-store.ts';
import type { Database } from '../../src/store/sql.ts';
import { migrationsOf, newTestStore, STORE_ENGINES, type TestStore } from '../helpers/store-engines.ts';

describe.each(STORE_ENGINES)('digest store on $engine', ({ engine }) => {
  let test: TestStore;
  let db: Database;
  let store: DigestStore;
  let now: number;

  beforeEach(async () => {
    test = await newTestStore(engine);
    db = await test.open();
    now = Date.UTC(2026, 0, 5);
    store = new DigestStore(db, { now: () => now });
  });
  afterEach(async () => {
    await test.cleanup();
  });

  const sub = (over: Partial<NewSubscription> = {}): NewSubscription => ({ chatId: 1, topic: '养老', sendTime: '08:00', timeZone: 'Asia/Shanghai', nextRunAt: now + 1000, ...over });
  const content = (over: Partial<DigestContent> = {}): DigestContent => ({
    topic: '养老', localDate: '2026-01-05', round: 1, items: [], poolSize: 3, roundStarted: false, roundEnded: false, catchUp: false, preview: false, ...over,
  });

  async function added(over: Partial<NewSubscription> = {}) {
    const r = await store.addSubscription(sub(over), 5);
    if (!r.ok) throw new Error(r.reason);
    return r.subscription;
  }

  describe('digest store', () => {
    it('appends its migration after the bot core', async () => {
      expect(migrationsOf(engine).map((m) => m.id).slice(0, 3)).toEqual(['001-bot-core', '002-digest', '003-update-journal']);
      const tables = [...(await db.tables())].filter((t) => t.startsWith('digest_')).sort();
      expect(tables).toEqual(['digest_deliveries', 'digest_documents', 'digest_passages', 'digest_previews', 'digest_subscriptions']);
    });

    it('refuses a duplicate (same topic and scope) and a chat over its cap', async () => {
      const a = await added();
      expect(await store.addSubscription(sub(), 5)).toMatchObject({ ok: false, reason: 'duplicate', existing: { id: a.id } });
      // Another scope is another subscription.
      expect((await store.addSubscription(sub({ scope: { kind: 'district', value: '津南区', label: '津南区' } }), 5)).ok).toBe(true);
      expect(await store.addSubscription(sub({ topic: '教育' }), 2)).toMatchObject({ ok: false, reason: 'limit', count: 2 });
      expect((await store.addSubscription(sub({ chatId: 2 }), 2)).ok).toBe(true);
      expect((await store.subscriptions(1)).map((s) => s.topic)).toEqual(['养老', '养老']);
      expect((await store.subscriptions(1))[1]?.scope).toEqual({ kind: 'district', value: '津南区', label: '津南区' });
    });

    it('writes one ledger row per subscription and local date, with its passages and the next slot, in one transaction', async () => {
      const s = await added();
      const id = await store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a#1', 'b#2'], round: 1, nextRunAt: now + 86_400_000, now });
      expect(id).toBeTypeOf('number');
      expect(await store.usedPassages(s.id, 1)).toEqual(new Set(['a#1', 'b#2']));
      expect((await store.subscription(s.id))?.nextRunAt).toBe(now + 86_400_000);
      // The same day again: refused, nothing else changes but the next slot.
      const again = await store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['c#3'], round: 1, nextRunAt: now + 2 * 86_400_000, now });
      expect(again).toBeUndefined();
      expect(await store.usedPassages(s.id, 1)).toEqual(new Set(['a#1', 'b#2']));
      expect(await store.deliveries(s.id)).toHaveLength(1);
      expect((await store.subscription(s.id))?.nextRunAt).toBe(now + 2 * 86_400_000);
      // A failure inside the transaction leaves nothing behind.
      await expect(
        store.recordChoice({ subscriptionId: 999, chatId: 1, localDate: '2026-01-06', content: content(), passageKeys: ['x'], round: 1, nextRunAt: now, now }),
      ).rejects.toThrow(/FOREIGN KEY|foreign key/);
      expect(await db.get('SELECT COUNT(*) AS n FROM digest_passages')).toEqual({ n: 2 });
    });

    it('tracks a delivery: sending (with parts) → sent; retries; a crash leaves it pending as "sending"', async () => {
      const s = await added();
      const id = (await store.recordChoice({ subscriptionId: s.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now }))!;
      expect((await store.pendingDeliveries(now)).map((d) => d.id)).toEqual([id]);
      expect(await store.claimDelivery(id, 'a', now, now + 60_000)).toMatchObject({ status: 'sending', attempts: 1, claimedBy: 'a' });
      // Claimed: nobody else gets it while the claim holds.
      expect(await store.claimDelivery(id, 'b', now + 1, now + 60_000)).toBeUndefined();
      await store.recordPart(id, 0, 77, now + 90_000);
      // Interrupted here: still due — at once for its owner (restarted), for others once the claim (renewed by the part) runs out —
      // and resumed after the first part.
      expect(await store.pendingDeliveries(now + 60_000)).toEqual([]);
      expect((await store.pendingDeliveries(now, { owner: 'a' }))[0]).toMatchObject({ status: 'sending', partsSent: 1, messageIds: [77], attempts: 1 });
      expect((await store.pendingDeliveries(now + 90_000))[0]).toMatchObject({ status: 'sending', partsSent: 1, claimedUntil: now + 90_000 });
      expect(await store.claimDelivery(id, 'b', now + 90_000, now + 150_000)).toMatchObject({ claimedBy: 'b', attempts: 2 });
      await store.markRetry(id, { retryAt: now + 60_000, error: 'telegram 500', countAttempt: true });
      expect(await store.pendingDeliveries(now)).toEqual([]);
      expect((await store.pendingDeliveries(now + 60_000))[0]).toMatchObject({ status: 'pending', attempts: 2, lastError: 'telegram 500' });
      expect((await store.delivery(id))?.claimedBy).toBeUndefined();
      await store.claimDelivery(id, 'local', now, now + 60_000);
      await store.markRetry(id, { retryAt: now, error: 'telegram 429', countAttempt: false });
      expect((await store.delivery(id))?.attempts).toBe(2);
      await store.claimDelivery(id, 'local', now, now + 60_000);
      await store.markSent(id, now + 5);
      expect(await store.delivery(id)).toMatchObject({ status: 'sent', sentAt: now + 5, attempts: 3 });
      // A digest sent is never claimed again.
      expect(await store.claimDelivery(id, 'b', now + 10 ** 9, now + 10 ** 9)).toBeUndefined();
      expect(await store.deliveryCounts()).toEqual({ pending: 0, sending: 0, sent: 1, dropped: 0 });
    });

    it('stops a chat that blocked the bot: all its subscriptions, its undelivered digests dropped and their passages released', async () => {
      const a = await added();
      const b = await added({ topic: '教育' });
      const other = await added({ chatId: 2 });
      const da = (await store.recordChoice({ subscriptionId: a.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now }))!;
      const dOther = (await store.recordChoice({ subscriptionId: other.id, chatId: 2, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now }))!;
      expect(await store.stopChat(1, 'telegram 403: Forbidden: bot was blocked by the user', now)).toEqual({ subscriptions: 2, dropped: 1 });
      expect(await store.subscription(a.id)).toMatchObject({ status: 'stopped', stoppedReason: expect.stringMatching(/403/) });
      expect((await store.subscription(a.id))?.nextRunAt).toBeUndefined();
      expect((await store.subscription(b.id))?.status).toBe('stopped');
      expect((await store.delivery(da))?.status).toBe('dropped');
      expect((await store.usedPassages(a.id, 1)).size).toBe(0);
      expect((await store.delivery(dOther))?.status).toBe('pending');
      expect((await store.due(now + 10)).map((s) => s.id)).toEqual([other.id]);
    });

    it('removing a subscription removes its ledger and passages', async () => {
      const a = await added();
      await store.recordChoice({ subscriptionId: a.id, chatId: 1, localDate: '2026-01-05', content: content(), passageKeys: ['a'], round: 1, nextRunAt: now + 1, now });
      expect(await store.removeSubscription(a.id)).toBe(true);
      expect(await db.get('SELECT (SELECT COUNT(*) FROM digest_deliveries) + (SELECT COUNT(*) FROM digest_passages) AS n')).toEqual({ n: 0 });
    });

    it('records documents: the first sync is the baseline, later ones (and changed ones) are new', async () => {
      expect(await store.syncDocuments([{ file: 'a.txt', checksum: '1' }, { file: 'b.txt', checksum: '1' }], now)).toEqual([]);
      expect((await store.newDocuments(0)).size).toBe(0);
      expect(await store.syncDocuments([{ file: 'a.txt', checksum: '1' }, { file: 'b.txt', checksum: '2' }, { file: 'c.txt', checksum: '1' }], now + 10)).toEqual(['b.txt', 'c.txt']);
      expect(await store.newDocuments(now)).toEqual(new Set(['b.txt', 'c.txt']));
      expect((await store.newDocuments(now + 11)).size).toBe(0);
    });

    it('a due slot is claimed by one caller: the compare-and-set on next_run_at', async () => {
      const s = await added();
      now += 2000;
      const [due] = await store.due(now);
      expect(due?.id).toBe(s.id);
      const claims = await Promise.all([store.claimDue(due!, now + 60_000), store.claimDue(due!, now + 60_001), store.claimDue(due!, now + 60_002)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.due(now)).toEqual([]);
      // Its claimer died: the slot is due again once the claim runs out.
      expect((await store.due(now + 60_002)).map((x) => x.id)).toEqual([s.id]);
    });

    it('keeps previews for their buttons', async () => {
      const id = await store.savePreview(5, content({ preview: true }), now);
      expect(await store.preview(id)).toMatchObject({ chatId: 5, content: { preview: true } });
    });
  });
});
