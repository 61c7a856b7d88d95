import path from 'node:path';
import * as z from 'zod';
import { ConfigError } from './errors.ts';

// Each zod parse in this product checks a value once (the settings, a file's header, a
// button's data, a model's reply), where zod's JIT compiles each object schema with `new
// Function` on its first parse: about a millisecond a schema, more than it ever saves here
// (10 ms of a cold `npm run ask`). Every entry reads this module first.
z.config({ jitless: true });

/**
 * Every setting the product reads, validated once at start-up. Modules receive only
 * their slice (e.g. `config.index`), never `process.env`.
 * Defaults here are mirrored in `.env.example` and README (a test keeps them in sync).
 */

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v.trim());
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const idList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return [] as number[];
    const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
    const out: number[] = [];
    for (const id of ids) {
      if (!/^-?\d+$/.test(id)) {
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of numeric Telegram ids, got "${id}"` });
        return z.NEVER;
      }
      out.push(Number(id));
    }
    return out;
  });

const url = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    try {
      const u = new URL(v.trim());
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      return v.trim().replace(/\/+$/, '');
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, got "${v}"` });
      return z.NEVER;
    }
  });

/** The password in a DATABASE_URL, if any: one of the secrets scrubbed from logs. */
export function databasePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** postgres://user:password@host:port/name; the value is never echoed (it may hold a password). */
const databaseUrl = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    let u: URL | undefined;
    try {
      u = new URL(v.trim());
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') || !u.hostname || u.pathname.length < 2) {
      ctx.addIssue({ code: 'custom', message: 'must be a PostgreSQL URL postgres://user:password@host:port/database (value hidden)' });
      return z.NEVER;
    }
    return v.trim();
  });

const hhmm = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const s = v?.trim() || '08:00';
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `must be a time HH:MM, got "${v}"` });
      return z.NEVER;
    }
    return s;
  });

/**
 * Whether Intl knows the zone. The list of canonical zones answers in a few milliseconds;
 * a DateTimeFormat, which also accepts aliases (UTC, Asia/Calcutta) and any letter case,
 * first loads ICU's formatting data (about 20 ms of every command's start), so it is asked
 * only about a name the list lacks.
 */
function isTimeZone(tz: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const timeZone = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const tz = v?.trim();
    // The default needs no check (asking Intl is 6 ms of every command's start).
    if (!tz) return DEFAULT_TIME_ZONE;
    if (!isTimeZone(tz)) {
      ctx.addIssue({ code: 'custom', message: `must be an IANA time zone such as Asia/Shanghai, got "${v}"` });
      return z.NEVER;
    }
    return tz;
  });

const envSchema = z.object({
  STATE_DIR: z.string().optional().transform((v) => v?.trim() || 'var'),
  DATABASE_URL: databaseUrl,
  CORPUS_DIR: z.string().optional().transform((v) => v?.trim() || 'data/corpus'),
  INDEX_SHARED_DIR: optionalString,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .transform((v) => v ?? 'info'),

  EMBEDDING_PROVIDER: z.enum(['local', 'openai']).optional().transform((v) => v ?? 'local'),
  EMBEDDING_MODEL: optionalString,
  EMBEDDING_DIMENSIONS: int(0, 0, 8192),
  VECTOR_BACKEND: z.enum(['hnswlib', 'pgvector']).optional().transform((v) => v ?? 'hnswlib'),
  CHUNK_SIZE: int(300, 80, 4000),
  CHUNK_OVERLAP: int(40, 0, 1000),

  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url,
  CHAT_MODEL: optionalString,
  LLM_TIMEOUT_MS: int(30_000, 1_000, 600_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  LLM_STREAM_IDLE_MS: int(15_000, 1_000, 600_000),
  LLM_DEADLINE_MS: int(45_000, 1_000, 600_000),
  LLM_MAX_TOKENS: int(2_000, 64, 32_000),

  TELEGRAM_BOT_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!/^\d+:[A-Za-z0-9_-]+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: 'must look like 123456:ABC… (the token @BotFather gives)' });
        return z.NEVER;
      }
      return v.trim();
    }),
  TELEGRAM_API_ROOT: url,
  WEBHOOK_URL: url,
  WEBHOOK_SECRET: optionalString,
  PORT: int(8080, 1, 65535),
  ALLOWED_CHAT_IDS: idList,
  ADMIN_USER_IDS: idList,
  RATE_LIMIT_PER_MINUTE: int(10, 1, 1000),
  TELEGRAM_MESSAGES_PER_SECOND: int(30, 1, 1000),
  MAX_QUESTION_CHARS: int(500, 10, 4000),
  SHUTDOWN_DRAIN_MS: int(10_000, 0, 600_000),

  DIGEST_TZ: timeZone,
  DIGEST_DEFAULT_TIME: hhmm,
  MAX_SUBSCRIPTIONS_PER_CHAT: int(5, 1, 100),
  DIGEST_CLAIM_LEASE_MS: int(300_000, 2_000, 3_600_000),
});

