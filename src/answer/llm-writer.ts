import type { LlmConfig } from '../config.ts';
import type { IndexedChunk } from '../index/plan-index.ts';
import {
  ConfigError,
  UpstreamAbortedError,
  UpstreamMalformedError,
  UpstreamRateLimitError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
  type UpstreamError,
} from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { createOpenAiClient, isServerUnavailable, toUpstreamError } from '../openai-client.ts';
import type { Answer, FallbackCause, HistoryTurn } from './answer.ts';
import { splitAnswerSentences, verifyCitations, type VerifiedAnswer } from './citation-verifier.ts';
import { ChatModel, fetchWithRetryAfterCap, type ChatReply } from './llm-chat.ts';
import { LlmPrompts, type ChatMessage } from './llm-messages.ts';
import { OUTPUT_FORMATS, parseDraftAnswer, partialAnswerText, type DraftAnswer, type OutputFormat } from './llm-output.ts';
import { cleanRewrite } from './llm-rewrite.ts';
import type { AnswerWriter, ComposeInput } from './question-answerer.ts';

/**
 * Answers composed by a chat model behind any OpenAI-compatible API, every claim tied to
 * a verified excerpt. Whatever goes wrong (the server, the network, the model's output,
 * a stalled stream, a model that finds nothing its quotes can back), the user gets the
 * extractive answer with `mode: "extractive"` and a `reason`, and the log says why.
 */

/**
 * The longest answer shown (characters of answer text, before its source list): about
 * one Telegram message. A longer verified answer is cut at a sentence and says so.
 */
export const MAX_ANSWER_CHARS = 3000;

export interface LlmWriterOptions {
  log?: Logger;
  /** Folder with the prompt templates (default: the repository's `prompts/`). */
  promptsDir?: string;
  /** Passages sent to the model, best first. */
  maxPassages?: number;
  /** A 429/503 asking to retry later than this is not retried: the user gets the offline answer now. */
  maxRetryAfterMs?: number;
  /** The fetch the SDK uses (default: global fetch); the bench passes one that answers in-process. */
  fetch?: typeof fetch;
  /** After this many failed calls in a row the model is not asked for `breakerCooldownMs` (default 3). */
  breakerThreshold?: number;
  /** Default 60 s. */
  breakerCooldownMs?: number;
  /**
   * Model calls at once (default 16). A question arriving when all are taken is answered
   * offline at once instead of waiting behind slow calls.
   */
  maxConcurrentCalls?: number;
  now?: () => number;
}

/** The stages of one answer, for the bench: prompt building, then parsing and verification. */
export interface ComposeStages {
  messages: ChatMessage[];
  finish(reply: ChatReply): { draft: DraftAnswer; verified: VerifiedAnswer };
}

/** The cause of a failed model call, from the class the SDK's error was translated into. */
function causeOf(failure: UpstreamError): FallbackCause {
  if (failure instanceof UpstreamTimeoutError) return 'timeout';
  if (failure instanceof UpstreamUnreachableError) return 'unreachable';
  if (failure instanceof UpstreamRateLimitError) return 'rate-limited';
  if (failure instanceof UpstreamServerError) return 'server-error';
  if (failure instanceof UpstreamRefusedError) return 'refused';
  if (failure instanceof UpstreamMalformedError) return 'malformed';
  if (failure instanceof UpstreamAbortedError) return 'aborted';
  return 'failed';
}

export class LlmAnswerWriter implements AnswerWriter {
  private readonly prompts: LlmPrompts;
  private readonly chat: ChatModel;
  private readonly log: Logger;
  private readonly maxPassages: number;
  /** Lowered for good when the server rejects a response_format (HTTP 400/422). */
  private format: OutputFormat = 'json_schema';
  /**
   * A circuit breaker: a server that is down would otherwise cost every question the full
   * timeout and retries (~90 s with the defaults) before the offline answer.
   */
  private readonly breaker: { threshold: number; cooldownMs: number; failures: number; openUntil: number; now: () => number };
  private readonly maxConcurrentCalls: number;
  private callsInFlight = 0;
  /** Aborted by close(): calls in flight end at once (their answers fall back to extractive). */
  private readonly closing = new AbortController();

