import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishGeneration } from '../../src/index/index-generations.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { SCHEDULER_DEFAULTS } from '../../src/digest/scheduler.ts';
import { DigestStore } from '../../src/store/digest-store.ts';
import { openPostgresDatabase } from '../../src/store/postgres-database.ts';
import type { Database } from '../../src/store/sql.ts';
import { BotApiEmulator, type RecordedCall } from '../helpers/bot-api-emulator.ts';
import { Fleet, logLines, peakPerSecond, until } from '../helpers/fleet.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';
import { copyCorpusIndex, tempDir } from '../helpers/test-index.ts';
import { REPO } from './start.ts';

/**
 * Several instances of one bot, as deployed: three `src/main.ts` processes in webhook mode
 * behind a round-robin load balancer, on one PostgreSQL database and one shared index
 * folder, with the Bot API emulator (Telegram's flood limits) delivering webhooks and
 * redelivering what is not acknowledged.
 *
 * 100 chats with questions and button presses; a new index generation published while
 * questions are answered; then 2,000 digests due at the same moment with one instance
 * killed (kill -9) mid-fan-out, at Telegram's 30 messages a second (about 70 s, most of it
 * waiting on the budget: it runs beside the other test files). bench/bench-fleet.ts
 * measures the same scenario's rates.
 */

const Q1 = '武清区2025年森林覆盖率目标是多少？';
const Q2 = '津南区十四五期间要建设哪些医院？';
/** The fleet's budget, and the emulator's flood limit: Telegram's. */
const BUDGET_PER_SECOND = 30;
const SUBSCRIPTIONS = 2000;

let database: TestDatabase;
let db: Database;
let emulator: BotApiEmulator;
let fleet: Fleet;
const scratch: string[] = [];

/** Sends accepted by the emulator (the ones Telegram would deliver). */
function accepted(methods = ['sendMessage', 'sendPhoto', 'sendDocument']): RecordedCall[] {
  return emulator.sent.filter((c) => methods.includes(c.method) && c.result !== undefined && !c.error);
}

/** When a log line was written (pino's ISO time), in ms. */
function logTime(line: Record<string, unknown> | undefined): number | undefined {
  return line === undefined ? undefined : Date.parse(String(line.time));
}

function errorsLogged(): string[] {
  return fleet.instances.flatMap((i) => logLines(i).filter((l) => Number(l.level) >= 50).map((l) => `${i.port}: ${String(l.msg)} ${JSON.stringify(l.err ?? '')}`));
}

beforeAll(async () => {
  if (!postgresAvailable) return;
  database = await createTestDatabase();
  db = await openPostgresDatabase(database.url, { maxConnections: 2 });
  const stateDir = copyCorpusIndex();
  const shared = tempDir('plan-qa-fleet-index-');
  scratch.push(stateDir, shared);
  await publishGeneration(await currentBuildDir(stateDir), shared);
  emulator = await BotApiEmulator.start({ globalRatePerSecond: BUDGET_PER_SECOND, perChatPerMinute: 20, webhookRetryMs: 300 });
  fleet = await Fleet.start(3, {
    emulator,
    databaseUrl: database.url,
    sharedIndexDir: shared,
    corpusDir: path.join(REPO, 'data/corpus'),
    env: { RATE_LIMIT_PER_MINUTE: '100', TELEGRAM_MESSAGES_PER_SECOND: String(BUDGET_PER_SECOND), DIGEST_CLAIM_LEASE_MS: '2000', SHUTDOWN_DRAIN_MS: '1000' },
  });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await emulator?.close();
  await db?.close();
  await database?.drop();
  for (const dir of scratch) await fs.rm(dir, { recursive: true, force: true });
});

