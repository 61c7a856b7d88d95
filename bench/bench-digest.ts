import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
import { createBot } from '../src/bot/create-bot.ts';
import { createDigestSender } from '../src/bot/digest-format.ts';
import { parseConfig } from '../src/config.ts';
import { DigestBuilder } from '../src/digest/digest-builder.ts';
import { DigestService } from '../src/digest/digest-service.ts';
import { DigestScheduler, type DigestClock } from '../src/digest/scheduler.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { silentLogger } from '../src/logger.ts';
import { BotStore } from '../src/store/bot-store.ts';
import { databaseFile, openDatabase } from '../src/store/database.ts';
import { DigestStore, type Subscription } from '../src/store/digest-store.ts';
import { BotApiEmulator } from '../test/helpers/bot-api-emulator.ts';
import { percentiles } from './bench-stats.ts';

/**
 * Bench section "digest": one day's digests fanned out to N subscriptions (10,000 by
 * default; BENCH_DIGEST_SUBSCRIPTIONS overrides) through the Bot API emulator, which
 * enforces Telegram's flood limits (30 messages/s overall, 20/min per group), sent by the
 * bot's own API (its throttle and auto-retry) as in production. Reports the rate
 * achieved, 429s, and checks every chat got exactly one digest (duplicates, losses) and
 * the ledger agrees. Also the time to compose one digest (choose + summaries + ledger
 * write), cold (the topic's pool computed) and warm.
 */

const TOPICS = ['生态环境', '养老', '营商环境', '乡村振兴', '京津冀协同', '教育', '交通', '医疗卫生', '文化旅游', '科技创新'];
const SCOPES = ['', '武清区', '津南区', '河北区'];
const say = (msg: string) => process.stderr.write(`bench digest: ${msg}\n`);

