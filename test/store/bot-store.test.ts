import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotStore, type AnswerRecordInput } from '../../src/store/bot-store.ts';
import { databaseFile, migrate, openDatabase, type Database } from '../../src/store/database.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';

let dir: string;
let db: Database;
let now: number;
let store: BotStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-store-'));
  db = openDatabase(databaseFile(dir));
  now = Date.UTC(2026, 0, 1);
  store = new BotStore(db, { now: () => now });
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
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
  it('opens in WAL mode and applies each migration once', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(migrate(db, MIGRATIONS)).toEqual([]);
    const ids = (db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).map((r) => r.id);
    expect(ids).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('applies appended migrations on reopen (how the digest adds its tables)', () => {
    db.close();
    const more = [...MIGRATIONS, { id: '900-test', up: 'CREATE TABLE extra (id INTEGER PRIMARY KEY)' }];
    db = openDatabase(databaseFile(dir), { migrations: more });
    db.prepare('INSERT INTO extra (id) VALUES (1)').run();
    store = new BotStore(db, { now: () => now });
    expect(store.stats().questions.total).toBe(0);
  });

  it('refuses a database written by a newer version', () => {
    db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES ('999-future', 0)").run();
    expect(() => migrate(db, MIGRATIONS)).toThrow(/store: the database has migrations this program does not know \(999-future\)/);
  });

  it('rolls back a failing migration as a whole', () => {
    const bad = [...MIGRATIONS, { id: '901-bad', up: 'CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);' }];
    expect(() => migrate(db, bad)).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    expect(db.prepare("SELECT id FROM schema_migrations WHERE id = '901-bad'").get()).toBeUndefined();
  });
});

describe('answers and history', () => {
  it('round-trips an answer record with its sources', () => {
    const id = store.saveAnswer(answer());
    store.setMessageId(id, 77);
    store.setLatency(id, 12.6);
    expect(store.answer(id)).toMatchObject({ id, kind: 'answer', chatId: 1, messageId: 77, latencyMs: 13, found: true, sources: [{ n: 1, quote: [0, 10] }], shown: ['a.txt#1-2'] });
    expect(store.answer(id + 1)).toBeUndefined();
  });

  it('keeps the last turns, oldest first, within the age limit and after /new', () => {
    for (let i = 1; i <= 6; i++) {
      store.saveAnswer(answer({ standalone: `问题${i}`, answerText: `回答${i}` }));
      now += 60_000;
    }
    store.saveAnswer(answer({ chatId: 2, standalone: '别的聊天' }));
    store.saveAnswer(answer({ kind: 'more', standalone: '更多' }));
    expect(store.history(1, { limit: 3, maxAgeMs: 3600_000 })).toEqual([
      { q: '问题4', answer: '回答4' },
      { q: '问题5', answer: '回答5' },
      { q: '问题6', answer: '回答6' },
    ]);
    expect(store.history(1, { limit: 10, maxAgeMs: 150_000 }).map((t) => t.q)).toEqual(['问题5', '问题6']);
    store.clearHistory(1);
    expect(store.history(1, { limit: 10, maxAgeMs: 3600_000 })).toEqual([]);
    now += 1;
    store.saveAnswer(answer({ standalone: '新话题' }));
    expect(store.history(1, { limit: 10, maxAgeMs: 3600_000 }).map((t) => t.q)).toEqual(['新话题']);
  });
});

describe('chats, feedback and stats', () => {
  it('tracks chats and blocked ones', () => {
    store.touchChat({ id: 1, type: 'private' });
    store.touchChat({ id: -5, type: 'group', title: '组' });
    store.markBlocked(1);
    expect(store.isBlocked(1)).toBe(true);
    expect(store.stats().chats).toMatchObject({ private: 1, groups: 1, blocked: 1 });
    store.touchChat({ id: 1, type: 'private' });
    expect(store.isBlocked(1)).toBe(false);
  });

  it('stores one vote per user and answer; pressing the same again takes it back', () => {
    const id = store.saveAnswer(answer());
    expect(store.setFeedback(id, 1, 1)).toEqual({ up: 1, down: 0, vote: 1 });
    expect(store.setFeedback(id, 2, -1)).toEqual({ up: 1, down: 1, vote: -1 });
    expect(store.setFeedback(id, 1, -1)).toEqual({ up: 0, down: 2, vote: -1 });
    expect(store.setFeedback(id, 1, -1)).toEqual({ up: 0, down: 1, vote: 0 });
  });

  it('counts questions, latency percentiles, feedback', () => {
    for (let i = 1; i <= 20; i++) store.saveAnswer(answer({ found: i % 4 !== 0, latencyMs: i * 10 }));
    store.saveAnswer(answer({ kind: 'inline', chatId: undefined }));
    const id = store.saveAnswer(answer({ kind: 'more' }));
    store.setFeedback(id, 5, 1);
    const s = store.stats();
    expect(s.questions).toMatchObject({ total: 20, last24h: 20, found: 15, notFound: 5 });
    expect(s.latencyMs).toEqual({ samples: 20, p50: 100, p95: 190, max: 200 });
    expect([s.inline, s.morePages]).toEqual([1, 1]);
    expect(s.feedback).toEqual({ up: 1, down: 0, answersRated: 1 });
  });
});
