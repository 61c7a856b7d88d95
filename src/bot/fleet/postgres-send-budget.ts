import type { Postgres } from '../../postgres-client.ts';
import type { SendBudget, SendSlot, SendWindow } from '../throttle.ts';

/**
 * The outgoing Telegram budget of a whole fleet, in PostgreSQL: every instance's sends in
 * one table (send_slots), with the throttle's rule — a send holds its slot from the
 * moment it is sent until one window after its response. A take is one transaction
 * under one advisory lock (a few a second: cheap), so the fleet never puts more than
 * `max` sends in any window. A slot whose instance died in flight counts until
 * IN_FLIGHT_STALE_MS after it was sent.
 */

const LOCK_KEY = 0x73656e64; // "send"
const IN_FLIGHT_STALE_MS = 30_000;
/** While the slot that frees room is still in flight, look again this often. */
const IN_FLIGHT_POLL_MS = 25;

export class PostgresSendBudget implements SendBudget {
  constructor(
    private readonly pg: Postgres,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  async waitMs(windows: readonly SendWindow[]): Promise<number> {
    let wait = 0;
    for (const w of windows) wait = Math.max(wait, await this.windowWait(w, this.now()));
    return wait;
  }

  private takes = 0;

  tryTake(windows: readonly SendWindow[]): Promise<SendSlot | { waitMs: number; blockedBy: string }> {
    return this.pg.transaction(async (tx) => {
      await this.pg.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY], tx);
      const t = this.now();
      // Now and then, the slots of windows no longer sent to (a group's): every window is under two minutes.
      if (++this.takes % 1000 === 0) await this.pg.query('DELETE FROM send_slots WHERE COALESCE(done_at, sent_at + $1) < $2', [IN_FLIGHT_STALE_MS, t - 120_000], tx);
      for (const w of windows) {
        await this.pg.query('DELETE FROM send_slots WHERE window_key = $1 AND COALESCE(done_at, sent_at + $2) + $3 <= $4', [w.key, IN_FLIGHT_STALE_MS, w.windowMs, t], tx);
        const waitMs = await this.windowWait(w, t, tx);
        if (waitMs > 0) return { waitMs, blockedBy: w.key };
      }
      const { rows } = await this.pg.query<{ id: number }>(
        'INSERT INTO send_slots (window_key, sent_at) SELECT k, $2 FROM unnest($1::text[]) AS k RETURNING id',
        [windows.map((w) => w.key), t],
        tx,
      );
      const ids = rows.map((r) => r.id);
      return {
        release: () => {
          this.pg.query('UPDATE send_slots SET done_at = $2 WHERE id = ANY($1::bigint[])', [ids, this.now()]).catch(this.onError);
        },
      };
    });
  }

  /** How long from `t` until `w` has room (0: now). */
  private async windowWait(w: SendWindow, t: number, tx?: Parameters<Postgres['query']>[2]): Promise<number> {
    const { rows } = await this.pg.query<{ free_at: number | null }>(
      `SELECT done_at + $2 AS free_at FROM send_slots
       WHERE window_key = $1 AND COALESCE(done_at, sent_at + $3) + $2 > $4
       ORDER BY done_at NULLS LAST`,
      [w.key, w.windowMs, IN_FLIGHT_STALE_MS, t],
      tx,
    );
    if (rows.length < w.max) return 0;
    const at = rows[rows.length - w.max]!.free_at;
    return at === null ? IN_FLIGHT_POLL_MS : Math.max(1, at - t);
  }
}
