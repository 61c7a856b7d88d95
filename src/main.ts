import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { GrammyError, type Api } from 'grammy';
import { LlmAnswerComposer } from './answer/llm-composer.ts';
import { QuestionAnswerer } from './answer/question-answerer.ts';
import { startLongPolling, startWebhook, type BotRuntime } from './bot/bot-runtime.ts';
import { registerCommands } from './bot/commands.ts';
import { CONSOLE_USER, runConsoleChat } from './bot/console-chat.ts';
import { corpusSummary } from './bot/catalog.ts';
import { createBot, type BotDeps } from './bot/create-bot.ts';
import { createDigestSender } from './bot/digest-format.ts';
import { digestCommandsFeature } from './bot/features/digest-commands.ts';
import { announceSettledUploads } from './bot/features/document-upload.ts';
import { loadConfigFromEnvironment } from './cli/cli-runtime.ts';
import type { Config } from './config.ts';
import { DigestComposer } from './digest/compose-digest.ts';
import { DigestService } from './digest/digest-service.ts';
import { DigestScheduler } from './digest/scheduler.ts';
import { ConfigError, PlanQaError } from './errors.ts';
import { buildIndex, type IngestProgress } from './index/build-index.ts';
import { DocumentLibrary } from './ingest/document-library.ts';
import { ensureIndex } from './index/ensure-index.ts';
import { loadPlanIndex, type PlanIndex } from './index/plan-index.ts';
import { createLogger, scrubSecrets, type Logger } from './logger.ts';
import { BotStore } from './store/bot-store.ts';
import { databaseFile, openDatabase } from './store/database.ts';
import { DigestStore } from './store/digest-store.ts';

/**
 * Composition root for `npm start`: config → logger → index (built on first start) →
 * answerer → SQLite store → the bot, run by long polling, a webhook, or — without a
 * token — as a console chat in this terminal. Shuts down once, gracefully, on
 * SIGINT/SIGTERM (or when the console's input ends): stop taking updates, finish the
 * answers in flight, close the database.
 */

const SHUTDOWN_GRACE_MS = 45_000;

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

function answererFactory(config: Config, log: Logger): (index: PlanIndex) => QuestionAnswerer {
  const composer = config.llm.chatModel ? new LlmAnswerComposer(config.llm, { log: log.child({ module: 'llm' }) }) : undefined;
  return (index) => new QuestionAnswerer(index, { maxQuestionChars: config.telegram.maxQuestionChars, ...(composer ? { composer } : {}) });
}

function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

async function main(): Promise<void> {
  const config = loadConfigFromEnvironment();
  const consoleMode = !config.telegram.token;
  // In the console the terminal is the chat: logs go to a file instead of interleaving.
  const logFile = consoleMode ? path.join(config.index.stateDir, 'console.log') : undefined;
  if (logFile) await mkdir(path.dirname(logFile), { recursive: true });
  const logStream = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  const log = createLogger({ level: config.logLevel, secrets: config.secrets, ...(logStream ? { destination: logStream } : {}) });

  const makeAnswerer = answererFactory(config, log);
  let answerer = makeAnswerer(await ensureIndex(config, log, progressPrinter(consoleMode, log)));
  // The first retrieval pays for lazy set-up and JIT; do it now rather than for the first user.
  await answerer.retrieve('规划目标').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'warm-up failed'));
  const library = new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking);
  const settledUploads = await library.settleInterrupted(new Set(answerer.index.documents.map((d) => d.file)));
  for (const u of settledUploads) log.info({ upload: u.id, file: u.corpusFile, state: u.state }, 'upload interrupted by a restart settled');
  const db = openDatabase(databaseFile(config.index.stateDir));
  const store = new BotStore(db);
  // Daily digests: subscriptions through the bot's commands; the scheduler sends through the bot's API.
  const digestLog = log.child({ module: 'digest' });
  const digestStore = new DigestStore(db);
  const summarizer = config.llm.chatModel ? new LlmAnswerComposer(config.llm, { log: digestLog }) : undefined;
  const digestComposer = new DigestComposer({ index: () => answerer.index, store: digestStore, log: digestLog, ...(summarizer ? { summarizer } : {}) });
  const digest = new DigestService({ store: digestStore, composer: digestComposer, config: config.digest });
  digest.adoptTimeZone();
  let scheduler: DigestScheduler | undefined;
  const startDigests = (api: () => Api) => {
    scheduler = new DigestScheduler({ store: digestStore, composer: digestComposer, send: (d, onPart) => createDigestSender(api())(d, onPart), log: digestLog });
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
    features: [(services) => digestCommandsFeature(services, digest)],
    library,
    reindex: async ({ rebuild }) => {
      const build = buildIndex(config, { rebuild });
      reindexing = build;
      try {
        const r = await build;
        answerer = makeAnswerer(await loadPlanIndex(config.index, config.llm));
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
      setTimeout(() => {
        log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      stopConsole.abort();
      await consoleChat?.catch(() => {}); // the console finishes the update in hand first
      await scheduler?.stop(); // digests in flight are settled; the rest go out at the next start
      await runtime?.stop();
      await reindexing?.catch(() => {});
      db.close();
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

  const bot = createBot(config.telegram.token!, deps);
  try {
    const { webhookUrl, webhookSecret, port } = config.telegram;
    runtime = webhookUrl ? await startWebhook(bot, { url: webhookUrl, secret: webhookSecret!, port }, log) : await startLongPolling(bot, log);
  } catch (err) {
    db.close();
    if (err instanceof GrammyError && err.error_code === 401) throw new ConfigError('config: TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized); check the token from @BotFather');
    throw err;
  }
  await registerCommands(bot.api, config.telegram.adminUserIds, log);
  await announceSettledUploads(bot.api, settledUploads, log);
  startDigests(() => bot.api);
}

main().catch((err: unknown) => {
  const message = err instanceof PlanQaError ? err.message : String((err as Error)?.stack ?? err);
  process.stderr.write(scrubSecrets(message) + '\n');
  process.exit(1);
});
