import OpenAI from 'openai';
import type { LlmConfig } from './config.ts';
import {
  UpstreamAbortedError,
  UpstreamError,
  UpstreamMalformedError,
  UpstreamRateLimitError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './errors.ts';

/**
 * Owner of the openai SDK: builds the client for any OpenAI-compatible server
 * (OpenAI, DeepSeek, DashScope, Ollama, vLLM, LM Studio) and translates its errors into
 * our UpstreamError family (one class per kind of failure), without the request URL or
 * key in the message.
 */

export type OpenAiClient = OpenAI;

export function createOpenAiClient(config: LlmConfig, options: { fetch?: typeof fetch } = {}): OpenAI {
  return new OpenAI({
    // Local servers (Ollama, vLLM) accept any key; the SDK insists on one.
    apiKey: config.apiKey ?? 'not-needed',
    ...(config.baseURL ? { baseURL: config.baseURL } : {}),
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/**
 * Maps an SDK error to one UpstreamError subclass per kind of failure, whose message names
 * the failure and the status only. Errors that are already ours pass through.
 */
export function toUpstreamError(what: string, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new UpstreamTimeoutError(`${what}: timed out`, { cause: err });
  if (err instanceof OpenAI.APIConnectionError) return new UpstreamUnreachableError(`${what}: connection failed`, { cause: err });
  if (err instanceof OpenAI.APIUserAbortError) return new UpstreamAbortedError(`${what}: aborted`, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const options = { cause: err, ...(status ? { status } : {}) };
    const code = status ? ` (HTTP ${status})` : '';
    if (status === 429) return new UpstreamRateLimitError(`${what}: rate limited${code}`, options);
    if (status && status >= 500) return new UpstreamServerError(`${what}: server error${code}`, options);
    if (status === 401 || status === 403) return new UpstreamRefusedError(`${what}: not authorized (check OPENAI_API_KEY)${code}`, options);
    return new UpstreamRefusedError(`${what}: request failed${code}`, options);
  }
  if (err instanceof SyntaxError) return new UpstreamMalformedError(`${what}: invalid JSON from server`, { cause: err });
  return new UpstreamError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Whether an error says the server is unreachable, slow or failing (connection, timeout or
 * deadline, 429, 5xx), as opposed to a request or a reply we got wrong: the former trips a
 * circuit breaker.
 */
export function isServerUnavailable(err: unknown): boolean {
  const e = toUpstreamError('llm', err);
  return e instanceof UpstreamTimeoutError || e instanceof UpstreamUnreachableError || e instanceof UpstreamRateLimitError || e instanceof UpstreamServerError;
}
