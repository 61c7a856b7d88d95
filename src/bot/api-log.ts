import { HttpError, type Transformer } from 'grammy';
import type { Logger } from '../logger.ts';

/**
 * Logs every failed Telegram call attempt (method, code, description, ms), inside
 * auto-retry so each retried 429, 5xx or network failure is visible. Never the payload.
 */
export function apiFailureLog(log: Logger): Transformer {
  return async (prev, method, payload, signal) => {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    let res;
    try {
      res = await prev(method, payload, signal);
    } catch (err) {
      if (err instanceof HttpError && !signal?.aborted) log.warn({ method, err: err.message, cause: (err.error as Error)?.message, ms: ms() }, 'telegram unreachable');
      throw err;
    }
    if (!res.ok) {
      const code = res.error_code;
      const level = code === 400 && /not modified/.test(res.description) ? 'debug' : code === 401 || code === 409 ? 'error' : code === 429 || code >= 500 ? 'warn' : 'info';
      log[level]({ method, code, description: res.description, retryAfter: res.parameters?.retry_after, ms: ms() }, 'telegram call failed');
    }
    return res;
  };
}
