import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '@grammyjs/runner';
import { GrammyError, HttpError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { ConfigError, UpstreamError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { UpdateJournal } from '../store/update-journal.ts';
import type { BotContext } from './context.ts';
import { ALLOWED_UPDATES } from './create-bot.ts';
import { describeError } from './error-boundary.ts';

/**
 * Getting updates into the bot: long polling with @grammyjs/runner (chats in parallel,
 * each chat in order via the bot's sequentialize), or a webhook on node:http that checks
 * Telegram's secret-token header. `stop` stops taking updates and resolves once the
 * updates in flight are answered.
 */

export interface BotRuntime {
  /**
   * Stops taking updates, then waits up to `drainMs` (default: as long as it takes) for
   * the updates in hand to be handled; resolves with how many were not (they stay in the
   * journal for the next start).
   */
  stop(drainMs?: number): Promise<{ unfinished: number }>;
  /** The webhook server's port (0 for long polling). */
  port: number;
}

export interface RuntimeOptions {
  /** Updates recorded but not handled before the last stop are handled again first. */
  journal?: UpdateJournal;
}

const REPLAY_LIMITS = { maxAttempts: 3, maxAgeMs: 24 * 3600_000 };

/** Updates in hand: a set of running tasks that stop() can wait on, with a bound. */
class InFlight {
  private readonly tasks = new Set<Promise<void>>();

  add(task: Promise<void>): void {
    const tracked: Promise<void> = task.finally(() => this.tasks.delete(tracked));
    this.tasks.add(tracked);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Resolves when all are done or `ms` has passed, with how many are still running. */
  async drain(ms: number, extra: () => number = () => 0): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.tasks.size + extra() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.tasks.size + extra();
  }
}

/** Hands the journal's leftovers from the last run to the bot again (oldest first; a chat's stay in order). */
async function replayJournal(bot: Bot<BotContext>, journal: UpdateJournal | undefined, inFlight: InFlight, log: Logger): Promise<void> {
  if (!journal) return;
  const { pending, dropped } = await journal.takePending(REPLAY_LIMITS);
  if (dropped > 0) log.warn({ dropped, ...REPLAY_LIMITS }, 'pending updates given up (too old or tried too often)');
  if (pending.length === 0) return;
  log.info({ updates: pending.length }, 'handling the updates left from the last run');
  for (const p of pending) {
    let update: Update;
    try {
      update = JSON.parse(p.body) as Update;
    } catch {
      await journal.done(p.updateId);
      continue;
    }
    inFlight.add(bot.handleUpdate(update).catch((err: unknown) => log.error({ update_id: p.updateId, err: describeError(err) }, 'replayed update failed')));
  }
}

/**
 * A start-up call Telegram refused, as our error: one line naming the method and
 * Telegram's answer (which may echo the request path, token included: the exit path
 * scrubs it with the configured secrets).
 */
function startupError(err: unknown): unknown {
  if (err instanceof GrammyError) {
    if (err.error_code === 401) return new ConfigError('config: TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized); check the token from @BotFather');
    return new UpstreamError(`telegram: ${err.method} failed at start-up (${err.error_code}: ${err.description})`, { cause: err, status: err.error_code });
  }
  if (err instanceof HttpError) return new UpstreamError(`telegram: the Bot API is unreachable at start-up (${err.message}); check TELEGRAM_API_ROOT and the network`, { cause: err });
  return err;
}

async function startupCall(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    throw startupError(err);
  }
}

export async function startLongPolling(bot: Bot<BotContext>, log: Logger, options: RuntimeOptions & { timeoutSeconds?: number; concurrency?: number } = {}): Promise<BotRuntime> {
  await startupCall(() => bot.init());
  // A webhook left from an earlier run would make getUpdates fail with 409; pending updates are kept.
  await startupCall(() => bot.api.deleteWebhook());
  const replays = new InFlight();
  await replayJournal(bot, options.journal, replays, log);
  const handle = run(bot, {
    runner: { fetch: { timeout: options.timeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] }, silent: true, retryInterval: 'exponential' },
    sink: { concurrency: options.concurrency ?? 500 },
  });
  log.info({ bot: bot.botInfo.username }, 'long polling started');
  return {
    port: 0,
    stop: async (drainMs = Infinity) => {
      // stop() ends fetching; the updates already taken are still being handled: wait for them, within the bound.
      if (handle.isRunning()) await handle.stop();
      const unfinished = await replays.drain(drainMs, () => handle.size());
      log.info({ unfinished }, 'long polling stopped');
      return { unfinished };
    },
  };
}

export interface WebhookOptions {
  url: string;
  secret: string;
  port: number;
  host?: string;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
}

function sameSecret(got: string, want: string): boolean {
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Webhook mode: POSTs to the path of WEBHOOK_URL carrying the secret token are
 * acknowledged at once and handled in the background (Telegram would otherwise resend
 * a slow update); anything else gets 401/404. Updates seen recently are not handled
 * twice. setWebhook registers the URL and secret.
 */
export async function startWebhook(bot: Bot<BotContext>, options: WebhookOptions & RuntimeOptions, log: Logger): Promise<BotRuntime> {
  await startupCall(() => bot.init());
  const path = new URL(options.url).pathname || '/';
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const inflight = new InFlight();
  await replayJournal(bot, options.journal, inflight, log);
  const recent = new Set<number>();
  let stopping = false;

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== path) return void res.writeHead(404).end();
      const token = req.headers['x-telegram-bot-api-secret-token'];
      if (typeof token !== 'string' || !sameSecret(token, options.secret)) {
        log.warn({ ip: req.socket.remoteAddress }, 'webhook request without the right secret token refused');
        return void res.writeHead(401).end();
      }
      if (stopping) return void res.writeHead(503).end();
      const body = await readBody(req, maxBody);
      let update: Update;
      try {
        update = JSON.parse(body ?? '') as Update;
        if (!Number.isSafeInteger(update?.update_id)) throw new Error('no update_id');
      } catch {
        return void res.writeHead(400).end();
      }
      if (recent.has(update.update_id)) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      // Recorded before Telegram hears it arrived: a crash from here on loses nothing.
      await options.journal?.accept(update.update_id, body!);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      recent.add(update.update_id);
      if (recent.size > 5000) recent.delete(recent.values().next().value!);
      inflight.add(bot.handleUpdate(update).catch((err: unknown) => log.error({ update_id: update.update_id, err: describeError(err) }, 'webhook update failed')));
    })().catch((err: unknown) => {
      log.error({ err: describeError(err) }, 'webhook request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(`config: the webhook cannot listen on PORT ${options.port} (${err.code ?? err.message}); choose a free port`)));
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  try {
    await startupCall(() => bot.api.setWebhook(options.url, { secret_token: options.secret, allowed_updates: [...ALLOWED_UPDATES] }));
  } catch (err) {
    server.close();
    throw err;
  }
  log.info({ bot: bot.botInfo.username, port, path }, 'webhook listening');
  return {
    port,
    stop: async (drainMs = Infinity) => {
      stopping = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      const unfinished = await inflight.drain(drainMs);
      log.info({ unfinished }, 'webhook stopped');
      return { unfinished };
    },
  };
}
