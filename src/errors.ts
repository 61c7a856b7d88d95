/**
 * The project's small typed error family. Each carries a stable `code` so boundaries
 * (CLI exit, bot error boundary, digest loop) can decide what to tell the user.
 * Messages start with the module that raised them and give the numbers involved.
 */
export class PlanQaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A setting is missing or invalid; `message` is one line naming the setting. */
export class ConfigError extends PlanQaError {
  constructor(message: string) {
    super('config', message);
  }
}

/** The corpus folder or its manifest cannot be used as it is. */
export class CorpusError extends PlanQaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('corpus', message, options);
  }
}

/** No index on disk yet: run ingest. */
export class IndexMissingError extends PlanQaError {
  constructor(message: string) {
    super('index-missing', message);
  }
}

/** The index on disk is unreadable, half-written or of another format version. */
export class IndexCorruptError extends PlanQaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('index-corrupt', message, options);
  }
}

/** The query-time embedder differs from the one that built the index. */
export class IndexMismatchError extends PlanQaError {
  constructor(message: string) {
    super('index-mismatch', message);
  }
}

/**
 * Generated state (STATE_DIR: the index folder, the SQLite database) cannot be used and
 * cannot be repaired without a person: a file where a folder belongs, a damaged or
 * read-only database. `message` is one line naming the path and what to do.
 */
export class StateError extends PlanQaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('state', message, options);
  }
}

/**
 * A remote service (LLM, embeddings, Telegram) failed in a way the caller may fall back
 * from. The OpenAI-compatible services' failures come as one subclass per kind
 * (translated once, in openai-client.ts); callers test them with `instanceof`.
 */
export class UpstreamError extends PlanQaError {
  readonly status?: number;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('upstream', message, options);
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** No answer in time: the connection timed out, a stream stalled, or the call's deadline passed. */
export class UpstreamTimeoutError extends UpstreamError {}

/** The server could not be reached (connection refused, reset, DNS). */
export class UpstreamUnreachableError extends UpstreamError {}

/** HTTP 429: the server asks us to slow down. */
export class UpstreamRateLimitError extends UpstreamError {}

/** HTTP 5xx: the server failed. */
export class UpstreamServerError extends UpstreamError {}

/** The server or the model refused the request (401/403/other 4xx, or a model refusal). */
export class UpstreamRefusedError extends UpstreamError {}

/** A reply we cannot use: invalid JSON, the wrong shape, empty, or a wrong number of vectors. */
export class UpstreamMalformedError extends UpstreamError {}

/** We stopped waiting (shutdown, or the caller gave up). */
export class UpstreamAbortedError extends UpstreamError {}

/** Input the user gave that we refuse with a clear message (empty, too long, malformed). */
export class InputError extends PlanQaError {
  constructor(message: string) {
    super('input', message);
  }
}

/**
 * Telegram did not take a message the digest sent (the bot translates grammY's errors
 * into this one at the send boundary): `gone` (403 blocked or removed, 400 chat not
 * found) stops that chat's subscriptions; `rate-limited` (429) carries Telegram's
 * retry_after; `failed` (anything else, network included) is retried with back-off.
 */
export class DeliveryError extends PlanQaError {
  readonly kind: 'gone' | 'rate-limited' | 'failed';
  readonly retryAfterMs?: number;
  constructor(kind: DeliveryError['kind'], message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super('delivery', message, options);
    this.kind = kind;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** A chart could not be drawn (font missing or unreadable, rasterizer failure); callers fall back to text. */
export class ChartError extends PlanQaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('chart', message, options);
  }
}

/** One document cannot be read or described (damaged, scanned, unsupported): it is skipped, the rest load. */
export class ExtractionError extends PlanQaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('extraction', message, options);
  }
}
