import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '@grammyjs/runner';
import { GrammyError, HttpError, webhookCallback, type Bot } from 'grammy';
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
/** A running fleet replays an unhandled update only once it is this old (its instance is gone, not slow). */
const REPLAY_STALE_MS = 600_000;
/** Telegram's most simultaneous webhook deliveries (1-100). */
const WEBHOOK_MAX_CONNECTIONS = 100;
/** At a fleet instance's start: unhandled updates older than this are taken as left behind. */
const FLEET_START_REPLAY_MIN_AGE_MS = 60_000;

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
async function replayJournal(bot: Bot<BotContext>, journal: UpdateJournal | undefined, inFlight: InFlight, log: Logger, options: { minAgeMs?: number } = {}): Promise<void> {
  if (!journal) return;
  const { pending, dropped } = await journal.takePending({ ...REPLAY_LIMITS, ...options });
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
  /**
   * An update still being handled after this long is acknowledged anyway (it is in the
   * journal, handled to the end here or replayed after a crash), so Telegram's own
   * timeout does not redeliver it while it is handled.
   */
  ackTimeoutMs?: number;
  /**
   * A fleet (several instances on one database): unhandled updates left by a stopped
   * instance are looked for this often, and at start only those that have waited a while
   * are taken (younger ones are another instance's, in hand). 0: one instance, which
   * takes all it finds at start.
   */
  replayEveryMs?: number;
}

/** What grammY's webhookCallback asks of a web framework (its type is not exported by name). */
type ReqResHandler = ReturnType<Exclude<Parameters<typeof webhookCallback>[1], string>>;

/** A webhook request refused before handling, with the status it gets. */
class RefusedRequest extends Error {
  constructor(readonly status: number) {
    super(`webhook request refused (${status})`);
  }
}

async function readUpdate(req: IncomingMessage, max: number): Promise<Update> {
  const declared = Number(req.headers['content-length']);
  if (!Number.isFinite(declared)) throw new RefusedRequest(411);
  if (declared > max) throw new RefusedRequest(413);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let update: Update;
  try {
    update = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Update;
  } catch {
    throw new RefusedRequest(400);
  }
  if (!Number.isSafeInteger(update?.update_id)) throw new RefusedRequest(400);
  return update;
}

/**
 * grammY's node:http adapter with a bounded body (Telegram always sends Content-Length)
 * and an update_id checked; the body is read only after grammY has checked the secret.
 */
function boundedHttpAdapter(maxBody: number): (req: IncomingMessage, res: ServerResponse) => ReqResHandler {
  return (req, res) => ({
    get update() {
      return readUpdate(req, maxBody);
    },
    header: [req.headers['x-telegram-bot-api-secret-token']].flat()[0],
    end: () => {
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
    respond: (json: string) => {
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    },
    unauthorized: () => {
      res.writeHead(401).end();
    },
  });
}

/**
 * Webhook mode on grammY's webhookCallback: POSTs to the path of WEBHOOK_URL carrying
 * the secret token are handled, then acknowledged (200) — so an update whose instance
 * dies before answering is redelivered by Telegram, to another instance behind the load
 * balancer. Anything else gets 401/404/411/413/400; while stopping, 503 (Telegram tries
 * again, elsewhere). The journal skips a redelivered update handled already.
 * setWebhook registers the URL and secret.
 */
export async function startWebhook(bot: Bot<BotContext>, options: WebhookOptions & RuntimeOptions, log: Logger): Promise<BotRuntime> {
  await startupCall(() => bot.init());
  const path = new URL(options.url).pathname || '/';
  const inflight = new InFlight();
  await replayJournal(bot, options.journal, inflight, log, options.replayEveryMs ? { minAgeMs: FLEET_START_REPLAY_MIN_AGE_MS } : {});
  const handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown> = webhookCallback(bot, boundedHttpAdapter(options.maxBodyBytes ?? 1_000_000), {
    secretToken: options.secret,
    onTimeout: 'return',
    timeoutMilliseconds: options.ackTimeoutMs ?? 30_000,
  });
  const open = new Set<ServerResponse>();
  let stopping = false;

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== path) return void res.writeHead(404).end();
    if (stopping) return void res.writeHead(503).end();
    open.add(res);
    res.once('close', () => open.delete(res));
    inflight.add(
      handle(req, res).then(() => {}, (err: unknown) => {
        if (err instanceof RefusedRequest) return void (res.headersSent || res.writeHead(err.status).end());
        log.error({ err: describeError(err) }, 'webhook update failed');
        if (!res.headersSent) res.writeHead(500).end();
      }),
    );
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(`config: the webhook cannot listen on PORT ${options.port} (${err.code ?? err.message}); choose a free port`)));
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  try {
    // An update is acknowledged once handled, so Telegram's connections are held while answers wait on a model:
    // allow the most it offers (its default is 40, i.e. 40 questions in hand for the whole fleet).
    await startupCall(() => bot.api.setWebhook(options.url, { secret_token: options.secret, allowed_updates: [...ALLOWED_UPDATES], max_connections: WEBHOOK_MAX_CONNECTIONS }));
  } catch (err) {
    server.close();
    throw err;
  }
  // Updates another instance acknowledged (past ackTimeoutMs) and then died on: handled by whoever finds them.
  const replayEvery = options.replayEveryMs ?? 0;
  const replayTimer = replayEvery > 0 ? setInterval(() => void replayJournal(bot, options.journal, inflight, log, { minAgeMs: REPLAY_STALE_MS }).catch((err: unknown) => log.warn({ err: describeError(err) }, 'looking for unhandled updates failed')), replayEvery) : undefined;
  replayTimer?.unref();
  log.info({ bot: bot.botInfo.username, port, path }, 'webhook listening');
  return {
    port,
    stop: async (drainMs = Infinity) => {
      stopping = true;
      if (replayTimer) clearInterval(replayTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const unfinished = await inflight.drain(drainMs);
      // Not finished in time: Telegram hears 503 and redelivers (to another instance, or to the next start).
      for (const res of open) if (!res.headersSent) res.writeHead(503).end();
      server.closeAllConnections();
      await closed;
      log.info({ unfinished }, 'webhook stopped');
      return { unfinished };
    },
  };
}
