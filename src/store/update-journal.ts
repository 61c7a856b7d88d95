import type { Database } from './sql.ts';

/**
 * The updates the bot has taken from Telegram, until handled and for a while after.
 * Once the bot has fetched an update (long polling) or acknowledged it (webhook),
 * Telegram considers it delivered: if the process stops (SIGTERM past the drain bound,
 * kill -9, a crash) before the answer is out, only this table remembers the question. An
 * update is written here the moment it arrives — before it waits behind its chat's
 * earlier messages — and marked handled once handled; what is left unhandled is handled
 * again at the next start (at least once: an answer sent just before a crash may go out
 * twice). An update that was started `maxAttempts` times without finishing is given up.
 *
 * A handled update keeps its row (without its body) for a day: Telegram redelivers a
 * webhook update it got no answer for, possibly to another instance, and `begin` then
 * says it was handled already. Checked under the chat's lock (see create-bot.ts), so two
 * deliveries of one update are never handled both.
 */

export interface PendingUpdate {
  updateId: number;
  /** The update as Telegram sent it (JSON). */
  body: string;
  attempts: number;
  receivedAt: number;
}

/** How long a handled update is remembered: Telegram gives up redelivering within a day. */
const HANDLED_KEPT_MS = 48 * 3600_000;

export class UpdateJournal {
  private readonly now: () => number;
  private purgedAt = 0;

  constructor(
    private readonly db: Database,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Records an update on arrival, before it waits for its chat's turn, without counting
   * an attempt (begin() does that when handling starts). A known update is left as it is.
   */
  async accept(updateId: number, body: string, chatKey?: string): Promise<void> {
    if (!this.db.open) return;
    await this.db.run('INSERT INTO pending_updates (update_id, body, attempts, received_at, chat_key) VALUES (?, ?, 0, ?, ?) ON CONFLICT DO NOTHING', [
      updateId,
      body,
      this.now(),
      chatKey ?? null,
    ]);
  }

  /**
   * Unhandled updates of the chat `chatKey` older than `updateId`, received in the last
   * `recentMs` (an older one's instance has stopped; it is replayed later), leaving out
   * `except` (the ones this process holds: its own queue orders them).
   */
  async earlierUnhandled(chatKey: string, updateId: number, recentMs: number, except: ReadonlySet<number>): Promise<number[]> {
    if (!this.db.open) return [];
    const rows = await this.db.all<{ update_id: number }>(
      'SELECT update_id FROM pending_updates WHERE chat_key = ? AND update_id < ? AND handled_at IS NULL AND received_at >= ?',
      [chatKey, updateId, this.now() - recentMs],
    );
    return rows.map((r) => r.update_id).filter((id) => !except.has(id));
  }

  /**
   * Handling an update starts (a replayed one counts another attempt): 'start', or
   * 'handled' when it was handled already (a redelivery) and must not be handled again.
   */
  async begin(updateId: number, body: string): Promise<'start' | 'handled'> {
    if (!this.db.open) return 'start';
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ handled_at: number | null }>('SELECT handled_at FROM pending_updates WHERE update_id = ?', [updateId]);
      if (row?.handled_at != null) return 'handled' as const;
      await tx.run(
        `INSERT INTO pending_updates (update_id, body, attempts, received_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (update_id) DO UPDATE SET attempts = pending_updates.attempts + 1`,
        [updateId, body, this.now()],
      );
      return 'start' as const;
    });
  }

  /** The update has been handled (answered, or failed in a way a retry would not fix). */
  async done(updateId: number): Promise<void> {
    // Shutdown may close the database under a handler that is being abandoned: its row stays.
    if (!this.db.open) return;
    const t = this.now();
    await this.db.run("UPDATE pending_updates SET handled_at = ?, body = '' WHERE update_id = ?", [t, updateId]);
    if (t - this.purgedAt > 3600_000) {
      this.purgedAt = t;
      await this.db.run('DELETE FROM pending_updates WHERE handled_at IS NOT NULL AND handled_at < ?', [t - HANDLED_KEPT_MS]);
    }
  }

  /**
   * The updates to handle again, oldest first: unhandled, and received at least
   * `minAgeMs` ago (0: all; a running fleet takes only those left behind by an instance
   * that stopped). Those already started `maxAttempts` times or older than `maxAgeMs`
   * are dropped (and counted), so a poisonous update cannot crash every start.
   */
  takePending(options: { maxAttempts: number; maxAgeMs: number; minAgeMs?: number }): Promise<{ pending: PendingUpdate[]; dropped: number }> {
    return this.db.transaction(async (tx) => {
      const dropped = await tx.run('DELETE FROM pending_updates WHERE handled_at IS NULL AND (attempts >= ? OR received_at < ?)', [options.maxAttempts, this.now() - options.maxAgeMs]);
      const rows = await tx.all<{ update_id: number; body: string; attempts: number; received_at: number }>(
        'SELECT update_id, body, attempts, received_at FROM pending_updates WHERE handled_at IS NULL AND received_at <= ? ORDER BY update_id',
        [this.now() - (options.minAgeMs ?? 0)],
      );
      return { pending: rows.map((r) => ({ updateId: r.update_id, body: r.body, attempts: r.attempts, receivedAt: r.received_at })), dropped };
    });
  }

  /** Updates recorded and not yet handled. */
  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM pending_updates WHERE handled_at IS NULL'))!.n;
  }
}
