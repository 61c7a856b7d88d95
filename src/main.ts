import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Api } from 'grammy';
import type { LlmAnswerWriter } from './answer/llm-writer.ts';
import { QuestionAnswerer } from './answer/question-answerer.ts';
import { startLongPolling, startWebhook, type BotRuntime } from './bot/bot-runtime.ts';
import { registerCommands } from './bot/commands.ts';
import { CONSOLE_USER, runConsoleChat } from './bot/console-chat.ts';
import { corpusSummary } from './bot/catalog.ts';
import { createBot, type BotDeps } from './bot/create-bot.ts';
import { openFleet } from './bot/fleet/fleet.ts';
import { createDigestSender } from './bot/digest-format.ts';
import { ChartRenderer } from './chart/chart-renderer.ts';
import { digestCommandsFeature } from './bot/features/digest-commands.ts';
import { announceSettledUploads } from './bot/features/document-upload.ts';
import { loadConfigFromEnvironment } from './cli/cli-runtime.ts';
import type { Config } from './config.ts';
import { DigestBuilder } from './digest/digest-builder.ts';
import { DigestService } from './digest/digest-service.ts';
import { DigestScheduler } from './digest/scheduler.ts';
import { PlanQaError, StateError } from './errors.ts';
import type { IngestProgress } from './index/build-index.ts';
import { DocumentLibrary } from './ingest/document-library.ts';
import { openServingIndex } from './index/ensure-index.ts';
import { GenerationWatcher, publishGeneration } from './index/index-generations.ts';
import { loadPlanIndex, loadPlanIndexFrom, type PlanIndex } from './index/plan-index.ts';
import { createLogger, scrubSecrets, type Logger } from './logger.ts';
import { createPostgres } from './postgres-client.ts';
import { BotStore } from './store/bot-store.ts';
import { openStore } from './store/open-store.ts';
import { DigestStore } from './store/digest-store.ts';
import { UpdateJournal } from './store/update-journal.ts';

/**
 * Composition root for `npm start`: config → logger → index (built on first start) →
 * answerer → SQLite store → the bot, run by long polling, a webhook, or — without a
 * token — as a console chat in this terminal. Shuts down once, gracefully, on
 * SIGINT/SIGTERM (or when the console's input ends): stop taking updates, finish the
 * answers in flight, close the database.
 */

/** Beyond SHUTDOWN_DRAIN_MS: time for digests in flight and closing up, before a hard exit. */
const SHUTDOWN_GRACE_MS = 20_000;

/** A fleet's instances look this often for updates an instance acknowledged and then died on. */
const FLEET_REPLAY_EVERY_MS = 30_000;

/** The configured secrets, once config is read; every exit path scrubs with them. */
let secrets: readonly string[] = [];

function progressPrinter(consoleMode: boolean, log: Logger): (p: IngestProgress) => void {
  const t0 = Date.now();
  return (p) => {
    if (p.phase === 'skip' && consoleMode) process.stdout.write(`  跳过 ${p.file}：${p.reason}\n`);
    if (!consoleMode) {
      if (p.phase === 'document') log.info({ file: p.file, done: p.done, total: p.total }, 'indexing');
      return;
    }
    const out = (s: string) => process.stdout.write(s);
    if (p.phase === 'load') out(`正在建立索引（${p.documents} 份文件，首次启动需要几秒钟）……\n`);
    else if (p.phase === 'document') out(`  [${p.done}/${p.total}] ${p.file}：${p.chunks} 段${p.reused ? '（未变化）' : ''}\n`);
    else if (p.phase === 'embed' && p.done === p.total) out(`  向量化 ${p.total} 段\n`);
    else if (p.phase === 'write') out(`索引完成：${p.chunks} 段，用时 ${((Date.now() - t0) / 1000).toFixed(1)} 秒。\n`);
  };
}

function answererFactory(config: Config, writer: LlmAnswerWriter | undefined): (index: PlanIndex) => QuestionAnswerer {
  return (index) => new QuestionAnswerer(index, { maxQuestionChars: config.telegram.maxQuestionChars, ...(writer ? { writer } : {}) });
}

/** The console's log file, open for appending, or a StateError naming it when it cannot be written. */
async function openConsoleLog(file: string): Promise<WriteStream> {
  const refuse = (err: unknown) =>
    new StateError(`console: cannot write its log ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); give this user write access to STATE_DIR, or point STATE_DIR at a writable folder`, { cause: err });
  try {
    await mkdir(path.dirname(file), { recursive: true });
  } catch (err) {
    throw refuse(err);
  }
  const stream = createWriteStream(file, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(refuse(err)));
  });
  // Later write failures (a full disk) must not crash the chat: the log is best effort from here on.
  stream.on('error', (err) => process.stderr.write(`console: writing ${file} failed (${(err as NodeJS.ErrnoException).code ?? err.message}); logs are lost from here on\n`));
  return stream;
}

function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

