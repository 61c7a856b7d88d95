import { describe, expect, it, vi } from 'vitest';
import type { Answer, FallbackCause } from '../../src/answer/answer.ts';
import type { LlmConfig } from '../../src/config.ts';
import { OpenAiTestServer, type ChatScript } from '../helpers/openai-server.ts';
import type { TestIndex } from '../helpers/test-index.ts';
import { API_KEY, capturingLogger, closedPortURL, llmAnswerer, llmConfig, useIndexAndServer } from './llm-harness.ts';
import { goodModel } from './llm-scripts.ts';

/**
 * Every way the model's server can fail ends in the extractive answer with a reason and
 * one log line saying why: never a crash, never a hang, never the key in a log or error.
 */

let t: TestIndex;
let server: OpenAiTestServer;
useIndexAndServer((x) => (t = x), (x) => (server = x));

const Q = '武清区2025年森林覆盖率目标是多少?';

async function fallsBack(
  scripts: ChatScript[],
  cause: FallbackCause,
  options: { config?: Partial<LlmConfig>; stream?: boolean; withinMs?: number; baseURL?: string } = {},
): Promise<{ answer: Answer; lines: string[]; ms: number; partials: string[] }> {
  server.enqueueChat(...scripts);
  const { log, lines } = capturingLogger();
  const { qa } = llmAnswerer(t, llmConfig(options.baseURL ?? server, options.config), { log });
  const partials: string[] = [];
  const started = Date.now();
  const answer = await qa.answer(Q, [], options.stream ? { onPartial: (s) => partials.push(s) } : {});
  const ms = Date.now() - started;
  expect(answer).toMatchObject({ mode: 'extractive', found: true });
  expect(answer.citations.length).toBeGreaterThan(0);
  expect(answer.fallback).toBe(cause);
  expect(answer.reason).toMatch(/^llm: /);
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; cause?: string });
  expect(logged.some((l) => l.msg === 'llm answer fell back to extractive' && l.cause === cause)).toBe(true);
  expect(lines.join('\n')).not.toContain(API_KEY);
  expect(JSON.stringify({ ...answer, passages: undefined })).not.toContain(API_KEY);
  if (options.withinMs !== undefined) expect(ms).toBeLessThan(options.withinMs);
  return { answer, lines, ms, partials };
}

