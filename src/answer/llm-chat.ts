import { UpstreamError } from '../errors.ts';
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
 * Errors are the SDK's own (or UpstreamError for the watchdog); the caller translates.
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

export class ChatModel {
  constructor(
    private readonly client: OpenAiClient,
    readonly model: string,
    private readonly idleMs: number,
  ) {}

  complete(messages: readonly ChatMessage[], options: ChatCallOptions): Promise<ChatReply> {
    return options.onText ? this.stream(messages, options, options.onText) : this.once(messages, options);
  }

  private params(messages: readonly ChatMessage[], format: OutputFormat) {
    const responseFormat = responseFormatFor(format);
    return { model: this.model, messages: [...messages], temperature: 0, ...(responseFormat ? { response_format: responseFormat } : {}) };
  }

  private async once(messages: readonly ChatMessage[], options: ChatCallOptions): Promise<ChatReply> {
    const completion = await this.client.chat.completions.create(this.params(messages, options.format), options.signal ? { signal: options.signal } : {});
    const choice = completion.choices[0];
    return {
      content: choice?.message.content ?? '',
      ...(choice?.message.refusal ? { refusal: choice.message.refusal } : {}),
      ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
    };
  }

  private async stream(messages: readonly ChatMessage[], options: ChatCallOptions, onText: (text: string) => void): Promise<ChatReply> {
    const controller = new AbortController();
    const callerAbort = () => controller.abort();
    options.signal?.addEventListener('abort', callerAbort, { once: true });
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.idleMs);
    };
    try {
      if (options.signal?.aborted) throw new UpstreamError('llm: aborted');
      const stream = await this.client.chat.completions.create({ ...this.params(messages, options.format), stream: true }, { signal: controller.signal });
      let content = '';
      let refusal = '';
      let finishReason: string | undefined;
      watch();
      try {
        for await (const chunk of stream) {
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
      } catch (err) {
        // An abort may end the iteration quietly or throw; both are handled below.
        if (!controller.signal.aborted) throw err;
      }
      if (stalled) throw new UpstreamError(`llm: stream stalled (no data for ${this.idleMs} ms)`);
      if (controller.signal.aborted) throw new UpstreamError('llm: aborted');
      return { content, ...(refusal ? { refusal } : {}), ...(finishReason ? { finishReason } : {}) };
    } catch (err) {
      if (stalled) throw new UpstreamError(`llm: stream stalled (no data for ${this.idleMs} ms)`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', callerAbort);
    }
  }
}