export type Env = Record<string, string | undefined>;

export interface IndexConfig {
  stateDir: string;
  corpusDir: string;
  /** dimensions 0 = the embedder's own default (local: 512; openai: the model's native size). */
  embedding: { provider: 'local' | 'openai'; model?: string; dimensions: number };
  chunking: { chunkSize: number; chunkOverlap: number };
  /**
   * A folder shared by a fleet where `npm run ingest` publishes index generations and
   * every instance loads the current one (index-generations.ts); unset: the index is
   * built and kept in `<stateDir>/index` by each process.
   */
  sharedDir?: string;
  /** Where the vectors are searched: in process (hnswlib, the default) or in PostgreSQL with pgvector. */
  vectors: { backend: 'hnswlib' } | { backend: 'pgvector'; databaseUrl: string };
}

export interface LlmConfig {
  apiKey?: string;
  baseURL?: string;
  chatModel?: string;
  timeoutMs: number;
  maxRetries: number;
  /** A streamed answer that sends nothing for this long is abandoned (the request timeout does not cover gaps between chunks). */
  streamIdleMs: number;
  /** One model call (retries and streaming included) is abandoned after this long. */
  deadlineMs: number;
  /** The longest reply asked of the model (`max_tokens`). */
  maxTokens: number;
}

export interface TelegramConfig {
  token?: string;
  apiRoot?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  port: number;
  allowedChatIds: number[];
  adminUserIds: number[];
  rateLimitPerMinute: number;
  /** Messages the bot sends per second at most, all instances together (Telegram allows about 30). */
  messagesPerSecond: number;
  maxQuestionChars: number;
  /** On SIGTERM, how long updates in hand may take to finish; the rest are handled at the next start. */
  shutdownDrainMs: number;
}

export interface DigestConfig {
  timeZone: string;
  defaultTime: string;
  maxSubscriptionsPerChat: number;
  /** How long an instance's claim on a digest holds without news from it: after a crash, another instance sends it then. */
  claimLeaseMs: number;
}

/** Where chats, answers, subscriptions and the digest ledger live. */
export interface StoreConfig {
  /** PostgreSQL (postgres://…) when set; otherwise SQLite in `stateDir`. */
  databaseUrl?: string;
  stateDir: string;
}

export interface Config {
  logLevel: string;
  store: StoreConfig;
  index: IndexConfig;
  llm: LlmConfig;
  telegram: TelegramConfig;
  digest: DigestConfig;
  /** Values that must never appear in logs or files. */
  secrets: string[];
}

/** Every setting read from the environment (what `.env.example` must list). */
export const SETTING_NAMES: readonly string[] = Object.keys(envSchema.shape);

/**
 * Pure: validates `env` and returns the grouped config. Reports every bad setting at
 * once, one line each, naming the setting (never echoing a secret's value).
 */
