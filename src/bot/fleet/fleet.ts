import { createPostgres, type Postgres } from '../../postgres-client.ts';
import type { Logger } from '../../logger.ts';
import type { ChatLock } from '../middlewares/chat-order.ts';
import type { RateLimiterFactory } from '../rate-limiter.ts';
import type { SendBudget } from '../throttle.ts';
import { PostgresChatLock } from './postgres-chat-lock.ts';
import { postgresRateLimiters } from './postgres-rate-limiter.ts';
import { PostgresSendBudget } from './postgres-send-budget.ts';

/**
 * What the instances of one bot share when DATABASE_URL is set, handed to createBot:
 * each chat's lock, the per-user limits and the outgoing Telegram budget, all in
 * PostgreSQL (tables in the store's migrations), on a small pool of their own so that a
 * busy store never starves them nor they it.
 */
export interface Fleet {
  chatLock: ChatLock;
  rateLimiters: RateLimiterFactory;
  sendBudget: SendBudget;
  close(): Promise<void>;
}

export function openFleet(databaseUrl: string, log: Logger): Fleet {
  const pg: Postgres = createPostgres(databaseUrl, { max: 6, applicationName: 'plan-qa-bot fleet' });
  return {
    chatLock: new PostgresChatLock(pg, (key) => log.warn({ chat: key }, "a chat's lease was lost while handling it (the database was unreachable for 20 s)")),
    rateLimiters: postgresRateLimiters(pg),
    sendBudget: new PostgresSendBudget(pg, (err) => log.warn({ err: (err as Error).message }, 'a send slot could not be released; it frees itself within 30 s')),
    close: () => pg.close(),
  };
}
