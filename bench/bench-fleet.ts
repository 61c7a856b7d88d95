import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { publishGeneration } from '../src/index/index-generations.ts';
import { createPostgres } from '../src/postgres-client.ts';
import { DigestStore } from '../src/store/digest-store.ts';
import { openPostgresDatabase } from '../src/store/postgres-database.ts';
import { BotApiEmulator } from '../test/helpers/bot-api-emulator.ts';
import { Fleet, logLines, peakPerSecond, until } from '../test/helpers/fleet.ts';
import { OpenAiTestServer, TEST_MODEL_ID } from '../test/helpers/openai-server.ts';
import { startCluster } from '../test/helpers/postgres-cluster.ts';
import { modelReply } from './bench-llm.ts';
import { REPO_ROOT } from './bench-paths.ts';
import { benchTempDir } from './bench-temp.ts';

/**
 * Bench section "fleet": the issue's scenario at full scale, on the real product —
 * `src/main.ts` instances in webhook mode behind a round-robin load balancer, one
 * PostgreSQL database (PG_TEST_URL, or a throwaway cluster started here), one shared
 * index folder, the Bot API emulator with Telegram's flood limits (30 messages a second,
 * 20 a minute per group) delivering webhooks.
 *
 * 1. Answers per second with 1, 2 and 3 instances when each answer waits on a slow model
 *    (the OpenAI-compatible test server replies after 2 s): 150 chats ask at once.
 * 2. Generation switch: a new index generation published; time until every one of 3
 *    instances serves it (3 times).
 * 3. Digest fan-out: 2,000 subscriptions due at the same moment, 3 instances, one killed
 *    (kill -9) a third of the way through: rate, peak sends in any second, 429s, and per
 *    subscription duplicates and losses, counted at the emulator and in the ledger.
 */

const QUESTIONS = ['武清区2025年森林覆盖率目标是多少？', '武清区十四五期间要建设哪些医院？', '河北区十四五期间要建设哪些产业园区？', '津南区会展经济有哪些重点项目？', '津南区养老服务设施有多少家？'];
const MODEL_DELAY_MS = 2000;
const say = (msg: string) => process.stderr.write(`bench fleet: ${msg}\n`);

