import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotStore, type AnswerRecordInput } from '../../src/store/bot-store.ts';
import { migrate, type Database } from '../../src/store/sql.ts';
import { UpdateJournal } from '../../src/store/update-journal.ts';
import { migrationsOf, newTestStore, STORE_ENGINES, type TestStore } from '../helpers/store-engines.ts';

describe.each(STORE_ENGINES)('bot store on $engine', ({ engine }) => {
  let test: TestStore;
  let db: Database;
  let now: number;
  let store: BotStore;
  const migrations = migrationsOf(engine);

  beforeEach(async () => {
    test = await newTestStore(engine);
    db = await test.open();
    now = Date.UTC(2026, 0, 1);
    store = new BotStore(db, { now: () => now });
  });
  afterEach(async () => {
    await test.cleanup();
  });

  function answer(overrides: Partial<AnswerRecordInput> = {}): AnswerRecordInput {
    return {
      kind: 'answer',
      chatId: 1,
      userId: 1,
      question: '武清区2025年森林覆盖率目标是多少？',
      standalone: '武清区2025年森林覆盖率目标是多少？',
      answerText: '森林覆盖率：2025年目标13%[1]',
      found: true,
      mode: 'extractive',
      sources: [{ n: 1, chunkId: 'a.txt#1-2', file: 'a.txt', title: '规划', district: '武清区', section: '第一章', excerpt: '森林覆盖率达到13%。', quote: [0, 10] }],
      shown: ['a.txt#1-2'],
      ...overrides,
    };
  }

  describe('database', () => {
    it('applies each migration once', async () => {
      expect(await migrate(db, migrations)).toEqual([]);
      const ids = (await db.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id);
      expect(ids).toEqual(migrations.map((m) => m.id));
    });

    // PostgreSQL: instances starting together. (SQLite's instances are processes, serialized by
    // BEGIN IMMEDIATE; connections in one thread would wait on each other synchronously.)
    it.skipIf(engine === 'sqlite')('several instances migrating one new database at once apply each migration once', async () => {
      const fresh = await newTestStore(engine);
      try {
        const all = await Promise.all(Array.from({ length: 4 }, () => fresh.open()));
        const rows = await all[0]!.all<{ id: string; n: number }>('SELECT id, COUNT(*) AS n FROM schema_migrations GROUP BY id ORDER BY id');
        expect(rows).toEqual(migrations.map((m) => ({ id: m.id, n: 1 })));
        expect(await new BotStore(all[3]!).saveAnswer(answer())).toBe(1);
      } finally {
        await fresh.cleanup();
      }
    });

    it('applies appended migrations on reopen (how the digest adds its tables)', async () => {
      const more = [...migrations, { id: '900-test', up: 'CREATE TABLE extra (id INTEGER PRIMARY KEY)' }];
      const reopened = await test.open({ migrations: more });
      await reopened.run('INSERT INTO extra (id) VALUES (1)');
      expect((await new BotStore(reopened, { now: () => now }).stats()).questions.total).toBe(0);
    });

    it('refuses a database written by a newer version, naming it', async () => {
      await db.run("INSERT INTO schema_migrations (id, applied_at) VALUES ('999-future', 0)");
      await expect(migrate(db, migrations)).rejects.toThrow(/^store: .+ has migrations this program does not know \(999-future\); it was written by a newer version/);
      await expect(test.open()).rejects.toThrow(/has migrations this program does not know \(999-future\)/);
    });

    it('rolls back a failing migration as a whole', async () => {
      const bad = [...migrations, { id: '901-bad', up: 'CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);' }];
      await expect(migrate(db, bad)).rejects.toThrow();
      expect((await db.tables()).has('half')).toBe(false);
      expect(await db.get("SELECT id FROM schema_migrations WHERE id = '901-bad'")).toBeUndefined();
    });

    it('keeps Telegram ids past 2^31 and negative group ids exactly', async () => {
      const group = -1001234567890;
      await store.touchChat({ id: group, type: 'supergroup', title: '群' });
      await store.markBlocked(group);
      expect(await store.isBlocked(group)).toBe(true);
      const id = await store.saveAnswer(answer({ chatId: group, userId: 7_000_000_001 }));
      expect(await store.answerInChat(id, group)).toMatchObject({ chatId: group, userId: 7_000_000_001 });
    });
  });

  describe('update journal', () => {
    it('keeps an update from arrival until done; replays what is left, giving up old or often-tried ones', async () => {
      const journal = new UpdateJournal(db, { now: () => now });
      await journal.accept(10, '{"update_id":10}');
      await journal.accept(10, '{"update_id":10}');
      await journal.record(10, '{"update_id":10}');
      await journal.record(11, '{"update_id":11}');
      await journal.record(11, '{"update_id":11}');
      await journal.record(12, '{"update_id":12}');
      await journal.done(12);
      expect(await journal.count()).toBe(2);
      now += 1000;
      const { pending, dropped } = await journal.takePending({ maxAttempts: 2, maxAgeMs: 60_000 });
      expect(dropped).toBe(1); // 11 was started twice
      expect(pending).toEqual([{ updateId: 10, body: '{"update_id":10}', attempts: 1, receivedAt: now - 1000 }]);
    });
  });

  describe('answers and history', () => {
    it('round-trips an answer record with its sources', async () => {
      const id = await store.saveAnswer(answer());
      await store.setMessageId(id, 77);
      await store.setLatency(id, 12.6);
      expect(await store.answer(id)).toMatchObject({ id, kind: 'answer', chatId: 1, messageId: 77, latencyMs: 13, found: true, sources: [{ n: 1, quote: [0, 10] }], shown: ['a.txt#1-2'] });
      expect(await store.answer(id + 1)).toBeUndefined();
    });

    it('keeps the last turns, oldest first, within the age limit and after /new', async () => {
      for (let i = 1; i <= 6; i++) {
        await store.saveAnswer(answer({ standalone: `问题${i}`, answerText: `回答${i}` }));
        now += 60_000;
      }
      await store.saveAnswer(answer({ chatId: 2, standalone: '别的聊天' }));
      await store.saveAnswer(answer({ kind: 'more', standalone: '更多' }));
      expect(await store.history(1, { limit: 3, maxAgeMs: 3600_000 })).toEqual([
        { q: '问题4', answer: '回答4' },
        { q: '问题5', answer: '回答5' },
        { q: '问题6', answer: '回答6' },
      ]);
      expect((await store.history(1, { limit: 10, maxAgeMs: 150_000 })).map((t) => t.q)).toEqual(['问题5', '问题6']);
      await store.clearHistory(1);
      expect(await store.history(1, { limit: 10, maxAgeMs: 3600_000 })).toEqual([]);
      now += 1;
      await store.saveAnswer(answer({ standalone: '新话题' }));
      expect((await store.history(1, { limit: 10, maxAgeMs: 3600_000 })).map((t) => t.q)).toEqual(['新话题']);
    });
  });

  describe('chats, feedback and stats', () => {
    it('tracks chats and blocked ones', async () => {
      await store.touchChat({ id: 1, type: 'private' });
      await store.touchChat({ id: -5, type: 'group', title: '组' });
      await store.markBlocked(1);
      expect(await store.isBlocked(1)).toBe(true);
      expect((await store.stats()).chats).toMatchObject({ private: 1, groups: 1, blocked: 1 });
      await store.touchChat({ id: 1, type: 'private' });
      expect(await store.isBlocked(1)).toBe(false);
    });

    it('stores one vote per user and answer; pressing the same again takes it back', async () => {
      const id = await store.saveAnswer(answer());
      expect(await store.setFeedback(id, 1, 1)).toEqual({ up: 1, down: 0, vote: 1 });
      expect(await store.setFeedback(id, 2, -1)).toEqual({ up: 1, down: 1, vote: -1 });
      expect(await store.setFeedback(id, 1, -1)).toEqual({ up: 0, down: 2, vote: -1 });
      expect(await store.setFeedback(id, 1, -1)).toEqual({ up: 0, down: 1, vote: 0 });
    });

    it('counts questions, latency percentiles, feedback', async () => {
      for (let i = 1; i <= 20; i++) await store.saveAnswer(answer({ found: i % 4 !== 0, latencyMs: i * 10 }));
      await store.saveAnswer(answer({ kind: 'inline', chatId: undefined }));
      const id = await store.saveAnswer(answer({ kind: 'more' }));
      await store.setFeedback(id, 5, 1);
      const s = await store.stats();
      expect(s.questions).toMatchObject({ total: 20, last24h: 20, found: 15, notFound: 5 });
      expect(s.latencyMs).toEqual({ samples: 20, p50: 100, p95: 190, max: 200 });
      expect([s.inline, s.morePages]).toEqual([1, 1]);
      expect(s.feedback).toEqual({ up: 1, down: 0, answersRated: 1 });
    });
  });
});
