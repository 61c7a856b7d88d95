import { z } from 'zod';
import type { HistoryTurn } from '../answer/answer.ts';
import type { Database } from './database.ts';

/**
 * What the bot keeps in SQLite: the chats it has seen, its answers (which are also each
 * chat's conversation history and the target of every button), and feedback.
 * Synchronous (better-sqlite3): each call is one short statement or transaction.
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
    private readonly db: Database,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Records that a chat is active (and, if it was marked blocked, that it is not any more). */
  touchChat(chat: ChatInfo): void {
    const t = this.now();
    this.db
      .prepare(
        `INSERT INTO chats (id, type, title, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title, last_seen_at = excluded.last_seen_at, blocked_at = NULL`,
      )
      .run(chat.id, chat.type, chat.title ?? null, t, t);
  }

  /** Telegram refused to deliver to this chat (403): the user blocked the bot or removed it. */
  markBlocked(chatId: number): void {
    this.db.prepare('UPDATE chats SET blocked_at = ? WHERE id = ?').run(this.now(), chatId);
  }

  isBlocked(chatId: number): boolean {
    const row = this.db.prepare('SELECT blocked_at FROM chats WHERE id = ?').get(chatId) as { blocked_at: number | null } | undefined;
    return row?.blocked_at != null;
  }

  /** /new: earlier turns no longer count as history. */
  clearHistory(chatId: number): void {
    const t = this.now();
    this.db
      .prepare(
        `INSERT INTO chats (id, type, first_seen_at, last_seen_at, history_cleared_at) VALUES (?, 'unknown', ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET history_cleared_at = excluded.history_cleared_at`,
      )
      .run(chatId, t, t, t);
  }

  /** The chat's recent turns, oldest first: at most `limit`, none older than `maxAgeMs` or before /new. */
  history(chatId: number, options: { limit: number; maxAgeMs: number }): HistoryTurn[] {
    const cleared = (this.db.prepare('SELECT history_cleared_at AS c FROM chats WHERE id = ?').get(chatId) as { c: number } | undefined)?.c ?? 0;
    const since = Math.max(cleared, this.now() - options.maxAgeMs);
    const rows = this.db
      .prepare(
        `SELECT standalone, answer_text FROM answers
         WHERE chat_id = ? AND kind = 'answer' AND created_at > ? ORDER BY id DESC LIMIT ?`,
      )
      .all(chatId, since, options.limit) as Array<{ standalone: string; answer_text: string }>;
    return rows.reverse().map((r) => ({ q: r.standalone, answer: r.answer_text }));
  }

  saveAnswer(input: AnswerRecordInput): number {
    const info = this.db
      .prepare(
        `INSERT INTO answers (kind, chat_id, user_id, parent_id, question, standalone, answer_text, found, mode, sources, shown, latency_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
    return Number(info.lastInsertRowid);
  }

  /** The message that carries the answer's buttons (the last part of a split answer). */
  setMessageId(answerId: number, messageId: number): void {
    this.db.prepare('UPDATE answers SET message_id = ? WHERE id = ?').run(messageId, answerId);
  }

  setLatency(answerId: number, latencyMs: number): void {
    this.db.prepare('UPDATE answers SET latency_ms = ? WHERE id = ?').run(Math.round(latencyMs), answerId);
  }

  answer(id: number): AnswerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM answers WHERE id = ?').get(id) as AnswerRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * The answer a button in `chatId` names, or undefined when that answer was given in
   * another chat (or nowhere): button data is forgeable, so a chat reaches only its own rows.
   */
  answerInChat(id: number, chatId: number): AnswerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM answers WHERE id = ? AND chat_id = ?').get(id, chatId) as AnswerRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Records a 👍 (1) or 👎 (-1); a second press of the same button takes the vote back. */
  setFeedback(answerId: number, userId: number, value: 1 | -1): FeedbackCounts & { vote: 1 | -1 | 0 } {
    return this.db.transaction(() => {
      const current = this.db.prepare('SELECT value FROM feedback WHERE answer_id = ? AND user_id = ?').get(answerId, userId) as { value: number } | undefined;
      let vote: 1 | -1 | 0 = value;
      if (current?.value === value) {
        this.db.prepare('DELETE FROM feedback WHERE answer_id = ? AND user_id = ?').run(answerId, userId);
        vote = 0;
      } else {
        this.db
          .prepare(
            `INSERT INTO feedback (answer_id, user_id, value, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (answer_id, user_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          )
          .run(answerId, userId, value, this.now());
      }
      return { ...this.feedbackCounts(answerId), vote };
    })();
  }

  feedbackCounts(answerId: number): FeedbackCounts {
    const row = this.db
      .prepare('SELECT COALESCE(SUM(value = 1), 0) AS up, COALESCE(SUM(value = -1), 0) AS down FROM feedback WHERE answer_id = ?')
      .get(answerId) as { up: number; down: number };
    return { up: row.up, down: row.down };
  }

  stats(options: { latencySamples?: number } = {}): BotStats {
    const dayAgo = this.now() - 24 * 3600_000;
    const one = <T>(sql: string, ...params: unknown[]) => this.db.prepare(sql).get(...params) as T;
    const chats = one<{ private: number; groups: number; blocked: number; active: number }>(
      `SELECT COALESCE(SUM(type = 'private'), 0) AS private, COALESCE(SUM(type IN ('group', 'supergroup')), 0) AS groups,
              COALESCE(SUM(blocked_at IS NOT NULL), 0) AS blocked, COALESCE(SUM(last_seen_at > ?), 0) AS active FROM chats`,
      dayAgo,
    );
    const q = one<{ total: number; last24h: number; found: number; llm: number }>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(created_at > ?), 0) AS last24h, COALESCE(SUM(found), 0) AS found,
              COALESCE(SUM(mode = 'llm'), 0) AS llm FROM answers WHERE kind = 'answer'`,
      dayAgo,
    );
    const kinds = one<{ more: number; inline: number }>(
      `SELECT COALESCE(SUM(kind = 'more'), 0) AS more, COALESCE(SUM(kind = 'inline'), 0) AS inline FROM answers`,
    );
    const latencies = (
      this.db
        .prepare(`SELECT latency_ms AS ms FROM answers WHERE kind = 'answer' AND latency_ms IS NOT NULL ORDER BY id DESC LIMIT ?`)
        .all(options.latencySamples ?? 1000) as Array<{ ms: number }>
    )
      .map((r) => r.ms)
      .sort((a, b) => a - b);
    const fb = one<{ up: number; down: number; rated: number }>(
      'SELECT COALESCE(SUM(value = 1), 0) AS up, COALESCE(SUM(value = -1), 0) AS down, COUNT(DISTINCT answer_id) AS rated FROM feedback',
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
