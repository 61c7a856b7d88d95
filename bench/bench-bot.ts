import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import type { Answer } from '../src/answer/answer.ts';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
import { startLongPolling } from '../src/bot/bot-runtime.ts';
import type { Answering } from '../src/bot/context.ts';
import { createBot } from '../src/bot/create-bot.ts';
import { BotMetrics, summarize } from '../src/bot/metrics.ts';
import { parseConfig, type TelegramConfig } from '../src/config.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { silentLogger } from '../src/logger.ts';
import { BotStore } from '../src/store/bot-store.ts';
import { databaseFile, openDatabase } from '../src/store/database.ts';
import { BotApiEmulator } from '../test/helpers/bot-api-emulator.ts';
import { BENCH_QUESTIONS as QUESTIONS } from './bench-questions.ts';

/**
 * Bench section "bot": 1,000 questions from 100 chats through the Bot API emulator over
 * HTTP, the bot long polling it as in production.
 * - `telegramLimits`: the emulator enforces Telegram's flood limits (30 msg/s, 20/min per
 *   group) and the bot runs its throttle: a burst of 1,000 questions drains at ~30/s.
 * - `capacity`: no server limits, no throttle: how fast the bot itself answers a burst.
 * - `idle`: one question at a time, the latency a user sees when the bot is not busy.
 * Every run checks that each question got exactly one answer, in its chat's order.
 * - `overheadPerUpdate`: the bot's own work per question update (middleware, SQLite,
 *   formatting, splitting, grammY) with answering precomputed and an instant API.
 */


const CHATS = 100;
const PER_CHAT = 10;
const say = (msg: string) => process.stderr.write(`bench bot: ${msg}\n`);

interface LoadResult {
  questions: number;
  answered: number;
  lost: number;
  duplicated: number;
  outOfOrderChats: number;
  seconds: number;
  answersPerSecond: number;
  latencyMs: ReturnType<typeof summarize>;
  telegram429s: number;
  answeringMs: ReturnType<typeof summarize>;
  botOverheadMs: ReturnType<typeof summarize>;
}

function telegramConfig(apiRoot: string): TelegramConfig {
  return { apiRoot, port: 0, allowedChatIds: [], adminUserIds: [], rateLimitPerMinute: 1000, maxQuestionChars: 500, shutdownDrainMs: 10_000 };
}

async function runLoad(answerer: Answering, dir: string, name: string, options: { telegramLimits: boolean; sequential?: boolean; chats?: number; perChat?: number }): Promise<LoadResult> {
  const chats = options.chats ?? CHATS;
  const perChat = options.perChat ?? PER_CHAT;
  const emulator = await BotApiEmulator.start(options.telegramLimits ? { globalRatePerSecond: 30, perChatPerMinute: 20 } : {});
  const db = await openDatabase(databaseFile(path.join(dir, name)));
  const store = new BotStore(db);
  const metrics = new BotMetrics();
  const bot = createBot(emulator.token, {
    telegram: telegramConfig(emulator.apiRoot),
    log: silentLogger(),
    store,
    answerer: () => answerer,
    metrics,
    answerConcurrency: 2, // as main.ts runs offline answering
    ...(options.telegramLimits ? {} : { throttle: false as const }),
  });
  const runtime = await startLongPolling(bot, silentLogger(), { timeoutSeconds: 1 });
  const isAnswer = (c: { method: string; error?: unknown; params: Record<string, unknown> }) =>
    c.method === 'sendMessage' && !c.error && JSON.stringify(c.params.reply_markup ?? '').includes('"f:');
  const total = chats * perChat;
  const asked = new Map<number, Array<{ q: string; at: number }>>();
  const users = Array.from({ length: chats }, (_, c) => ({ id: 100_000 + c, first_name: `用户${c}` }));
  const t0 = Date.now();
  try {
    if (options.sequential) {
      for (let j = 0; j < perChat; j++) {
        for (const [c, user] of users.entries()) {
          const q = QUESTIONS[(c + j) % QUESTIONS.length]!;
          const done = emulator.waitFor((call) => isAnswer(call) && call.params.chat_id === user.id, 10_000);
          asked.set(user.id, [...(asked.get(user.id) ?? []), { q, at: Date.now() }]);
          emulator.sendMessage(user.id, user, q);
          await done;
        }
      }
    } else {
      let answered = 0;
      const done = emulator.waitFor((call) => (isAnswer(call) ? ++answered : answered) >= total, 180_000);
      // Interleaved: every chat's questions are spread over the whole update stream.
      for (let j = 0; j < perChat; j++) {
        for (const [c, user] of users.entries()) {
          const q = QUESTIONS[(c + j) % QUESTIONS.length]!;
          asked.set(user.id, [...(asked.get(user.id) ?? []), { q, at: Date.now() }]);
          emulator.sendMessage(user.id, user, q);
        }
      }
      await done;
    }
    const seconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 500)); // let a late duplicate show itself
    await runtime.stop();

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    let answered = 0;
    const latencies: number[] = [];
    for (const user of users) {
      const questions = asked.get(user.id) ?? [];
      const answers = emulator.sent.filter((c) => isAnswer(c) && c.params.chat_id === user.id);
      answered += answers.length;
      const got: string[] = [];
      for (const c of answers) {
        const data = JSON.stringify(c.params.reply_markup).match(/"f:(\d+):up"/);
        got.push((await store.answer(Number(data?.[1])))?.question ?? '?');
      }
      lost += Math.max(0, questions.length - answers.length);
      duplicated += Math.max(0, answers.length - questions.length);
      if (got.join('\n') !== questions.map((q) => q.q).join('\n')) outOfOrder++;
      answers.forEach((c, k) => {
        const sentAt = questions[k]?.at;
        if (sentAt !== undefined) latencies.push(c.at - sentAt);
      });
    }
    return {
      questions: total,
      answered,
      lost,
      duplicated,
      outOfOrderChats: outOfOrder,
      seconds: Math.round(seconds * 100) / 100,
      answersPerSecond: Math.round((answered / seconds) * 10) / 10,
      latencyMs: summarize(latencies),
      telegram429s: emulator.calls('sendMessage').filter((c) => c.error?.error_code === 429).length,
      answeringMs: summarize(metrics.answerMs),
      botOverheadMs: summarize(metrics.overheadMs),
    };
  } finally {
    await runtime.stop();
    await emulator.close();
    await db.close();
  }
}

