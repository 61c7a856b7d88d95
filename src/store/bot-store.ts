import * as z from 'zod';
import type { HistoryTurn } from '../answer/answer.ts';
import type { Sql } from './sql.ts';

/**
 * What the bot keeps in its database (SQLite, or PostgreSQL shared by several instances):
 * the chats it has seen, its answers (which are also each chat's conversation history and
 * the target of every button), and feedback. Each call is one short statement or
 * transaction, written once for both engines (sql.ts).
 */

export const sourceExcerptSchema = z.object({
  n: z.number().int().positive(),
  chunkId: z.string(),
  file: z.string(),
  title: z.string(),
  district: z.string(),
  section: z.string(),
  /** The whole passage, verbatim (a table row: the rebuilt row, then the row as printed). */
  excerpt: z.string(),
  /** The quoted span inside `excerpt` (UTF-16 offsets), when the citation quotes part of it. */
  quote: z.tuple([z.number().int(), z.number().int()]).optional(),
});
export type SourceExcerpt = z.infer<typeof sourceExcerptSchema>;

const sourcesSchema = z.array(sourceExcerptSchema);
const shownSchema = z.array(z.string());

export type AnswerKind = 'answer' | 'more' | 'inline';

export interface AnswerRecordInput {
  kind: AnswerKind;
  chatId?: number;
  userId?: number;
  parentId?: number;
  question: string;
  standalone: string;
  answerText: string;
  found: boolean;
  mode: string;
  sources: SourceExcerpt[];
  /** Chunk ids shown so far in this thread (the answer's passages, then each page of more results). */
  shown: string[];
  latencyMs?: number;
}

export interface AnswerRecord extends AnswerRecordInput {
  id: number;
  messageId?: number;
  createdAt: number;
}

export interface ChatInfo {
  id: number;
  type: string;
  title?: string;
}

export interface FeedbackCounts {
  up: number;
  down: number;
}

export interface BotStats {
  chats: { private: number; groups: number; blocked: number; activeLast24h: number };
  questions: { total: number; last24h: number; found: number; notFound: number; llm: number };
  morePages: number;
  inline: number;
  latencyMs: { samples: number; p50: number; p95: number; max: number };
  feedback: FeedbackCounts & { answersRated: number };
}

interface AnswerRow {
  id: number;
  kind: AnswerKind;
  chat_id: number | null;
  user_id: number | null;
  message_id: number | null;
  parent_id: number | null;
  question: string;
  standalone: string;
  answer_text: string;
  found: number;
  mode: string;
  sources: string;
  shown: string;
  latency_ms: number | null;
  created_at: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function toRecord(row: AnswerRow): AnswerRecord {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.chat_id !== null ? { chatId: row.chat_id } : {}),
    ...(row.user_id !== null ? { userId: row.user_id } : {}),
    ...(row.message_id !== null ? { messageId: row.message_id } : {}),
    ...(row.parent_id !== null ? { parentId: row.parent_id } : {}),
    question: row.question,
    standalone: row.standalone,
    answerText: row.answer_text,
    found: row.found === 1,
    mode: row.mode,
    sources: sourcesSchema.parse(JSON.parse(row.sources)),
    shown: shownSchema.parse(JSON.parse(row.shown)),
    ...(row.latency_ms !== null ? { latencyMs: row.latency_ms } : {}),
    createdAt: row.created_at,
  };
}

export class BotStore {
  private readonly now: () => number;

