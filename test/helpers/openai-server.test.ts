import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  InternalServerError,
} from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiTestServer, TEST_MODEL_ID, testEmbedding } from './openai-server.ts';

const messages = [
  { role: 'system' as const, content: 'Answer from the passages.' },
  { role: 'user' as const, content: '“十四五”期间的目标是什么？' },
];

let server: OpenAiTestServer;

function client(options: { maxRetries?: number; timeout?: number; apiKey?: string } = {}): OpenAI {
  return new OpenAI({ baseURL: server.baseURL, apiKey: options.apiKey ?? 'sk-test-key', maxRetries: options.maxRetries ?? 0, timeout: options.timeout ?? 5_000 });
}

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waitFor: condition still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeEach(async () => {
  server = await OpenAiTestServer.start();
});

afterEach(async () => {
  await server.close();
});

describe('OpenAiTestServer with the real openai SDK', () => {
  it('answers a scripted JSON completion and records the request', async () => {
    server.enqueueChat({ kind: 'json', content: '{"answer":"ok"}' });
    const responseFormat = { type: 'json_object' as const };
    const completion = await client().chat.completions.create({ model: 'gpt-x', messages, temperature: 0, response_format: responseFormat });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-x');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: '{"answer":"ok"}', refusal: null });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ model: 'gpt-x', messages, stream: false, temperature: 0, response_format: responseFormat });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-test-key');
  });

  it('streams chunks that the SDK iterates with for await', async () => {
    server.enqueueChat({ kind: 'stream', chunks: ['规划', '目标', '。'], delayMs: 5 });
    const stream = await client().chat.completions.create({ model: 'gpt-x', messages, stream: true, stream_options: { include_usage: true } });

    let text = '';
    const finishReasons: Array<string | null> = [];
    let usageTokens = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]) finishReasons.push(chunk.choices[0].finish_reason);
      usageTokens = chunk.usage?.total_tokens ?? usageTokens;
    }
    expect(text).toBe('规划目标。');
    expect(finishReasons.at(-1)).toBe('stop');
    expect(finishReasons.slice(0, -1).every((reason) => reason === null)).toBe(true);
    expect(usageTokens).toBeGreaterThan(0);
    expect(server.requests[0]?.stream).toBe(true);
  });

  it('lets the SDK retry a 429 after its retry-after, then succeed', async () => {
    server.enqueueChat({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'json', content: 'second time' });
    const started = Date.now();
    const completion = await client({ maxRetries: 1 }).chat.completions.create({ model: 'gpt-x', messages });

    expect(completion.choices[0]?.message.content).toBe('second time');
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the header's 1 s, not the SDK's ~0.5 s default backoff
  });

  it('surfaces a 500 as an APIError with status 500 when retries are off', async () => {
    server.enqueueChat({ kind: 'status', status: 500 });
    const failure = await client().chat.completions.create({ model: 'gpt-x', messages }).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(InternalServerError);
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).status).toBe(500);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a hanging request into APIConnectionTimeoutError with a short timeout', async () => {
    server.enqueueChat({ kind: 'hang' });
    const failure = await client({ timeout: 200 }).chat.completions.create({ model: 'gpt-x', messages }).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('stalls a stream after N chunks, which the SDK timeout does not catch, until the caller aborts', async () => {
    server.enqueueChat({ kind: 'stream', chunks: ['a', 'b', 'c'], stallAfter: 1 });
    const controller = new AbortController();
    const stream = await client({ timeout: 100 }).chat.completions.create(
      { model: 'gpt-x', messages, stream: true },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();

    const first = await iterator.next();
    expect(first.done ? undefined : first.value.choices[0]?.delta.content).toBe('a');

    const pending = iterator.next();
    const timedOut = Symbol('timed out');
    const raced = await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 400, timedOut))]);
    expect(raced).toBe(timedOut); // well past the 100 ms timeout, still waiting

    const aborted = Date.now();
    controller.abort();
    expect((await pending).done).toBe(true); // the SDK ends an aborted stream without throwing
    expect(Date.now() - aborted).toBeLessThan(200);
    // Node 20's fetch may keep the stalled socket open after the abort; close() still ends it promptly.
  });

  it('resumes a stream after a finite stall', async () => {
    server.enqueueChat({ kind: 'stream', chunks: ['a', 'b'], stallAfter: 1, stallMs: 150 });
    const stream = await client().chat.completions.create({ model: 'gpt-x', messages, stream: true });
    const started = Date.now();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';

    expect(text).toBe('ab');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects an invalid JSON response body', async () => {
    server.enqueueChat({ kind: 'raw', body: '{"id": "chatcmpl-broken", "choices": [' });
    await expect(client().chat.completions.create({ model: 'gpt-x', messages })).rejects.toThrow(SyntaxError);
  });

  it('returns a refusal with null content', async () => {
    server.enqueueChat({ kind: 'refusal', refusal: 'I cannot help with that.' });
    const completion = await client().chat.completions.create({ model: 'gpt-x', messages });

    expect(completion.choices[0]?.message).toMatchObject({ content: null, refusal: 'I cannot help with that.' });
  });

  it('decides from the request with a dynamic script, and falls back to the default script', async () => {
    server.setDefaultChat({ kind: 'dynamic', handler: (req) => ({ kind: 'json', content: `echo: ${req.messages.at(-1)?.content}` }) });
    const openai = client();
    const first = await openai.chat.completions.create({ model: 'gpt-x', messages });
    const second = await openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'again' }] });

    expect(first.choices[0]?.message.content).toBe(`echo: ${messages[1]?.content}`);
    expect(second.choices[0]?.message.content).toBe('echo: again');
  });

  it('answers 500 without inviting retries when no script is left', async () => {
    const failure = await client({ maxRetries: 2 }).chat.completions.create({ model: 'gpt-x', messages }).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(InternalServerError);
    expect((failure as APIError).message).toContain('no script');
    expect(server.requests).toHaveLength(1);
  });

  it('gives the same embeddings via the default base64 and via float', async () => {
    const openai = client();
    const input = ['国土空间总体规划', 'Green development'];
    const viaBase64 = await openai.embeddings.create({ model: 'text-embedding-test', input });
    const viaFloat = await openai.embeddings.create({ model: 'text-embedding-test', input, encoding_format: 'float' });

    expect(server.embeddingRequests.map((r) => r.encoding_format)).toEqual(['base64', 'float']);
    expect(viaBase64.data.map((d) => d.index)).toEqual([0, 1]);
    expect(viaBase64.data.map((d) => d.embedding)).toEqual(viaFloat.data.map((d) => d.embedding));
    for (const { embedding } of viaFloat.data) {
      expect(embedding).toHaveLength(64);
      expect(Math.hypot(...embedding)).toBeCloseTo(1, 5);
    }
    expect(viaFloat.data[0]?.embedding).toEqual(testEmbedding(input[0]!, 64));
    expect(viaFloat.data[0]?.embedding).not.toEqual(viaFloat.data[1]?.embedding);
  });

  it('honours the requested embedding dimensions and a scripted embeddings failure', async () => {
    const openai = client();
    const small = await openai.embeddings.create({ model: 'text-embedding-test', input: '规划', dimensions: 16 });
    expect(small.data[0]?.embedding).toHaveLength(16);

    server.embeddings.failNext = { kind: 'status', status: 503 };
    await expect(openai.embeddings.create({ model: 'text-embedding-test', input: '规划' })).rejects.toMatchObject({ status: 503 });
    const after = await openai.embeddings.create({ model: 'text-embedding-test', input: '规划' });
    expect(after.data[0]?.embedding).toHaveLength(64);
  });

  it('lists one model', async () => {
    const models = [];
    for await (const model of client().models.list()) models.push(model.id);
    expect(models).toEqual([TEST_MODEL_ID]);
  });

  it('closes promptly while requests hang', async () => {
    server.enqueueChat({ kind: 'hang' }, { kind: 'hang' });
    const openai = client({ timeout: 60_000 });
    const pending = [
      openai.chat.completions.create({ model: 'gpt-x', messages }).catch((err: unknown) => err),
      openai.chat.completions.create({ model: 'gpt-x', messages }).catch((err: unknown) => err),
    ];
    await waitFor(() => server.requests.length === 2);
    expect(server.openConnections()).toBe(2);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(server.openConnections()).toBe(0);
    for (const failure of await Promise.all(pending)) expect(failure).toBeInstanceOf(APIConnectionError);
  });
});

describe('OpenAiTestServer with an API key', () => {
  it('answers 401 to a wrong key and serves the right one', async () => {
    const guarded = await OpenAiTestServer.start({ apiKey: 'sk-test-right' });
    try {
      const wrong = new OpenAI({ baseURL: guarded.baseURL, apiKey: 'sk-test-wrong', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(AuthenticationError);
      await expect(wrong.chat.completions.create({ model: 'gpt-x', messages })).rejects.toMatchObject({ status: 401 });

      guarded.enqueueChat({ kind: 'json', content: 'fine' });
      const right = new OpenAI({ baseURL: guarded.baseURL, apiKey: 'sk-test-right', maxRetries: 0 });
      const completion = await right.chat.completions.create({ model: 'gpt-x', messages });
      expect(completion.choices[0]?.message.content).toBe('fine');
      expect(guarded.requests).toHaveLength(1); // the rejected request was neither recorded nor consumed a script
    } finally {
      await guarded.close();
    }
  });
});