  constructor(config: LlmConfig, options: LlmWriterOptions = {}) {
    if (!config.chatModel) throw new ConfigError('config: CHAT_MODEL is required for LLM answers');
    this.prompts = new LlmPrompts(options.promptsDir);
    this.log = options.log ?? silentLogger();
    this.maxPassages = options.maxPassages ?? 8;
    const cap = options.maxRetryAfterMs ?? Math.min(10_000, config.timeoutMs);
    const client = createOpenAiClient(config, { fetch: fetchWithRetryAfterCap(cap, options.fetch) });
    this.chat = new ChatModel(client, { model: config.chatModel, idleMs: config.streamIdleMs, deadlineMs: config.deadlineMs, maxTokens: config.maxTokens });
    this.maxConcurrentCalls = options.maxConcurrentCalls ?? 16;
    this.breaker = { threshold: options.breakerThreshold ?? 3, cooldownMs: options.breakerCooldownMs ?? 60_000, failures: 0, openUntil: 0, now: options.now ?? Date.now };
  }

  /**
   * Stops asking the model: calls in flight are aborted (their answers fall back to the
   * extractive one at once) and later questions are answered offline. For shutdown.
   */
  close(): void {
    this.closing.abort();
  }

  /** Runs one model call in a slot, with the caller's signal and close() both able to end it; undefined when every slot is taken. */
  private async inSlot<T>(signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.callsInFlight >= this.maxConcurrentCalls) return undefined;
    this.callsInFlight++;
    try {
      return { value: await call(signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal) };
    } finally {
      this.callsInFlight--;
    }
  }

  /** Why the model is not being asked right now, or undefined when it may be. */
  private breakerOpen(): string | undefined {
    if (this.closing.signal.aborted) return 'llm: shutting down';
    const b = this.breaker;
    const left = b.openUntil - b.now();
    return left > 0 ? `llm: not asked for another ${Math.ceil(left / 1000)} s after ${b.failures} failed calls in a row` : undefined;
  }

  private recordCall(ok: boolean): void {
    const b = this.breaker;
    if (ok) {
      b.failures = 0;
      return;
    }
    b.failures++;
    if (b.failures >= b.threshold) b.openUntil = b.now() + b.cooldownMs;
  }

  get outputFormat(): OutputFormat {
    return this.format;
  }

  /** The passages the model is shown (and its citations are checked against). */
  private promptChunks(input: Pick<ComposeInput, 'retrieval'>): IndexedChunk[] {
    return input.retrieval.passages.slice(0, this.maxPassages).map((p) => p.chunk);
  }

  stages(question: string, input: Pick<ComposeInput, 'retrieval'>, format: OutputFormat = this.format): ComposeStages {
    const chunks = this.promptChunks(input);
    return {
      messages: this.prompts.answerMessages(question, chunks, format),
      finish: (reply) => {
        if (reply.refusal) throw new UpstreamRefusedError('llm: the model refused to answer');
        if (reply.content.trim() === '') throw new UpstreamMalformedError(`llm: empty answer${reply.finishReason && reply.finishReason !== 'stop' ? ` (finish reason ${reply.finishReason})` : ''}`);
        const draft = parseDraftAnswer(reply.content);
        return { draft, verified: verifyCitations(draft, chunks, { maxChars: MAX_ANSWER_CHARS }) };
      },
    };
  }

  async compose(input: ComposeInput): Promise<Answer> {
    const { extractive, retrieval } = input;
    // Nothing to compose from (a district or year the corpus does not cover): the offline
    // not-found message already says what the corpus holds.
    if (retrieval.passages.length === 0) return extractive;
    const open = this.breakerOpen();
    if (open) return { ...extractive, mode: 'extractive', fallback: this.closing.signal.aborted ? 'shutting-down' : 'circuit-open', reason: open };
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const asked = await this.inSlot(input.signal, (signal) => this.ask({ ...input, signal }));
      if (!asked) return this.fallback(input, 'busy', `llm: all ${this.maxConcurrentCalls} model calls busy`, ms());
      const { draft, verified, format } = asked.value;
      this.recordCall(true);
      const base = { mode: 'llm' as const, standaloneQuestion: input.standalone, passages: retrieval.passages };
      if (!draft.found || verified.citedSentences === 0) {
        if (!draft.found && !extractive.found) {
          this.log.info({ ms: ms(), format }, 'llm: the passages do not answer the question');
          return { ...extractive, ...base, found: false, citations: [] };
        }
        if (draft.found)
          return this.fallback(input, 'unverified', `llm: no verified citations (${verified.report.removed} quotes not in the passages, ${verified.report.sentencesRemoved} sentences removed)`, ms());
        return this.fallback(input, 'no-answer', 'llm: the model found no answer in the passages', ms());
      }
      this.log.info({ ms: ms(), format, citations: verified.citations.length, ...verified.report }, 'llm answer');
      return { ...base, found: true, answer: verified.answer, citations: verified.citations, ...(verified.shortened ? { shortened: true } : {}) };
    } catch (err) {
      // Only the server's failures count towards the breaker; bad output from a working model does not.
      if (isServerUnavailable(err)) this.recordCall(false);
      const failure = toUpstreamError('llm', err);
      return this.fallback(input, causeOf(failure), failure.message, ms(), err);
    }
  }

  /** Asks the model, lowering the output format when the server rejects it. */
  private async ask(input: ComposeInput): Promise<{ draft: DraftAnswer; verified: VerifiedAnswer; format: OutputFormat }> {
    const onText = input.onPartial ? this.partialSink(input.onPartial, this.promptChunks(input)) : undefined;
    for (;;) {
      const format = this.format;
      const stages = this.stages(input.standalone, input, format);
      let reply: ChatReply;
      try {
        reply = await this.chat.complete(stages.messages, { format, ...(onText ? { onText } : {}), ...(input.signal ? { signal: input.signal } : {}) });
      } catch (err) {
        const failure = toUpstreamError('llm', err);
        const next = OUTPUT_FORMATS[OUTPUT_FORMATS.indexOf(format) + 1];
        const status = failure.status;
        if (failure instanceof UpstreamRefusedError && (status === 400 || status === 422) && next) {
          this.log.warn({ status, rejected: format, next }, 'llm: the server rejected the response format; asking without it');
          if (this.format === format) this.format = next;
          continue;
        }
        throw err;
      }
      return { ...stages.finish(reply), format };
    }
  }

  /**
   * Shows the answer as it streams, but only what has passed verification: each complete
   * sentence is checked against the passages as the final answer is (citations tied to
   * passage text, numbers in their cited passage, in the role the sentence gives them);
   * a sentence that fails is never shown, not even for a moment. The sentence still being
   * written waits (its markers may follow). A failing display callback never fails the answer.
   */
  private partialSink(onPartial: (text: string) => void, chunks: readonly IndexedChunk[]): (buffer: string) => void {
    let complete = '';
    let last = '';
    let failed = false;
    return (buffer) => {
      if (failed) return;
      const sentences = splitAnswerSentences(partialAnswerText(buffer));
      const done = sentences.slice(0, -1).join('');
      if (done === complete) return;
      complete = done;
      const verified = verifyCitations({ answer: done, found: true, citations: [] }, chunks, { maxChars: MAX_ANSWER_CHARS });
      // Past the length limit the preview stops growing (and verifying); the final answer says it was shortened.
      if (verified.shortened) failed = true;
      const text = verified.answer;
      if (text === '' || text === last) return;
      last = text;
      try {
        onPartial(text);
      } catch (err) {
        failed = true;
        this.log.warn({ err: (err as Error)?.message }, 'llm: onPartial failed; no more partial text for this answer');
      }
    };
  }

  private fallback(input: ComposeInput, cause: FallbackCause, reason: string, ms: number, err?: unknown): Answer {
    // A bug of ours (not the server's or the model's doing) is logged as an error, still without crashing the answer.
    const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
    this.log[bug ? 'error' : 'warn']({ cause, reason, ms }, 'llm answer fell back to extractive');
    return { ...input.extractive, mode: 'extractive', fallback: cause, reason };
  }

  /** A standalone form of a follow-up, or undefined (the caller then uses the offline rewrite). */
  async rewrite(question: string, history: readonly HistoryTurn[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.breakerOpen()) return undefined;
    const started = performance.now();
    try {
      const asked = await this.inSlot(signal, (slotSignal) => this.chat.complete(this.prompts.rewriteMessages(question, history), { format: 'text', signal: slotSignal }));
      if (!asked) return undefined;
      const reply = asked.value;
      const rewritten = reply.refusal ? undefined : cleanRewrite(reply.content, question);
      if (rewritten === undefined) {
        this.log.warn({ ms: Math.round(performance.now() - started), chars: reply.content.length }, 'llm rewrite unusable; using the offline rewrite');
        return undefined;
      }
      this.log.info({ ms: Math.round(performance.now() - started) }, 'llm rewrite');
      this.recordCall(true);
      return rewritten;
    } catch (err) {
      if (isServerUnavailable(err)) this.recordCall(false);
      this.log.warn({ reason: toUpstreamError('llm rewrite', err).message }, 'llm rewrite failed; using the offline rewrite');
      return undefined;
    }
  }
}