async function main(): Promise<void> {
  const config = loadConfigFromEnvironment();
  secrets = config.secrets;
  const consoleMode = !config.telegram.token;
  // In the console the terminal is the chat: logs go to a file instead of interleaving.
  const logFile = consoleMode ? path.join(config.index.stateDir, 'console.log') : undefined;
  const logStream = logFile ? await openConsoleLog(logFile) : undefined;
  const log = createLogger({ level: config.logLevel, secrets: config.secrets, ...(logStream ? { destination: logStream } : {}) });
  // The database first: damaged or read-only state is refused before any work is done.
  const db = await openStore(config.store, { warn: (message) => log.warn(message) });

  // One model client for answers and digest summaries: one circuit breaker, one set of call slots.
  // The model writer (and the OpenAI SDK) is loaded only when a model is configured: start-up stays short offline.
  const llm = config.llm.chatModel ? new (await import('./answer/llm-writer.ts')).LlmAnswerWriter(config.llm, { log: log.child({ module: 'llm' }) }) : undefined;
  const makeAnswerer = answererFactory(config, llm);
  // Vectors in PostgreSQL (VECTOR_BACKEND=pgvector): one pool for every build and load of this process.
  const vectorDb = config.index.vectors.backend === 'pgvector' ? createPostgres(config.index.vectors.databaseUrl, { applicationName: 'plan-qa-bot vectors' }) : undefined;
  // A fleet loads the generation its ingest job published; a lone process builds its own index.
  const shared = config.index.sharedDir;
  const serving = await openServingIndex(config, log, progressPrinter(consoleMode, log), vectorDb);
  let answerer = makeAnswerer(serving.index);
  const loadGeneration = (dir: string) => loadPlanIndexFrom(dir, config.index, config.llm, vectorDb ? { postgres: vectorDb } : {});
  // Each answer takes the answerer once, so it is computed from one generation; a switch affects the next.
  const generations =
    shared && serving.generation
      ? new GenerationWatcher({ sharedDir: shared, serving: serving.generation, load: loadGeneration, onSwitch: (index) => (answerer = makeAnswerer(index)), log: log.child({ module: 'index' }) })
      : undefined;
  // The first retrieval pays for lazy set-up and JIT; do it now rather than for the first user.
  await answerer.retrieve('规划目标').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'warm-up failed'));
  const library = new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking);
  const settledUploads = await library.settleInterrupted(new Set(answerer.index.documents.map((d) => d.file)));
  for (const u of settledUploads) log.info({ upload: u.id, file: u.corpusFile, state: u.state }, 'upload interrupted by a restart settled');
  const store = new BotStore(db);
  const journal = new UpdateJournal(db);
  // Several instances on one PostgreSQL database: chat locks, per-user limits and the Telegram budget shared.
  const fleet = config.store.databaseUrl && !consoleMode ? openFleet(config.store.databaseUrl, log.child({ module: 'fleet' })) : undefined;
  // Daily digests: subscriptions through the bot's commands; the scheduler sends through the bot's API.
  const digestLog = log.child({ module: 'digest' });
  const digestStore = new DigestStore(db);
  const digestBuilder = new DigestBuilder({ index: () => answerer.index, store: digestStore, log: digestLog, ...(llm ? { summarizer: llm } : {}) });
  const digest = new DigestService({ store: digestStore, builder: digestBuilder, config: config.digest });
  await digest.adoptTimeZone();
  // One chart renderer for the bot and the digests: one cache, one set of uploaded photos.
  // Warmed up (font parsed, ~0.2 s of CPU) shortly after start rather than for the first
  // /targets, and not before the first question can be answered; without its font the bot
  // still runs and answers charts with text.
  const charts = new ChartRenderer();
  setTimeout(() => void charts.warmUp().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'charts unavailable')), 2000).unref();
  let scheduler: DigestScheduler | undefined;
  const startDigests = (api: () => Api) => {
    scheduler = new DigestScheduler({
      store: digestStore,
      builder: digestBuilder,
      send: (d, onPart) => createDigestSender(api(), charts)(d, onPart),
      log: digestLog,
      // Instances sharing a PostgreSQL database claim digests under their own names.
      ...(config.store.databaseUrl ? { instance: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}` } : {}),
      options: { claimLeaseMs: config.digest.claimLeaseMs },
    });
    scheduler.start();
  };
  let reindexing: Promise<unknown> | undefined;
  const deps: BotDeps = {
    telegram: config.telegram,
    // Offline answers are CPU work (a few at a time keep the bot responsive); a model's are network waits.
    answerConcurrency: config.llm.chatModel ? 32 : 2,
    log,
    store,
    answerer: () => answerer,
    charts,
    features: [(services) => digestCommandsFeature(services, digest)],
    library,
    reindex: async ({ rebuild }) => {
      const build = import('./index/build-index.ts').then(({ buildIndex }) => buildIndex(config, { rebuild, ...(vectorDb ? { postgres: vectorDb } : {}) }));
      reindexing = build;
      try {
        const r = await build;
        if (shared && generations) {
          // Published for the whole fleet; this instance switches now, the others within a second.
          await publishGeneration(r.dir, shared);
          await generations.check();
        } else answerer = makeAnswerer(await loadPlanIndex(config.index, config.llm, vectorDb ? { postgres: vectorDb } : {}));
        return r;
      } finally {
        reindexing = undefined;
      }
    },
  };

  let runtime: BotRuntime | undefined;
  let consoleChat: Promise<void> | undefined;
  const stopConsole = new AbortController();
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      log.info({ why }, 'shutting down');
      const graceMs = config.telegram.shutdownDrainMs + SHUTDOWN_GRACE_MS;
      setTimeout(() => {
        log.error({ graceMs }, 'shutdown took too long; exiting');
        process.exit(1);
      }, graceMs).unref();
      // Model calls in flight end now: their answers go out in the offline form instead of holding shutdown.
      llm?.close();
      stopConsole.abort();
      await consoleChat?.catch(() => {}); // the console finishes the update in hand first
      // Fetching stops at once; updates in hand get SHUTDOWN_DRAIN_MS to finish, and those that
      // do not stay in the update journal and are handled at the next start. Digests in
      // flight are settled; the rest go out at the next start.
      const [stopped] = await Promise.all([runtime?.stop(config.telegram.shutdownDrainMs), scheduler?.stop(), generations?.stop()]);
      if (stopped && stopped.unfinished > 0) log.warn({ unfinished: stopped.unfinished, pending: await journal.count().catch(() => undefined) }, 'updates not finished in time; they are handled at the next start');
      await fleet?.close();
      await reindexing?.catch(() => {});
      await db.close();
      await vectorDb?.close();
      log.info('stopped');
      await new Promise<void>((resolve) => (logStream ? logStream.end(resolve) : resolve()));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (shuttingDown) process.exit(130); // a second signal: stop now
      void shutdown(signal).then(() => process.exit(0));
    });
  }

  if (consoleMode) {
    let consoleBot: ReturnType<typeof createBot> | undefined;
    const summary = corpusSummary(answerer.index);
    consoleChat = runConsoleChat({
      input: process.stdin,
      output: process.stdout,
      tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      signal: stopConsole.signal,
      chartDir: path.join(config.index.stateDir, 'charts'),
      log,
      banner: [
        '规划问答 · 控制台',
        `没有设置 TELEGRAM_BOT_TOKEN，所以在终端里和同一个机器人对话（收录 ${summary.districts.join('、')} 的 ${summary.documents.length} 份文件）。`,
        `直接输入问题回车即可；/help 看用法，/quit 退出。日志在 ${shortPath(logFile!)}。`,
      ].join('\n'),
      createBot: (transformer, botInfo) =>
        (consoleBot = createBot('console', {
          ...deps,
          // The person at the terminal runs the bot: they may use /stats and /reindex.
          telegram: { ...config.telegram, adminUserIds: [...config.telegram.adminUserIds, CONSOLE_USER.id] },
          botInfo,
          transformers: [transformer],
          throttle: false,
          autoRetry: false,
          console: true,
        })),
    });
    startDigests(() => consoleBot!.api);
    await consoleChat;
    await shutdown('input ended');
    process.exit(0);
  }

  const bot = createBot(config.telegram.token!, {
    ...deps,
    journal,
    ...(fleet ? { chatLock: fleet.chatLock, rateLimiters: fleet.rateLimiters, sendBudget: fleet.sendBudget } : {}),
  });
  try {
    const { webhookUrl, webhookSecret, port } = config.telegram;
    runtime = webhookUrl ? await startWebhook(bot, { url: webhookUrl, secret: webhookSecret!, port, journal, ...(fleet ? { replayEveryMs: FLEET_REPLAY_EVERY_MS } : {}) }, log) : await startLongPolling(bot, log, { journal });
  } catch (err) {
    await db.close();
    throw err;
  }
  await registerCommands(bot.api, config.telegram.adminUserIds, log);
  await announceSettledUploads(bot.api, settledUploads, log);
  startDigests(() => bot.api);
  generations?.start();
}

/**
 * Every way this process ends in failure comes here: start-up errors, and errors nothing
 * else caught (an 'error' event, a rejected promise). One line on stderr, scrubbed with
 * the configured secrets (library errors may echo the bot token), exit 1. An unexpected
 * error's stack is shown only with LOG_LEVEL=debug or trace.
 */
function exitOnError(err: unknown): never {
  const verbose = /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '');
  const message =
    err instanceof PlanQaError ? err.message : verbose ? String((err as Error)?.stack ?? err) : `plan-qa-bot: unexpected error: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
  process.stderr.write(scrubSecrets(message, secrets) + '\n');
  process.exit(1);
}

process.on('uncaughtException', exitOnError);
process.on('unhandledRejection', exitOnError);
main().catch(exitOnError);