/** Per-update cost of the bot itself: answers precomputed, Telegram answering instantly in process. */
async function overheadPerUpdate(answerer: QuestionAnswerer, dir: string): Promise<ReturnType<typeof summarize> & { updates: number }> {
  const cached = new Map<string, Answer>();
  for (const q of QUESTIONS) cached.set(q, await answerer.answer(q, []));
  const instant: Answering = {
    index: answerer.index,
    validate: (q) => answerer.validate(q),
    retrieve: (q, k) => answerer.retrieve(q, k),
    answer: async (q) => cached.get(q) ?? answerer.answer(q, []),
  };
  let messageId = 1;
  const api: Transformer = async (_prev, method, payload) => {
    const p = payload as { chat_id?: number; text?: string };
    const result = method === 'sendMessage' ? { message_id: messageId++, date: 0, chat: { id: p.chat_id, type: 'private' }, text: p.text } : true;
    return { ok: true, result } as never;
  };
  const db = await openDatabase(databaseFile(path.join(dir, 'overhead')));
  const bot = createBot('1:overhead', {
    telegram: telegramConfig('http://127.0.0.1:1'),
    log: silentLogger(),
    store: new BotStore(db),
    answerer: () => instant,
    botInfo: { id: 1, is_bot: true, first_name: 'bench', username: 'bench_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: true, can_connect_to_business: false, has_main_web_app: false, has_topics_enabled: false, allows_users_to_create_topics: false, can_manage_bots: false, supports_join_request_queries: false },
    transformers: [api],
    throttle: false,
    autoRetry: false,
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 1100; i++) {
      const user = { id: 200_000 + (i % CHATS), is_bot: false, first_name: 'u' };
      const update = { update_id: i + 1, message: { message_id: 100_000 + i, date: 0, chat: { id: user.id, type: 'private', first_name: 'u' }, from: user, text: QUESTIONS[i % QUESTIONS.length]! } } as Update;
      const t = performance.now();
      await bot.handleUpdate(update);
      if (i >= 100) samples.push(performance.now() - t); // the first 100 warm up
    }
  } finally {
    await db.close();
  }
  return { updates: samples.length, ...summarize(samples) };
}

export async function benchBot(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-bench-bot-'));
  try {
    const config = parseConfig({ STATE_DIR: dir, CORPUS_DIR: process.env.CORPUS_DIR, LOG_LEVEL: 'silent' });
    say('building the index…');
    await buildIndex(config, { rebuild: true });
    const answerer = new QuestionAnswerer(await loadPlanIndex(config.index, config.llm), { maxQuestionChars: 500 });
    for (const q of QUESTIONS) await answerer.answer(q, []); // warm up, as main.ts does before taking updates

    say('idle: 50 questions one at a time…');
    const idle = await runLoad(answerer, dir, 'idle', { telegramLimits: true, sequential: true, chats: 5, perChat: 10 });
    say(`idle: p50 ${idle.latencyMs.p50} ms, p95 ${idle.latencyMs.p95} ms`);
    say('telegram limits: 1,000 questions from 100 chats at once (drains at ~30 messages/s)…');
    const limited = await runLoad(answerer, dir, 'limited', { telegramLimits: true });
    say(`telegram limits: ${limited.answered}/${limited.questions} answered in ${limited.seconds} s, ${limited.telegram429s} × 429`);
    say('capacity: the same burst without flood limits…');
    const capacity = await runLoad(answerer, dir, 'capacity', { telegramLimits: false });
    say(`capacity: ${capacity.answersPerSecond} answers/s, p95 ${capacity.latencyMs.p95} ms`);
    say('overhead: 1,000 updates in process…');
    const overhead = await overheadPerUpdate(answerer, dir);
    say(`overhead: p50 ${overhead.p50} ms, p95 ${overhead.p95} ms per update`);
    return { idle, telegramLimits: limited, capacity, overheadPerUpdateMs: overhead };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