describe.skipIf(!postgresAvailable)('a fleet of three instances behind a load balancer', () => {
  it('100 chats: every question answered once and in its chat\'s order, button presses on any instance, no 429', async () => {
    const chats = Array.from({ length: 100 }, (_, i) => ({ id: 50_001 + i, first_name: `U${i}` }));
    const twice = new Set(chats.slice(0, 25).map((c) => c.id));
    for (const user of chats) {
      emulator.sendMessage(user.id, user, Q1);
      // A quarter of them ask again at once: two updates of one chat in flight on different instances.
      if (twice.has(user.id)) emulator.sendMessage(user.id, user, Q2);
    }
    const wanted = (id: number) => (twice.has(id) ? 2 : 1);
    await until(() => chats.every((c) => emulator.messagesIn(c.id).length >= wanted(c.id)), 60_000, () => `${chats.filter((c) => emulator.messagesIn(c.id).length < wanted(c.id)).length} chats unanswered`);
    for (const c of chats) {
      const messages = emulator.messagesIn(c.id);
      expect(messages[0]?.text).toMatch(/13%/);
      if (twice.has(c.id)) expect(messages[1]?.text).toMatch(/医院/);
    }

    // 👍 under each first answer: pressed wherever the load balancer sends it, on an answer another instance may have written.
    for (const user of chats) {
      const first = emulator.messagesIn(user.id)[0]!;
      const up = first.reply_markup!.inline_keyboard.flat().find((b) => b.text === '👍') as { callback_data: string };
      emulator.pressButton(user.id, user, first.message_id, up.callback_data);
    }
    await until(() => chats.every((c) => emulator.messagesIn(c.id)[0]!.reply_markup!.inline_keyboard.flat().some((b) => b.text === '👍 1')), 30_000, () => 'feedback not shown');
    await new Promise((r) => setTimeout(r, 500));
    // Once each: no redelivery, no second instance handled anything twice.
    for (const c of chats) expect(emulator.messagesIn(c.id)).toHaveLength(wanted(c.id));
    const callbacks = emulator.calls('answerCallbackQuery');
    expect(callbacks.filter((c) => !c.error)).toHaveLength(100);
    expect(new Set(callbacks.map((c) => c.params.callback_query_id)).size).toBe(100);
    expect(emulator.sent.filter((c) => c.error?.error_code === 429)).toEqual([]);
    // The load balancer really spread them.
    for (const i of fleet.instances) expect(fleet.proxy.handled.get(i.port) ?? 0).toBeGreaterThan(30);
    expect(errorsLogged()).toEqual([]);
  }, 120_000);

  it('a new index generation published while questions are answered: every instance on it within 5 s, each answer from one generation, no error', async () => {
    const shared = scratch[1]!;
    const current = (await fs.readFile(path.join(shared, 'CURRENT'), 'utf8')).trim();
    const oldBuiltAt = (JSON.parse(await fs.readFile(path.join(shared, current, 'manifest.json'), 'utf8')) as { builtAt: string }).builtAt;
    // The next build, as `npm run ingest` would publish it (same chunks, its own manifest).
    const next = path.join(tempDir('plan-qa-fleet-build-'), 'build-next');
    scratch.push(path.dirname(next));
    await fs.cp(path.join(shared, current), next, { recursive: true });
    const newBuiltAt = new Date(Date.now() + 1000).toISOString();
    const manifest = JSON.parse(await fs.readFile(path.join(next, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await fs.writeFile(path.join(next, 'manifest.json'), JSON.stringify({ ...manifest, builtAt: newBuiltAt }));

    const users = Array.from({ length: 40 }, (_, i) => ({ id: 60_001 + i, first_name: `G${i}` }));
    users.slice(0, 20).forEach((u) => emulator.sendMessage(u.id, u, Q1));
    await new Promise((r) => setTimeout(r, 300));
    const published = Date.now();
    await publishGeneration(next, shared);
    users.slice(20).forEach((u) => emulator.sendMessage(u.id, u, Q1));
    const switchedAt = () =>
      fleet.instances.map((i) => logTime(logLines(i).find((l) => l.msg === 'switched to a new index generation')));
    await until(() => switchedAt().every((t) => t !== undefined), 10_000, () => `switched: ${JSON.stringify(switchedAt())}`);
    const slowest = Math.max(...switchedAt().map((t) => t!)) - published;
    expect(slowest).toBeLessThan(5_000);
    await until(() => users.every((u) => emulator.messagesIn(u.id).length === 1), 30_000, () => 'questions unanswered');

    const answered = fleet.instances.flatMap((i) => logLines(i).filter((l) => l.msg === 'answered' && logTime(l)! >= published - 2000));
    expect(answered.length).toBeGreaterThanOrEqual(20);
    for (const a of answered) expect([oldBuiltAt, newBuiltAt]).toContain(a.index);
    // Whatever an instance started answering after it switched came from the new generation (`ms`: since the update arrived).
    for (const [n, i] of fleet.instances.entries()) {
      for (const a of logLines(i).filter((l) => l.msg === 'answered' && logTime(l)! - Number(l.ms) > switchedAt()[n]! + 50)) expect(a.index).toBe(newBuiltAt);
    }
    expect(errorsLogged()).toEqual([]);
  }, 60_000);

  it(`${SUBSCRIPTIONS} digests due at once, one instance killed mid-fan-out: each subscription's digest sent once (only a part in flight at the kill may repeat), none lost, the fleet within its budget`, async () => {
    const store = new DigestStore(db);
    const topics = ['生态环境', '养老', '教育', '交通', '医疗卫生', '科技创新'];
    const dueAt = Date.now() + 1500;
    const ids: number[] = [];
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const chatId = 70_001 + i;
      emulator.registerChat(chatId);
      const r = await store.addSubscription({ chatId, topic: topics[i % topics.length]!, sendTime: '08:00', timeZone: 'Asia/Shanghai', nextRunAt: dueAt }, 5);
      if (!r.ok) throw new Error(`subscribe refused: ${r.reason}`);
      ids.push(r.subscription.id);
    }
    const digestChats = new Set(Array.from({ length: SUBSCRIPTIONS }, (_, i) => 70_001 + i));
    const digestSends = () => accepted().filter((c) => digestChats.has(Number(c.params.chat_id)));
    const before = emulator.sent.length;
    // Kill one instance once the fan-out is under way.
    await until(() => digestSends().length >= 10, 30_000, () => 'the fan-out did not start');
    const victim = fleet.instances[0]!;
    const sentByVictim = logLines(victim).length;
    await fleet.kill(victim);
    fleet.proxy.backends = fleet.proxy.backends.filter((p) => p !== victim.port);

    const sentRows = async () => (await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM digest_deliveries WHERE status = 'sent'"))[0]!.n;
    await until(async () => (await sentRows()) >= SUBSCRIPTIONS, 180_000, () => `digests sent: ${digestSends().length}`);
    await new Promise((r) => setTimeout(r, 1000));

    // Counted at Telegram: every subscription's chat got its digest. A part the killed instance
    // had sent when it died, before it could record it, is sent again by the instance that
    // takes its digest over (Telegram cannot be asked what arrived): at most the sends it had
    // in flight at that instant, which its digest concurrency bounds (seen: 0 to 4); none
    // otherwise. Two instances sending the same digests would repeat hundreds.
    const perChat = new Map<number, string[]>();
    for (const c of digestSends()) perChat.set(Number(c.params.chat_id), [...(perChat.get(Number(c.params.chat_id)) ?? []), `${c.method}:${String(c.params.text ?? c.params.caption ?? '')}`]);
    expect(perChat.size).toBe(SUBSCRIPTIONS);
    const repeated = [...perChat.values()].reduce((n, parts) => n + parts.length - new Set(parts).size, 0);
    if (repeated > 0) console.info(`fleet: ${repeated} digest part(s) in flight at the kill went out twice`);
    expect(repeated).toBeLessThanOrEqual(SCHEDULER_DEFAULTS.concurrency);
    // And in the ledger: one row per subscription for the day, sent.
    const rows = await db.all<{ subscription_id: number; n: number }>("SELECT subscription_id, COUNT(*) AS n FROM digest_deliveries WHERE status = 'sent' GROUP BY subscription_id");
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 1));
    // Never over the fleet's budget, and Telegram never had to say 429.
    const sends = accepted().filter((c) => emulator.sent.indexOf(c) >= before);
    expect(peakPerSecond(sends)).toBeLessThanOrEqual(BUDGET_PER_SECOND);
    expect(emulator.sent.slice(before).filter((c) => c.error?.error_code === 429)).toEqual([]);
    expect(sentByVictim).toBeGreaterThan(0);
  }, 240_000);
});
