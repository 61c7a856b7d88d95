import OpenAI from 'openai';
import type { LlmConfig } from './config.ts';
import { UpstreamError } from './errors.ts';

/**
 * Owner of the openai SDK: builds the client for any OpenAI-compatible server
 * (OpenAI, DeepSeek, DashScope, Ollama, vLLM, LM Studio) and translates its errors into
 * UpstreamError, without the request URL or key in the message.
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

/** Maps an SDK error to an UpstreamError whose message names the failure class and status only. */
export function toUpstreamError(what: string, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new UpstreamError(`${what}: timed out`, { cause: err });
  if (err instanceof OpenAI.APIConnectionError) return new UpstreamError(`${what}: connection failed`, { cause: err });
  if (err instanceof OpenAI.APIUserAbortError) return new UpstreamError(`${what}: aborted`, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const kind =
      status === 429 ? 'rate limited' : status === 401 || status === 403 ? 'not authorized (check OPENAI_API_KEY)' : status && status >= 500 ? 'server error' : 'request failed';
    return new UpstreamError(`${what}: ${kind}${status ? ` (HTTP ${status})` : ''}`, { cause: err, ...(status ? { status } : {}) });
  }
  if (err instanceof SyntaxError) return new UpstreamError(`${what}: invalid JSON from server`, { cause: err });
  return new UpstreamError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Whether an error says the server is unreachable or failing (connection, timeout, 429,
 * 5xx), as opposed to a request or a reply we got wrong: the former trips a circuit breaker.
 */
export function isServerUnavailable(err: unknown): boolean {
  const cause = err instanceof UpstreamError && err.cause !== undefined ? err.cause : err;
  if (cause instanceof OpenAI.APIUserAbortError) return false;
  if (cause instanceof OpenAI.APIConnectionError) return true; // includes timeouts
  if (cause instanceof OpenAI.APIError) return cause.status === 429 || (cause.status !== undefined && cause.status >= 500);
  return false;
}
