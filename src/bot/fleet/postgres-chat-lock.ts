import { randomUUID } from 'node:crypto';
import type { Postgres } from '../../postgres-client.ts';
import type { ChatLock } from '../middlewares/chat-order.ts';

/**
 * A chat's lock shared by a fleet, as a lease in PostgreSQL (table chat_leases): taken
 * with one statement when free or expired, renewed while held, deleted when done. A
 * lease holds no connection, so a thousand chats answered at once cost no more than a
 * few; an instance killed mid-answer leaves its lease to expire (LEASE_MS) and the chat
 * goes on. Waiting is polling, at WAIT_POLL_MS, only while another instance holds it.
 */

const LEASE_MS = 20_000;
const RENEW_MS = 5_000;
const WAIT_POLL_MS = 30;

export class PostgresChatLock implements ChatLock {
  /** This process, as the holder its leases name. */
  private readonly holder = randomUUID();

  constructor(
    private readonly pg: Postgres,
    private readonly onLost: (key: string) => void = () => {},
  ) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    while (!(await this.tryTake(key))) await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    const renew = setInterval(() => {
      void this.pg
        .query('UPDATE chat_leases SET expires_at = $3 WHERE chat_key = $1 AND holder = $2', [key, this.holder, Date.now() + LEASE_MS])
        .then((r) => r.rowCount === 0 && this.onLost(key), () => {});
    }, RENEW_MS);
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.pg.query('DELETE FROM chat_leases WHERE chat_key = $1 AND holder = $2', [key, this.holder]).catch(() => {});
    }
  }

  private async tryTake(key: string): Promise<boolean> {
    const now = Date.now();
    const r = await this.pg.query(
      `INSERT INTO chat_leases (chat_key, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (chat_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE chat_leases.expires_at < $4`,
      [key, this.holder, now + LEASE_MS, now],
    );
    return r.rowCount === 1;
  }
}