  constructor(
    private readonly db: Sql,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Records that a chat is active (and, if it was marked blocked, that it is not any more). */
  async touchChat(chat: ChatInfo): Promise<void> {
    const t = this.now();
    await this.db.run(
      `INSERT INTO chats (id, type, title, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title, last_seen_at = excluded.last_seen_at, blocked_at = NULL`,
      [chat.id, chat.type, chat.title ?? null, t, t],
    );
  }

  /** Telegram refused to deliver to this chat (403): the user blocked the bot or removed it. */
  async markBlocked(chatId: number): Promise<void> {
    await this.db.run('UPDATE chats SET blocked_at = ? WHERE id = ?', [this.now(), chatId]);
  }

  async isBlocked(chatId: number): Promise<boolean> {
    const row = await this.db.get<{ blocked_at: number | null }>('SELECT blocked_at FROM chats WHERE id = ?', [chatId]);
    return row?.blocked_at != null;
  }

  /** /new: earlier turns no longer count as history. */
  async clearHistory(chatId: number): Promise<void> {
    const t = this.now();
    await this.db.run(
      `INSERT INTO chats (id, type, first_seen_at, last_seen_at, history_cleared_at) VALUES (?, 'unknown', ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET history_cleared_at = excluded.history_cleared_at`,
      [chatId, t, t, t],
    );
  }

  /** The chat's recent turns, oldest first: at most `limit`, none older than `maxAgeMs` or before /new. */
  async history(chatId: number, options: { limit: number; maxAgeMs: number }): Promise<HistoryTurn[]> {
    const cleared = (await this.db.get<{ c: number }>('SELECT history_cleared_at AS c FROM chats WHERE id = ?', [chatId]))?.c ?? 0;
    const since = Math.max(cleared, this.now() - options.maxAgeMs);
    const rows = await this.db.all<{ standalone: string; answer_text: string }>(
      `SELECT standalone, answer_text FROM answers
       WHERE chat_id = ? AND kind = 'answer' AND created_at > ? ORDER BY id DESC LIMIT ?`,
      [chatId, since, options.limit],
    );
    return rows.reverse().map((r) => ({ q: r.standalone, answer: r.answer_text }));
  }

  async saveAnswer(input: AnswerRecordInput): Promise<number> {
    const row = await this.db.get<{ id: number }>(
      `INSERT INTO answers (kind, chat_id, user_id, parent_id, question, standalone, answer_text, found, mode, sources, shown, latency_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        input.kind,
        input.chatId ?? null,
        input.userId ?? null,
        input.parentId ?? null,
        input.question,
        input.standalone,
        input.answerText,
        input.found ? 1 : 0,
        input.mode,
        JSON.stringify(input.sources),
        JSON.stringify(input.shown),
        input.latencyMs ?? null,
        this.now(),
      ],
    );
    return row!.id;
  }

  /** The message that carries the answer's buttons (the last part of a split answer). */
  async setMessageId(answerId: number, messageId: number): Promise<void> {
    await this.db.run('UPDATE answers SET message_id = ? WHERE id = ?', [messageId, answerId]);
  }

  async setLatency(answerId: number, latencyMs: number): Promise<void> {
    await this.db.run('UPDATE answers SET latency_ms = ? WHERE id = ?', [Math.round(latencyMs), answerId]);
  }

  async answer(id: number): Promise<AnswerRecord | undefined> {
    const row = await this.db.get<AnswerRow>('SELECT * FROM answers WHERE id = ?', [id]);
    return row ? toRecord(row) : undefined;
  }

  /**
   * The answer a button in `chatId` names, or undefined when that answer was given in
   * another chat (or nowhere): button data is forgeable, so a chat reaches only its own rows.
   */
  async answerInChat(id: number, chatId: number): Promise<AnswerRecord | undefined> {
    const row = await this.db.get<AnswerRow>('SELECT * FROM answers WHERE id = ? AND chat_id = ?', [id, chatId]);
    return row ? toRecord(row) : undefined;
  }

  /** Records a 👍 (1) or 👎 (-1); a second press of the same button takes the vote back. */
  setFeedback(answerId: number, userId: number, value: 1 | -1): Promise<FeedbackCounts & { vote: 1 | -1 | 0 }> {
    return this.db.transaction(async (tx) => {
      // Two presses at once (two instances) both reading "no vote" would both insert: the
      // upsert makes the second a change of the first instead of a failure.
      const current = await tx.get<{ value: number }>('SELECT value FROM feedback WHERE answer_id = ? AND user_id = ?', [answerId, userId]);
      let vote: 1 | -1 | 0 = value;
      if (current?.value === value) {
        await tx.run('DELETE FROM feedback WHERE answer_id = ? AND user_id = ?', [answerId, userId]);
        vote = 0;
      } else {
        await tx.run(
          `INSERT INTO feedback (answer_id, user_id, value, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (answer_id, user_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          [answerId, userId, value, this.now()],
        );
      }
      return { ...(await feedbackCounts(tx, answerId)), vote };
    });
  }

  feedbackCounts(answerId: number): Promise<FeedbackCounts> {
    return feedbackCounts(this.db, answerId);
  }

  async stats(options: { latencySamples?: number } = {}): Promise<BotStats> {
    const dayAgo = this.now() - 24 * 3600_000;
    const one = async <T>(sql: string, params: number[] = []) => (await this.db.get<T>(sql, params))!;
    const chats = await one<{ private: number; groups: number; blocked: number; active: number }>(
      `SELECT ${count("type = 'private'")} AS private, ${count("type IN ('group', 'supergroup')")} AS groups,
              ${count('blocked_at IS NOT NULL')} AS blocked, ${count('last_seen_at > ?')} AS active FROM chats`,
      [dayAgo],
    );
    const q = await one<{ total: number; last24h: number; found: number; llm: number }>(
      `SELECT COUNT(*) AS total, ${count('created_at > ?')} AS last24h, ${count('found = 1')} AS found,
              ${count("mode = 'llm'")} AS llm FROM answers WHERE kind = 'answer'`,
      [dayAgo],
    );
    const kinds = await one<{ more: number; inline: number }>(`SELECT ${count("kind = 'more'")} AS more, ${count("kind = 'inline'")} AS inline FROM answers`);
    const latencies = (
      await this.db.all<{ ms: number }>(`SELECT latency_ms AS ms FROM answers WHERE kind = 'answer' AND latency_ms IS NOT NULL ORDER BY id DESC LIMIT ?`, [
        options.latencySamples ?? 1000,
      ])
    )
      .map((r) => r.ms)
      .sort((a, b) => a - b);
    const fb = await one<{ up: number; down: number; rated: number }>(
      `SELECT ${count('value = 1')} AS up, ${count('value = -1')} AS down, COUNT(DISTINCT answer_id) AS rated FROM feedback`,
    );
    return {
      chats: { private: chats.private, groups: chats.groups, blocked: chats.blocked, activeLast24h: chats.active },
      questions: { total: q.total, last24h: q.last24h, found: q.found, notFound: q.total - q.found, llm: q.llm },
      morePages: kinds.more,
      inline: kinds.inline,
      latencyMs: { samples: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1) ?? 0 },
      feedback: { up: fb.up, down: fb.down, answersRated: fb.rated },
    };
  }
}

/** How many rows meet `condition` (SUM of a comparison is SQLite-only; this is both engines'). */
function count(condition: string): string {
  return `COALESCE(SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END), 0)`;
}

async function feedbackCounts(db: Sql, answerId: number): Promise<FeedbackCounts> {
  const row = await db.get<{ up: number; down: number }>(`SELECT ${count('value = 1')} AS up, ${count('value = -1')} AS down FROM feedback WHERE answer_id = ?`, [answerId]);
  return { up: row!.up, down: row!.down };
}
