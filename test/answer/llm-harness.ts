// Shared set-up for the LLM writer tests: a real index, the real SDK, the test server.
import { pino, type Logger } from 'pino';
import { LlmAnswerWriter, type LlmWriterOptions } from '../../src/answer/llm-writer.ts';
import type { ComposeInput } from '../../src/answer/question-answerer.ts';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import type { LlmConfig } from '../../src/config.ts';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { OpenAiTestServer } from '../helpers/openai-server.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

export const API_KEY = 'sk-test-DO-NOT-LEAK-0123456789abcdef';

export function llmConfig(server: OpenAiTestServer | string, overrides: Partial<LlmConfig> = {}): LlmConfig {
  const baseURL = typeof server === 'string' ? server : server.baseURL;
  return { apiKey: API_KEY, baseURL, chatModel: 'test-model', timeoutMs: 2_000, maxRetries: 0, streamIdleMs: 300, deadlineMs: 10_000, maxTokens: 2_000, ...overrides };
}

/** A pino logger that keeps every line (unscrubbed, so a leak would show). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }), lines };
}

export function llmAnswerer(t: TestIndex, config: LlmConfig, options: LlmWriterOptions = {}): { qa: QuestionAnswerer; writer: LlmAnswerWriter } {
  const writer = new LlmAnswerWriter(config, options);
  return { qa: new QuestionAnswerer(t.index, { writer }), writer };
}

/** What QuestionAnswerer would hand the writer for a question without history. */
export async function composeInput(qa: QuestionAnswerer, question: string): Promise<ComposeInput> {
  const retrieval = await qa.retrieve(question);
  return { question, standalone: question, history: [], retrieval, extractive: qa.extractive.compose(question, retrieval) };
}

/** An http URL on 127.0.0.1 where nothing listens. */
export async function closedPortURL(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

export const squash = (s: string) => s.replace(/\s+/g, '');

/**
 * Registers the usual lifecycle: one real index per file, a fresh test server per test.
 * The setters hand them to the file's own variables.
 */
export function useIndexAndServer(setIndex: (t: TestIndex) => void, setServer: (s: OpenAiTestServer) => void): void {
  let t: TestIndex | undefined;
  let server: OpenAiTestServer | undefined;
  beforeAll(async () => {
    t = await buildTestIndex();
    setIndex(t);
  });
  afterAll(() => t?.cleanup());
  beforeEach(async () => {
    server = await OpenAiTestServer.start();
    setServer(server);
  });
  afterEach(async () => {
    await server?.close();
  });
}