export function parseConfig(env: Env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '?');
      const msg = /KEY|TOKEN|SECRET/.test(key) ? i.message.replace(/"[^"]*"/g, '(hidden)') : i.message;
      return `config: ${key} ${msg}`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.CHUNK_OVERLAP >= e.CHUNK_SIZE) problems.push(`config: CHUNK_OVERLAP must be smaller than CHUNK_SIZE (${e.CHUNK_OVERLAP} >= ${e.CHUNK_SIZE})`);
  if (e.EMBEDDING_PROVIDER === 'openai' && !e.EMBEDDING_MODEL) problems.push('config: EMBEDDING_MODEL is required when EMBEDDING_PROVIDER=openai');
  if (e.EMBEDDING_PROVIDER === 'openai' && !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL)
    problems.push('config: OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) is required when EMBEDDING_PROVIDER=openai');
  if (e.CHAT_MODEL && !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL)
    problems.push('config: OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) is required when CHAT_MODEL is set');
  if (e.WEBHOOK_URL && !e.TELEGRAM_BOT_TOKEN) problems.push('config: TELEGRAM_BOT_TOKEN is required when WEBHOOK_URL is set');
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) problems.push('config: WEBHOOK_SECRET is required when WEBHOOK_URL is set (Telegram sends it back in a header we check)');
  if (e.WEBHOOK_SECRET && !/^[A-Za-z0-9_-]{1,256}$/.test(e.WEBHOOK_SECRET))
    problems.push('config: WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
  if (e.VECTOR_BACKEND === 'pgvector' && !e.DATABASE_URL) problems.push('config: DATABASE_URL is required when VECTOR_BACKEND=pgvector (a PostgreSQL database with pgvector installed)');
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));

  return {
    logLevel: e.LOG_LEVEL,
    store: { ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}), stateDir: path.resolve(cwd, e.STATE_DIR) },
    index: {
      stateDir: path.resolve(cwd, e.STATE_DIR),
      corpusDir: path.resolve(cwd, e.CORPUS_DIR),
      embedding: { provider: e.EMBEDDING_PROVIDER, ...(e.EMBEDDING_MODEL ? { model: e.EMBEDDING_MODEL } : {}), dimensions: e.EMBEDDING_DIMENSIONS },
      chunking: { chunkSize: e.CHUNK_SIZE, chunkOverlap: e.CHUNK_OVERLAP },
      ...(e.INDEX_SHARED_DIR ? { sharedDir: path.resolve(cwd, e.INDEX_SHARED_DIR) } : {}),
      vectors: e.VECTOR_BACKEND === 'pgvector' && e.DATABASE_URL ? { backend: 'pgvector', databaseUrl: e.DATABASE_URL } : { backend: 'hnswlib' },
    },
    llm: {
      ...(e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY } : {}),
      ...(e.OPENAI_BASE_URL ? { baseURL: e.OPENAI_BASE_URL } : {}),
      ...(e.CHAT_MODEL ? { chatModel: e.CHAT_MODEL } : {}),
      timeoutMs: e.LLM_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      streamIdleMs: e.LLM_STREAM_IDLE_MS,
      deadlineMs: e.LLM_DEADLINE_MS,
      maxTokens: e.LLM_MAX_TOKENS,
    },
    telegram: {
      ...(e.TELEGRAM_BOT_TOKEN ? { token: e.TELEGRAM_BOT_TOKEN } : {}),
      ...(e.TELEGRAM_API_ROOT ? { apiRoot: e.TELEGRAM_API_ROOT } : {}),
      ...(e.WEBHOOK_URL ? { webhookUrl: e.WEBHOOK_URL } : {}),
      ...(e.WEBHOOK_SECRET ? { webhookSecret: e.WEBHOOK_SECRET } : {}),
      port: e.PORT,
      allowedChatIds: e.ALLOWED_CHAT_IDS,
      adminUserIds: e.ADMIN_USER_IDS,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      messagesPerSecond: e.TELEGRAM_MESSAGES_PER_SECOND,
      maxQuestionChars: e.MAX_QUESTION_CHARS,
      shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    },
    digest: {
      timeZone: e.DIGEST_TZ,
      defaultTime: e.DIGEST_DEFAULT_TIME,
      maxSubscriptionsPerChat: e.MAX_SUBSCRIPTIONS_PER_CHAT,
      claimLeaseMs: e.DIGEST_CLAIM_LEASE_MS,
    },
    secrets: [e.OPENAI_API_KEY, e.TELEGRAM_BOT_TOKEN, e.WEBHOOK_SECRET, e.DATABASE_URL ? databasePassword(e.DATABASE_URL) : undefined].filter((s): s is string => !!s),
  };
}
