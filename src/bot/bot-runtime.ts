import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '@grammyjs/runner';
import { GrammyError, HttpError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { ConfigError, UpstreamError } from '../errors.ts';
import type { Logger } from '../logger.ts';
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
  stop(): Promise<void>;
  /** The webhook server's port (0 for long polling). */
  port: number;
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

export async function startLongPolling(bot: Bot<BotContext>, log: Logger, options: { timeoutSeconds?: number; concurrency?: number } = {}): Promise<BotRuntime> {
  await startupCall(() => bot.init());
  // A webhook left from an earlier run would make getUpdates fail with 409; pending updates are kept.
  await startupCall(() => bot.api.deleteWebhook());
  const handle = run(bot, {
    runner: { fetch: { timeout: options.timeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] }, silent: true, retryInterval: 'exponential' },
    sink: { concurrency: options.concurrency ?? 500 },
  });
  log.info({ bot: bot.botInfo.username }, 'long polling started');
  return {
    port: 0,
    stop: async () => {
      // stop() ends fetching; the updates already taken are still being handled: wait for them.
      if (handle.isRunning()) await handle.stop();
      while (handle.size() > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      log.info('long polling stopped');
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
export async function startWebhook(bot: Bot<BotContext>, options: WebhookOptions, log: Logger): Promise<BotRuntime> {
  await startupCall(() => bot.init());
  const path = new URL(options.url).pathname || '/';
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const inflight = new Set<Promise<void>>();
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
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (recent.has(update.update_id)) return;
      recent.add(update.update_id);
      if (recent.size > 5000) recent.delete(recent.values().next().value!);
      const task: Promise<void> = bot
        .handleUpdate(update)
        .catch((err: unknown) => log.error({ update_id: update.update_id, err: describeError(err) }, 'webhook update failed'))
        .finally(() => inflight.delete(task));
      inflight.add(task);
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
    stop: async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await Promise.allSettled([...inflight]);
      log.info('webhook stopped');
    },
  };
}
