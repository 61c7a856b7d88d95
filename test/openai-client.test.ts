import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmConfig } from '../src/config.ts';
import {
  UpstreamError,
  UpstreamMalformedError,
  UpstreamRateLimitError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../src/errors.ts';
import { createOpenAiClient, isServerUnavailable, toUpstreamError } from '../src/openai-client.ts';
import { closedPortURL } from './answer/llm-harness.ts';
import { OpenAiTestServer, type ChatScript } from './helpers/openai-server.ts';

/**
 * The openai SDK's failures, as the real client meets them from a real server on
 * 127.0.0.1, become one error class each: callers test `instanceof`, never message text.
 */

let server: OpenAiTestServer;
beforeAll(async () => {
  server = await OpenAiTestServer.start();
});
afterAll(() => server.close());

const config = (baseURL: string): LlmConfig => ({ baseURL, chatModel: 'test-model', timeoutMs: 500, maxRetries: 0, streamIdleMs: 500, deadlineMs: 5_000, maxTokens: 100 });

async function failure(script: ChatScript | undefined, baseURL = server.baseURL): Promise<UpstreamError> {
  if (script) server.enqueueChat(script);
  try {
    await createOpenAiClient(config(baseURL)).chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: '你好' }] });
  } catch (err) {
    return toUpstreamError('llm', err);
  }
  throw new Error('the call succeeded');
}

describe('toUpstreamError', () => {
  it('gives each kind of failure its own class, and says which ones mean the server is unavailable', async () => {
    const cases: Array<[UpstreamError, new (...args: never[]) => UpstreamError, boolean]> = [
      [await failure({ kind: 'hang' }), UpstreamTimeoutError, true],
      [await failure(undefined, await closedPortURL()), UpstreamUnreachableError, true],
      [await failure({ kind: 'status', status: 429 }), UpstreamRateLimitError, true],
      [await failure({ kind: 'status', status: 503 }), UpstreamServerError, true],
      [await failure({ kind: 'status', status: 401 }), UpstreamRefusedError, false],
      [await failure({ kind: 'status', status: 400 }), UpstreamRefusedError, false],
      [await failure({ kind: 'raw', body: '{"choices": [' }), UpstreamMalformedError, false],
    ];
    for (const [err, kind, unavailable] of cases) {
      expect(err).toBeInstanceOf(kind);
      expect(isServerUnavailable(err)).toBe(unavailable);
      expect(err.message).not.toContain(server.baseURL);
    }
    expect(cases[3]![0].status).toBe(503);
  });
});
