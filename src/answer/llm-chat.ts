import { UpstreamAbortedError, UpstreamTimeoutError } from '../errors.ts';
import type { OpenAiClient } from '../openai-client.ts';
import type { ChatMessage } from './llm-messages.ts';
import { responseFormatFor, type OutputFormat } from './llm-output.ts';

/**
 * One chat completion, streamed or not, with the guards the SDK lacks:
 * - an idle watchdog for streams: the SDK's timeout covers only the wait for the
 *   response headers, so a stream that stalls between chunks would hang forever;
 * - a cap on `retry-after`: the SDK sleeps for whatever the server asks (there is no
 *   upper bound, and the sleep cannot be aborted), so a larger value is turned into
 *   "do not retry" before the SDK sees it and the caller falls back at once.
 * - an overall deadline and `max_tokens`: a server streaming one token every 2 s never
 *   trips the idle watchdog, and would otherwise hold the answer (and its slot) for minutes.
 * Errors are the SDK's own, or ours for the deadline, the watchdog and the caller's abort;
 * the caller translates (openai-client.ts).
 */

export interface ChatReply {
  content: string;
  refusal?: string;
  finishReason?: string;
}

export interface ChatCallOptions {
  format: OutputFormat;
  /** Streams when given: called with the whole text so far after each chunk. */
  onText?: (textSoFar: string) => void;
  signal?: AbortSignal;
}

function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return ms;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? date - Date.now() : undefined;
}

/**
 * A fetch for the SDK that marks a response asking to retry later than `capMs` as not
 * retryable (`x-should-retry: false`), so the SDK gives up instead of sleeping.
 */
export function fetchWithRetryAfterCap(capMs: number, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    const wait = retryAfterMs(res.headers);
    if (wait === undefined || wait <= capMs) return res;
    const headers = new Headers(res.headers);
    headers.set('x-should-retry', 'false');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}

export interface ChatModelOptions {
  model: string;
  /** A streamed reply that sends nothing for this long is abandoned. */
  idleMs: number;
  /** The whole call (retries included) ends by then, however steadily a slow server streams. */
  deadlineMs: number;
  /** The longest reply asked for (`max_tokens`). */
  maxTokens: number;
}

export class ChatModel {
  readonly model: string;

  constructor(
    private readonly client: OpenAiClient,
    private readonly options: ChatModelOptions,
  ) {
    this.model = options.model;
  }

  /**
   * One completion, bounded: by the deadline (UpstreamTimeoutError), the idle watchdog
   * when streaming (UpstreamTimeoutError), and the caller's signal (UpstreamAbortedError).
   */
  async complete(messages: readonly ChatMessage[], call: ChatCallOptions): Promise<ChatReply> {
    const controller = new AbortController();
    let why: 'deadline' | 'stalled' | 'aborted' | undefined;
    const stop = (reason: typeof why) => {
      why ??= reason;
      controller.abort();
    };
    const callerAbort = () => stop('aborted');
    if (call.signal?.aborted) throw new UpstreamAbortedError('llm: aborted');
    call.signal?.addEventListener('abort', callerAbort, { once: true });
    const deadline = setTimeout(() => stop('deadline'), this.options.deadlineMs);
    try {
      const reply = call.onText ? await this.stream(messages, call.format, call.onText, controller.signal, () => stop('stalled')) : await this.once(messages, call.format, controller.signal);
      if (why === undefined) return reply;
    } catch (err) {
      if (why === undefined) throw err;
    } finally {
      clearTimeout(deadline);
      call.signal?.removeEventListener('abort', callerAbort);
    }
    if (why === 'deadline') throw new UpstreamTimeoutError(`llm: no complete answer within ${this.options.deadlineMs} ms`);
    if (why === 'stalled') throw new UpstreamTimeoutError(`llm: stream stalled (no data for ${this.options.idleMs} ms)`);
    throw new UpstreamAbortedError('llm: aborted');
  }

  private params(messages: readonly ChatMessage[], format: OutputFormat) {
    const responseFormat = responseFormatFor(format);
    return { model: this.model, messages: [...messages], temperature: 0, max_tokens: this.options.maxTokens, ...(responseFormat ? { response_format: responseFormat } : {}) };
  }

  private async once(messages: readonly ChatMessage[], format: OutputFormat, signal: AbortSignal): Promise<ChatReply> {
    const completion = await this.client.chat.completions.create(this.params(messages, format), { signal });
    const choice = completion.choices[0];
    return {
      content: choice?.message.content ?? '',
      ...(choice?.message.refusal ? { refusal: choice.message.refusal } : {}),
      ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
    };
  }

  private async stream(messages: readonly ChatMessage[], format: OutputFormat, onText: (text: string) => void, signal: AbortSignal, stalled: () => void): Promise<ChatReply> {
    let timer: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(stalled, this.options.idleMs);
    };
    try {
      const stream = await this.client.chat.completions.create({ ...this.params(messages, format), stream: true }, { signal });
      let content = '';
      let refusal = '';
      let finishReason: string | undefined;
      watch();
      for await (const chunk of stream) {
        if (signal.aborted) break;
        watch();
        const choice = chunk.choices[0];
        if (!choice) continue;
        refusal += choice.delta.refusal ?? '';
        finishReason = choice.finish_reason ?? finishReason;
        const piece = choice.delta.content ?? '';
        if (piece) {
          content += piece;
          onText(content);
        }
      }
      return { content, ...(refusal ? { refusal } : {}), ...(finishReason ? { finishReason } : {}) };
    } finally {
      clearTimeout(timer);
    }
  }
}