export async function benchFleet(options: { subscriptions?: number; chats?: number } = {}): Promise<Record<string, unknown>> {
  const subscriptions = options.subscriptions ?? (Number(process.env.BENCH_FLEET_SUBSCRIPTIONS) || 2000);
  const chats = options.chats ?? 150;
  const repo = REPO_ROOT;
  const cluster = process.env.PG_TEST_URL ? undefined : await startCluster();
  const adminUrl = process.env.PG_TEST_URL ?? cluster!.url;
  const scratch: string[] = [];
  const result: Record<string, unknown> = {};
  const model = await OpenAiTestServer.start();
  model.setDefaultChat({
    kind: 'dynamic',
    handler: (req) => {
      const content = modelReply(req);
      return req.stream ? { kind: 'stream', chunks: [content], delayMs: MODEL_DELAY_MS } : { kind: 'json', content, delayMs: MODEL_DELAY_MS };
    },
  });
  try {
    // One index, published as the fleet's first generation.
    const stateDir = benchTempDir('plan-qa-bench-fleet-').path;
    const shared = benchTempDir('plan-qa-bench-fleet-index-').path;
    scratch.push(stateDir, shared);
    const built = await buildIndex(parseConfig({ STATE_DIR: stateDir, CORPUS_DIR: path.join(repo, 'data/corpus'), LOG_LEVEL: 'silent' }, repo));
    await publishGeneration(built.dir, shared);

    const newDatabase = async (name: string) => {
      const admin = createPostgres(adminUrl, { max: 1 });
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.close();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    };
    const startFleet = async (n: number, emulator: BotApiEmulator, databaseUrl: string, env: Record<string, string> = {}) =>
      Fleet.start(n, { emulator, databaseUrl, sharedIndexDir: shared, corpusDir: path.join(repo, 'data/corpus'), env: { RATE_LIMIT_PER_MINUTE: '1000', LOG_LEVEL: 'info', ...env } });

    // 1. Answers per second with a slow model.
    const throughput: Record<string, unknown> = {};
    for (const n of [1, 2, 3]) {
      const emulator = await BotApiEmulator.start({ globalRatePerSecond: 30, perChatPerMinute: 20 });
      const databaseUrl = await newDatabase(`bench_fleet_answers_${n}`);
      const fleet = await startFleet(n, emulator, databaseUrl, { CHAT_MODEL: TEST_MODEL_ID, OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'bench-key-123' }).catch(async (err: unknown) => {
        await emulator.close();
        throw err;
      });
      try {
        say(`${n} instance(s): ${chats} chats ask at once, the model answers after ${MODEL_DELAY_MS} ms…`);
        const users = Array.from({ length: chats }, (_, i) => ({ id: 100_000 * n + i, first_name: `B${i}` }));
        const t0 = Date.now();
        users.forEach((u, i) => emulator.sendMessage(u.id, u, QUESTIONS[i % QUESTIONS.length]!));
        const done = () => users.filter((u) => emulator.messagesIn(u.id)[0]?.reply_markup !== undefined).length;
        await until(() => done() === users.length, 180_000, () => `answers: ${done()}/${users.length}`);
        const seconds = (Date.now() - t0) / 1000;
        const answered = fleet.instances.flatMap((i) => logLines(i).filter((l) => l.msg === 'answered'));
        const byModel = answered.filter((l) => l.mode !== 'extractive').length;
        const budgeted = emulator.sent.filter((c) => /^(send(?!ChatAction)|edit)/.test(c.method)).length;
        throughput[`${n}`] = {
          answersPerSecond: Math.round((users.length / seconds) * 10) / 10,
          modelAnswersPerSecond: Math.round((byModel / seconds) * 10) / 10,
          seconds: Math.round(seconds * 10) / 10,
          byModel,
          // Over an instance's 16 model calls at once an answer goes out in the offline form at once ("busy").
          fellBack: answered.filter((l) => l.mode === 'extractive').length,
          telegram429s: emulator.sent.filter((c) => c.error?.error_code === 429).length,
          // Sends and edits count against the fleet's 30 a second: the ceiling on answers a second.
          telegramCallsPerAnswer: Math.round((budgeted / users.length) * 10) / 10,
          telegramCallsPerSecond: Math.round((budgeted / seconds) * 10) / 10,
        };
        say(`  ${JSON.stringify(throughput[`${n}`])}`);
      } finally {
        await fleet.stop();
        await emulator.close();
      }
    }
    result.answersWithSlowModel = throughput;

    // 2 and 3 with three instances.
    const emulator = await BotApiEmulator.start({ globalRatePerSecond: 30, perChatPerMinute: 20 });
    const databaseUrl = await newDatabase('bench_fleet_digest');
    const db = await openPostgresDatabase(databaseUrl, { maxConnections: 2 });
    const fleet = await startFleet(3, emulator, databaseUrl, { DIGEST_CLAIM_LEASE_MS: '10000' }).catch(async (err: unknown) => {
      await Promise.all([emulator.close(), db.close()]);
      throw err;
    });
    try {
      const switches: number[] = [];
      for (let round = 1; round <= 3; round++) {
        const next = path.join(benchTempDir('plan-qa-bench-build-').path, 'build-next');
        scratch.push(path.dirname(next));
        await fs.cp(built.dir, next, { recursive: true });
        const manifest = JSON.parse(await fs.readFile(path.join(next, 'manifest.json'), 'utf8')) as Record<string, unknown>;
        await fs.writeFile(path.join(next, 'manifest.json'), JSON.stringify({ ...manifest, builtAt: new Date(Date.now() + round).toISOString() }));
        const switched = () => fleet.instances.map((i) => logLines(i).filter((l) => l.msg === 'switched to a new index generation').length);
        const published = Date.now();
        await publishGeneration(next, shared);
        await until(() => switched().every((k) => k >= round), 30_000, () => 'generation switch');
        const last = Math.max(...fleet.instances.map((i) => Date.parse(String(logLines(i).filter((l) => l.msg === 'switched to a new index generation').at(-1)!.time))));
        switches.push(last - published);
      }
      result.generationSwitchMs = switches;
      say(`generation switch, all 3 instances: ${switches.join(', ')} ms`);

      say(`digests: ${subscriptions} due at once, one of 3 instances killed a third of the way…`);
      const store = new DigestStore(db);
      const topics = ['生态环境', '养老', '教育', '交通', '医疗卫生', '科技创新', '营商环境', '乡村振兴'];
      const dueAt = Date.now() + 3000;
      const subs: Array<{ id: number; chatId: number }> = [];
      for (let i = 0; i < subscriptions; i++) {
        const chatId = 5_000_000 + i;
        emulator.registerChat(chatId);
        const r = await store.addSubscription({ chatId, topic: topics[i % topics.length]!, sendTime: '08:00', timeZone: 'Asia/Shanghai', nextRunAt: dueAt }, 5);
        if (!r.ok) throw new Error(`bench fleet: subscribe refused (${r.reason})`);
        subs.push({ id: r.subscription.id, chatId });
      }
      const chatsOf = new Set(subs.map((s) => s.chatId));
      const before = emulator.sent.length;
      const digestSends = () => emulator.sent.slice(before).filter((c) => /^send(Message|Photo)$/.test(c.method) && c.result !== undefined && !c.error && chatsOf.has(Number(c.params.chat_id)));
      await until(() => digestSends().length >= subscriptions / 3, 300_000, () => 'the fan-out did not reach a third');
      const killedAt = Date.now();
      await fleet.kill(fleet.instances[0]!);
      fleet.proxy.backends = fleet.proxy.backends.filter((p) => p !== fleet.instances[0]!.port);
      const sentRows = async () => (await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM digest_deliveries WHERE status = 'sent'"))[0]!.n;
      await until(async () => (await sentRows()) >= subscriptions, 600_000, () => 'not every digest sent');
      await new Promise((r) => setTimeout(r, 2000));
      const sends = digestSends();
      const perChat = new Map<number, string[]>();
      for (const c of sends) perChat.set(Number(c.params.chat_id), [...(perChat.get(Number(c.params.chat_id)) ?? []), `${c.method}:${String(c.params.text ?? c.params.caption ?? '')}`]);
      const ledger = await db.all<{ subscription_id: number; n: number }>("SELECT subscription_id, COUNT(*) AS n FROM digest_deliveries WHERE status = 'sent' GROUP BY subscription_id");
      const first = sends[0]!.at;
      const last = sends.at(-1)!.at;
      result.digestFanOut = {
        subscriptions,
        instances: 3,
        killedOneAfterSeconds: Math.round((killedAt - first) / 100) / 10,
        seconds: Math.round((last - first) / 100) / 10,
        messagesPerSecond: Math.round(((sends.length - 1) / ((last - first) / 1000)) * 10) / 10,
        peakMessagesInAnySecond: peakPerSecond(sends),
        telegram429s: emulator.sent.slice(before).filter((c) => c.error?.error_code === 429).length,
        chatsWithADigest: perChat.size,
        losses: subs.filter((s) => !perChat.has(s.chatId)).length,
        duplicateMessages: [...perChat.values()].reduce((a, parts) => a + parts.length - new Set(parts).size, 0),
        ledgerRowsSent: ledger.reduce((a, r) => a + r.n, 0),
        ledgerSubscriptionsWithTwo: ledger.filter((r) => r.n > 1).length,
      };
      say(`  ${JSON.stringify(result.digestFanOut)}`);
    } finally {
      await fleet.stop();
      await emulator.close();
      await db.close();
    }
  } finally {
    await model.close();
    for (const dir of scratch) await fs.rm(dir, { recursive: true, force: true });
    await cluster?.stop();
  }
  return result;
}
