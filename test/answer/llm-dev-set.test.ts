import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Answer, Citation } from '../../src/answer/answer.ts';
import { ingestDocument } from '../../src/ingest/chunk.ts';
import { loadCorpus } from '../../src/ingest/corpus.ts';
import { OpenAiTestServer } from '../helpers/openai-server.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';
import { API_KEY, llmAnswerer, llmConfig, squash } from './llm-harness.ts';
import { FABRICATED, fabricatingModel, goodModel } from './llm-scripts.ts';

/**
 * The whole dev set through the LLM writer against the test server: with a model that
 * answers well, every answer is mode "llm" (except questions the corpus does not cover,
 * which never reach the model) and every quote is verbatim in its document; with a model
 * that fabricates, nothing fabricated reaches the output. Set LLM_DEV_REPORT=1 to print
 * the figures.
 */

interface DevItem {
  id: string;
  q: string;
  history?: Array<{ q: string; answer?: string }>;
  kind: string;
}

const items: DevItem[] = readFileSync('test/fixtures/dev-questions.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as DevItem);

let t: TestIndex;
let server: OpenAiTestServer;
let raw: Map<string, string>;
let normalized: Map<string, string>;

beforeAll(async () => {
  t = await buildTestIndex();
  raw = new Map();
  normalized = new Map();
  for (const src of await loadCorpus('data/corpus')) {
    raw.set(src.meta.file, squash(readFileSync(path.join('data/corpus', src.meta.file), 'utf8')));
    normalized.set(src.meta.file, (await ingestDocument(src, t.config.index.chunking)).text);
  }
});
afterAll(() => t.cleanup());
beforeEach(async () => {
  server = await OpenAiTestServer.start();
});
afterEach(async () => {
  await server.close();
});

/** Verbatim in the source file (whitespace aside) and, for text passages, exactly at its offsets. */
function verbatim(c: Pick<Citation, 'file' | 'quote' | 'start' | 'end'>): boolean {
  const inSource = raw.get(c.file)?.includes(squash(c.quote)) ?? false;
  const atOffsets = normalized.get(c.file)?.slice(c.start, c.end) === c.quote;
  // A rebuilt table row is quoted as its original cells (separated by spaces), with the row's offsets.
  const tableRow = [...t.index.chunks].some((k) => k.kind === 'table-row' && k.file === c.file && k.start === c.start && k.end === c.end && k.quote === c.quote);
  return inSource && (atOffsets || tableRow);
}

function report(label: string, figures: Record<string, unknown>): void {
  if (process.env.LLM_DEV_REPORT) process.stderr.write(`${label}: ${JSON.stringify(figures)}\n`);
}

const uncovered = (a: Answer) => a.mode === 'extractive' && a.fallback === undefined && a.passages.length === 0;

describe('the dev set through the LLM writer', () => {
  it('with well-formed answers: mode "llm" and every quote verbatim in its document', async () => {
    server.setDefaultChat(goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const answers: Answer[] = [];
    for (const item of items) answers.push(await qa.answer(item.q, item.history ?? []));
    const quotes = answers.flatMap((a) => a.citations);
    const figures = {
      questions: items.length,
      llm: answers.filter((a) => a.mode === 'llm').length,
      notSentToModel: answers.filter(uncovered).length,
      fellBack: answers.filter((a) => a.fallback !== undefined).length,
      quotes: quotes.length,
      verbatim: quotes.filter(verbatim).length,
    };
    report('good model', figures);
    expect(figures.fellBack).toBe(0);
    expect(figures.llm + figures.notSentToModel).toBe(items.length);
    expect(figures.notSentToModel).toBeLessThanOrEqual(items.filter((i) => i.kind === 'unanswerable').length);
    expect(figures.quotes).toBeGreaterThan(items.length);
    expect(figures.verbatim).toBe(figures.quotes);
  });

  it('with fabricated quotes: nothing fabricated reaches the output', async () => {
    server.setDefaultChat(fabricatingModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const answers: Answer[] = [];
    for (const item of items) answers.push(await qa.answer(item.q, item.history ?? []));
    const fabricated = new RegExp(['999', '8888', '77万'].join('|'));
    const leaked = answers.filter((a) => fabricated.test(a.answer) || a.citations.some((c) => FABRICATED.some((f) => squash(c.quote).includes(squash(f)))));
    const quotes = answers.flatMap((a) => a.citations);
    const figures = {
      questions: items.length,
      llm: answers.filter((a) => a.mode === 'llm').length,
      fellBack: answers.filter((a) => a.fallback !== undefined).length,
      leaked: leaked.length,
      quotes: quotes.length,
      verbatim: quotes.filter(verbatim).length,
    };
    report('fabricating model', figures);
    expect(figures.leaked).toBe(0);
    expect(figures.verbatim).toBe(figures.quotes);
    for (const a of answers.filter((x) => x.fallback !== undefined)) expect(a.fallback).toBe('unverified');
  });

  it('`ask --jsonl` over the dev set with CHAT_MODEL set prints mode "llm" and verbatim quotes', async () => {
    server.setDefaultChat(goodModel);
    const input = items.map((i) => JSON.stringify({ id: i.id, q: i.q, ...(i.history ? { history: i.history } : {}) })).join('\n');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      STATE_DIR: t.stateDir,
      CHAT_MODEL: 'test-model',
      OPENAI_BASE_URL: server.baseURL,
      OPENAI_API_KEY: API_KEY,
      LLM_MAX_RETRIES: '0',
      LOG_LEVEL: 'info',
    };
    // Asynchronous on purpose: the test server lives in this process and must keep serving.
    const child = spawn(path.resolve('node_modules/.bin/tsx'), ['src/cli/ask.ts', '--jsonl'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; mode: string; reason?: string; citations: Citation[] });
    expect(lines).toHaveLength(items.length);
    const quotes = lines.flatMap((l) => l.citations);
    const figures = { lines: lines.length, llm: lines.filter((l) => l.mode === 'llm').length, quotes: quotes.length, verbatim: quotes.filter(verbatim).length, requests: server.requests.length };
    report('ask --jsonl', figures);
    expect(lines.filter((l) => l.mode !== 'llm').every((l) => l.reason === undefined)).toBe(true);
    expect(figures.llm).toBeGreaterThanOrEqual(items.length - 2);
    expect(figures.verbatim).toBe(figures.quotes);
    expect(stderr).not.toContain(API_KEY);
  });
});