describe('LlmAnswerWriter failures', () => {
  it('a request that hangs: the request timeout', async () => {
    await fallsBack([{ kind: 'hang' }], 'timeout', { config: { timeoutMs: 300 }, withinMs: 2_000 });
  });

  it('a stream that stalls between chunks: the idle watchdog, having shown nothing unverified', async () => {
    const { partials } = await fallsBack([{ kind: 'stream', chunks: ['{"answer":"森林覆盖', '率目标', '为13%[1]。"', '}'], stallAfter: 2 }], 'timeout', {
      stream: true,
      withinMs: 2_000,
    });
    // What had arrived is half a sentence, not yet verifiable: it is never shown.
    expect(partials).toEqual([]);
  });

  it('a stream that never sends its first chunk', async () => {
    await fallsBack([{ kind: 'stream', chunks: ['{"answer":"x"}'], stallAfter: 0 }], 'timeout', { stream: true, withinMs: 2_000 });
  });

  it('429 with retry-after: honoured, then given up when it persists', async () => {
    const limited: ChatScript = { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
    const { ms } = await fallsBack([limited, limited], 'rate-limited', { config: { maxRetries: 1 } });
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(server.requests).toHaveLength(2);
  });

  it('429 with retry-after, then success: the LLM answer', async () => {
    server.enqueueChat({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server, { maxRetries: 1 }));
    const started = Date.now();
    const a = await qa.answer(Q);
    expect(a.mode).toBe('llm');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('429 asking to retry in an hour: no retry, no wait', async () => {
    await fallsBack([{ kind: 'status', status: 429, headers: { 'retry-after': '3600' } }], 'rate-limited', { config: { maxRetries: 2 }, withinMs: 1_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('500, and 503 after retries', async () => {
    await fallsBack([{ kind: 'status', status: 500 }], 'server-error');
    await fallsBack([{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }], 'server-error', { config: { maxRetries: 1 } });
  });

  it('a server that keeps failing is not asked again until a cool-down passes', async () => {
    let now = 1_000_000;
    const { log, lines } = capturingLogger();
    const { qa } = llmAnswerer(t, llmConfig(server, { maxRetries: 0 }), { log, breakerThreshold: 3, breakerCooldownMs: 60_000, now: () => now });
    server.setDefaultChat({ kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++) expect((await qa.answer(Q)).fallback).toBe('server-error');
    expect(server.requests).toHaveLength(3);
    const skipped = await qa.answer(Q);
    expect(skipped).toMatchObject({ mode: 'extractive', found: true });
    expect(skipped.fallback).toBe('circuit-open');
    expect(server.requests).toHaveLength(3);
    // After the cool-down the model is asked again.
    now += 61_000;
    server.setDefaultChat(goodModel);
    expect((await qa.answer(Q)).mode).toBe('llm');
    expect(server.requests).toHaveLength(4);
    expect(lines.join('\n')).not.toContain(API_KEY);
  });

  it('a slow but steady stream: ended by the overall deadline, counted by the breaker, nothing unverified shown', async () => {
    const { log, lines } = capturingLogger();
    const { qa } = llmAnswerer(t, llmConfig(server, { deadlineMs: 800, streamIdleMs: 500 }), { log, breakerThreshold: 2 });
    server.setDefaultChat({ kind: 'stream', chunks: Array.from({ length: 1000 }, () => '规'), delayMs: 100 });
    for (let i = 0; i < 2; i++) {
      const partials: string[] = [];
      const started = Date.now();
      const a = await qa.answer(Q, [], { onPartial: (p) => partials.push(p) });
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(a).toMatchObject({ mode: 'extractive', found: true });
      expect(a.fallback).toBe('timeout');
      expect(partials.join('')).not.toContain('规');
    }
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((r) => r.raw.max_tokens)).toEqual([2_000, 2_000]);
    const skipped = await qa.answer(Q);
    expect(skipped.fallback).toBe('circuit-open');
    expect(server.requests).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(API_KEY);
  });

  it('when every model slot is taken a question is answered offline at once; close() ends the calls in flight', async () => {
    const { qa, writer } = llmAnswerer(t, llmConfig(server, { deadlineMs: 60_000, streamIdleMs: 30_000 }), { maxConcurrentCalls: 1 });
    server.setDefaultChat({ kind: 'stream', chunks: Array.from({ length: 1000 }, () => '规'), delayMs: 100 });
    const slow = qa.answer(Q, [], { onPartial: () => {} });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1)); // the slow call holds the only slot
    const started = Date.now();
    const other = await qa.answer(Q);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(other).toMatchObject({ mode: 'extractive', found: true, fallback: 'busy' });
    const closing = Date.now();
    writer.close();
    const ended = await slow;
    expect(Date.now() - closing).toBeLessThan(1_000);
    expect(ended).toMatchObject({ mode: 'extractive', found: true });
    expect((await qa.answer(Q)).fallback).toBe('shutting-down');
  });

  it('bad output from a working server does not trip the breaker', async () => {
    const { qa } = llmAnswerer(t, llmConfig(server, { maxRetries: 0 }), { breakerThreshold: 2 });
    server.setDefaultChat({ kind: 'json', content: '{"answer": "未完' });
    for (let i = 0; i < 3; i++) expect((await qa.answer(Q)).mode).toBe('extractive');
    expect(server.requests).toHaveLength(3);
  });

  it('connection refused', async () => {
    await fallsBack([], 'unreachable', { baseURL: await closedPortURL(), withinMs: 2_000 });
  });

  it('a response body that is not JSON', async () => {
    await fallsBack([{ kind: 'raw', body: '{"id": "chatcmpl-broken", "choices": [' }], 'malformed');
  });

  it('an answer that is truncated JSON', async () => {
    await fallsBack([{ kind: 'json', content: '{"answer":"森林覆盖率目标为13%[1]。","citations":[{"n":1,"quo', finishReason: 'length' }], 'malformed');
  });

  it('an empty answer, streamed or not', async () => {
    await fallsBack([{ kind: 'json', content: '' }], 'malformed');
    await fallsBack([{ kind: 'stream', chunks: [] }], 'malformed', { stream: true });
  });

  it('a refusal', async () => {
    await fallsBack([{ kind: 'refusal', refusal: 'I cannot help with that.' }], 'refused');
  });

  it('a wrong API key (401), without the key anywhere', async () => {
    const guarded = await OpenAiTestServer.start({ apiKey: 'sk-test-the-right-key-0000000000' });
    try {
      await fallsBack([], 'refused', { baseURL: guarded.baseURL });
    } finally {
      await guarded.close();
    }
  });

  it('the caller giving up mid-stream', async () => {
    server.enqueueChat({ kind: 'stream', chunks: ['{"answer":"森林', '覆盖率"}'], stallAfter: 1 });
    const { qa } = llmAnswerer(t, llmConfig(server, { streamIdleMs: 10_000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const a = await qa.answer(Q, [], { onPartial: () => {}, signal: controller.signal });
    expect(a).toMatchObject({ mode: 'extractive', fallback: 'aborted' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a display callback that throws does not fail the answer', async () => {
    server.enqueueChat(goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(Q, [], {
      onPartial: () => {
        throw new Error('telegram: message is not modified');
      },
    });
    expect(a.mode).toBe('llm');
  });

  it('sends the key to the server it is configured for', async () => {
    server.enqueueChat(goodModel);
    await llmAnswerer(t, llmConfig(server)).qa.answer(Q);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });
});
