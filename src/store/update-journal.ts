import type { Database } from './sql.ts';

/**
 * The updates the bot has taken from Telegram and not finished handling. Once the bot has
 * fetched an update, Telegram considers it delivered: if the process stops (SIGTERM past
 * the drain bound, kill -9, a crash) before the answer is out, only this table remembers
 * the question. An update is written here the moment it arrives — before it waits behind
 * its chat's earlier messages — and deleted once handled; what is left is handled again
 * at the next start (at least once: an answer sent just before a crash may go out twice).
 * An update that was started `maxAttempts` times without finishing is given up.
 */

export interface PendingUpdate {
  updateId: number;
  /** The update as Telegram sent it (JSON). */
  body: string;
  attempts: number;
  receivedAt: number;
}

export class UpdateJournal {
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Records an update before Telegram is told it arrived (webhook mode: before the 200),
   * without counting an attempt: record() does that when handling starts.
   */
  async accept(updateId: number, body: string): Promise<void> {
    if (!this.db.open) return;
    await this.db.run('INSERT INTO pending_updates (update_id, body, attempts, received_at) VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING', [updateId, body, this.now()]);
  }

  /** Records that handling an update starts (a replayed one counts another attempt). */
  async record(updateId: number, body: string): Promise<void> {
    if (!this.db.open) return;
    await this.db.run(
      `INSERT INTO pending_updates (update_id, body, attempts, received_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (update_id) DO UPDATE SET attempts = pending_updates.attempts + 1`,
      [updateId, body, this.now()],
    );
  }

  /** The update has been handled (answered, or failed in a way a retry would not fix). */
  async done(updateId: number): Promise<void> {
    // Shutdown may close the database under a handler that is being abandoned: its row stays.
    if (!this.db.open) return;
    await this.db.run('DELETE FROM pending_updates WHERE update_id = ?', [updateId]);
  }

  /**
   * The updates to handle again, oldest first. Those already started `maxAttempts` times
   * or older than `maxAgeMs` are dropped (and counted), so a poisonous update cannot
   * crash every start.
   */
  takePending(options: { maxAttempts: number; maxAgeMs: number }): Promise<{ pending: PendingUpdate[]; dropped: number }> {
    return this.db.transaction(async (tx) => {
      const dropped = await tx.run('DELETE FROM pending_updates WHERE attempts >= ? OR received_at < ?', [options.maxAttempts, this.now() - options.maxAgeMs]);
      const rows = await tx.all<{ update_id: number; body: string; attempts: number; received_at: number }>(
        'SELECT update_id, body, attempts, received_at FROM pending_updates ORDER BY update_id',
      );
      return { pending: rows.map((r) => ({ updateId: r.update_id, body: r.body, attempts: r.attempts, receivedAt: r.received_at })), dropped };
    });
  }

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM pending_updates'))!.n;
  }
}