export async function benchDigest(options: { subscriptions?: number; groupsShare?: number } = {}): Promise<Record<string, unknown>> {
  const n = options.subscriptions ?? (Number(process.env.BENCH_DIGEST_SUBSCRIPTIONS) || 10_000);
  const groupsShare = options.groupsShare ?? 0.1;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-bench-digest-'));
  const emulator = await BotApiEmulator.start({ globalRatePerSecond: 30, perChatPerMinute: 20 });
  const db = await openDatabase(databaseFile(dir));
  try {
    const config = parseConfig({ STATE_DIR: dir, CORPUS_DIR: process.env.CORPUS_DIR, LOG_LEVEL: 'silent' });
    say('building the index…');
    await buildIndex(config, { rebuild: true });
    const index = await loadPlanIndex(config.index, config.llm);

    // The digest's clock: the day's 08:00 slot has just passed; it runs at real speed from there.
    const day = Date.parse('2026-01-06T00:00:00Z');
    let offset = Date.parse('2026-01-05T04:00:00Z') - Date.now();
    const clock: DigestClock = { now: () => Date.now() + offset, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const store = new DigestStore(db, { now: clock.now });
    const builder = new DigestBuilder({ index: () => index, store });
    const service = new DigestService({ store, builder, config: config.digest, now: clock.now });

    say(`subscribing ${n} chats (${Math.round(groupsShare * 100)}% groups)…`);
    const t0 = performance.now();
    // Topic and district pairs the corpus has passages for.
    const pairs: Array<{ topic: string; district: string }> = [];
    for (const topic of TOPICS) {
      for (const district of SCOPES) {
        const scope = district ? { kind: 'district' as const, value: district, label: district } : undefined;
        if ((await builder.topics().pool(topic, scope)).length >= 3) pairs.push({ topic, district });
      }
    }
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < n; i++) {
      const chatId = i < n * groupsShare ? -(1_000_000 + i) : 1_000_000 + i;
      emulator.registerChat(chatId);
      const { topic, district } = pairs[i % pairs.length]!;
      const result = await service.subscribe({ chatId, topic, time: '08:00', ...(district ? { scope: { kind: 'district', value: district, label: district } } : {}) });
      if (!result.ok) throw new Error(`bench digest: subscribe refused (${result.reason}) for ${topic} ${district}`);
      subscriptions.push(result.subscription);
    }
    const subscribeMs = performance.now() - t0;

    // Composing one digest: the first of a topic computes its pool; later ones reuse it.
    const sample = subscriptions.slice(0, 200);
    const cold: number[] = [];
    const warm: number[] = [];
    const coldBuilder = () => new DigestBuilder({ index: () => index, store });
    for (const sub of sample.slice(0, 20)) {
      const fresh = coldBuilder();
      const s = performance.now();
      await fresh.choose(sub, { localDate: '2026-01-06', catchUp: false, now: day });
      cold.push(performance.now() - s);
    }
    for (const sub of sample) {
      const s = performance.now();
      await builder.choose(sub, { localDate: '2026-01-06', catchUp: false, now: day });
      warm.push(performance.now() - s);
    }

    // The fan-out: the bot's API with its throttle and auto-retry, as main.ts wires it.
    const bot = createBot(emulator.token, {
      telegram: { apiRoot: emulator.apiRoot, port: 0, allowedChatIds: [], adminUserIds: [], rateLimitPerMinute: 10, maxQuestionChars: 500, shutdownDrainMs: 10_000 },
      log: silentLogger(),
      store: new BotStore(db),
      answerer: () => new QuestionAnswerer(index),
    });
    const scheduler = new DigestScheduler({ store, builder, send: createDigestSender(bot.api), clock, log: silentLogger() });
    offset = day + 5_000 - Date.now();
    say(`fan-out of ${n} digests at Telegram's limits (about ${Math.ceil(n / 28)} s)…`);
    const progress = setInterval(() => say(`  ${emulator.calls('sendMessage').filter((c) => !c.error).length}/${n} sent`), 15_000);
    const f0 = performance.now();
    let report;
    try {
      report = await scheduler.tick();
    } finally {
      clearInterval(progress);
    }
    const fanOutSeconds = (performance.now() - f0) / 1000;

    const sends = emulator.calls('sendMessage');
    const accepted = sends.filter((c) => !c.error);
    const perChat = new Map<number, number>();
    for (const c of accepted) perChat.set(Number(c.params.chat_id), (perChat.get(Number(c.params.chat_id)) ?? 0) + 1);
    const duplicates = [...perChat.values()].reduce((a, k) => a + Math.max(0, k - 1), 0);
    const losses = subscriptions.filter((s) => !perChat.has(s.chatId)).length;
    const first = accepted[0]?.at ?? 0;
    const last = accepted.at(-1)?.at ?? 0;
    // The highest number of accepted sends in any one-second window (Telegram allows ~30).
    let peak = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (accepted[i]!.at - accepted[j]!.at >= 1000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    const result = {
      subscriptions: n,
      groups: Math.round(n * groupsShare),
      subscribeMs: Math.round(subscribeMs),
      composeOneDigestMs: { cold: percentiles(cold), warm: percentiles(warm) },
      fanOut: {
        seconds: Math.round(fanOutSeconds * 10) / 10,
        messagesPerSecond: Math.round(((accepted.length - 1) / Math.max(0.001, (last - first) / 1000)) * 10) / 10,
        peakPerSecondWindow: peak,
        telegramLimitPerSecond: 30,
        telegram429s: sends.filter((c) => c.error?.error_code === 429).length,
        otherErrors: sends.filter((c) => c.error && c.error.error_code !== 429).length,
        delivered: perChat.size,
        duplicates,
        losses,
        ledger: await store.deliveryCounts(),
        report,
      },
    };
    say(`${result.fanOut.delivered}/${n} chats, ${result.fanOut.messagesPerSecond} msg/s (peak ${peak} in 1 s), ${result.fanOut.telegram429s} × 429, ${duplicates} duplicates, ${losses} lost`);
    return result;
  } finally {
    await emulator.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
