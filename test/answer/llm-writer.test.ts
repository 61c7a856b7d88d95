import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/answer.ts';
import { MAX_ANSWER_CHARS } from '../../src/answer/llm-writer.ts';
import { answerHtml, SHORTENED_NOTE } from '../../src/bot/format.ts';
import { splitHtml } from '../../src/bot/html.ts';
import { ingestDocument } from '../../src/ingest/chunk.ts';
import { loadCorpus } from '../../src/ingest/corpus.ts';
import { OpenAiTestServer, type ChatRequest } from '../helpers/openai-server.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';
import { llmAnswerer, llmConfig, squash } from './llm-harness.ts';
import { FABRICATED, fabricatingModel, goodDraft, goodModel, passagesInPrompt, reply, respond, sentencesOf } from './llm-scripts.ts';

let t: TestIndex;
let normalized: Map<string, string>;
let server: OpenAiTestServer;

beforeAll(async () => {
  t = await buildTestIndex();
  normalized = new Map();
  for (const src of await loadCorpus('data/corpus')) normalized.set(src.meta.file, (await ingestDocument(src, t.config.index.chunking)).text);
});
afterAll(() => t.cleanup());
beforeEach(async () => {
  server = await OpenAiTestServer.start();
});
afterEach(async () => {
  await server.close();
});

/** Every citation is verbatim document text at its offsets (exactly, in the normalized text; whitespace aside, in the source file). */
function expectVerbatim(a: Answer): void {
  for (const c of a.citations) {
    const raw = readFileSync(path.join('data/corpus', c.file), 'utf8');
    expect(squash(raw)).toContain(squash(c.quote));
    const doc = normalized.get(c.file)!;
    const chunk = a.passages.find((p) => p.chunk.file === c.file && p.chunk.start === c.start && p.chunk.end === c.end)?.chunk;
    if (chunk?.kind === 'table-row') expect(c.quote).toBe(chunk.quote);
    else expect(doc.slice(c.start, c.end)).toBe(c.quote);
  }
}

/** A scripted reply built from the passages the writer actually sent. */
const scripted = (build: (req: ChatRequest, passages: ReturnType<typeof passagesInPrompt>) => { answer: string; citations: Array<{ n: number; quote: string }>; found?: boolean }) => ({
  kind: 'dynamic' as const,
  handler: (req: ChatRequest) => {
    const d = build(req, passagesInPrompt(req));
    return respond(req, reply(req, { found: true, ...d }));
  },
});

const FOREST = '武清区2025年森林覆盖率目标是多少?';

describe('LlmAnswerWriter with a well-behaved model', () => {
  it('answers in mode "llm" with verified, renumbered citations quoting the documents verbatim', async () => {
    server.enqueueChat(goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a).toMatchObject({ mode: 'llm', found: true });
    expect(a.fallback).toBeUndefined();
    expect(a.citations.map((c) => c.n)).toEqual(a.citations.map((_, i) => i + 1));
    expect(a.answer).toMatch(/\[1\]/);
    expect(a.answer).toContain('13');
    expectVerbatim(a);

    const req = server.requests[0]!;
    expect(req).toMatchObject({ model: 'test-model', stream: false, temperature: 0 });
    expect(req.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'cited_answer', strict: true } });
    expect(req.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(req.messages[0]!.content).toContain('只依据 <passages> 中给出的摘录作答');
    expect(req.messages[1]!.content).toContain(`<question>\n${FOREST}\n</question>`);
    expect(passagesInPrompt(req).length).toBe(a.passages.length);
  });

  it('moves a correct quote given under the wrong passage number to the right passage', async () => {
    server.enqueueChat(
      scripted((_, ps) => {
        const s = sentencesOf(ps[1]!.text).find((x) => /\d/.test(x))!;
        return { answer: `${s}[1]。`, citations: [{ n: 1, quote: s }] };
      }),
    );
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a.mode).toBe('llm');
    expect(a.citations).toHaveLength(1);
    expect(a.citations[0]!.start).toBeGreaterThanOrEqual(a.passages[1]!.chunk.start);
    expect(a.citations[0]!.end).toBeLessThanOrEqual(a.passages[1]!.chunk.end);
    expectVerbatim(a);
  });

  it('drops citations to passages that do not exist unless the quote is found elsewhere', async () => {
    server.enqueueChat(
      scripted((_, ps) => {
        const s = sentencesOf(ps[0]!.text)[0]!;
        return {
          answer: `${s}[9]。全区将建成999个智慧农场[12]。`,
          citations: [
            { n: 9, quote: s },
            { n: 12, quote: '全区将建成999个智慧农场' },
          ],
        };
      }),
    );
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a.mode).toBe('llm');
    expect(a.answer).not.toContain('999');
    expect(a.answer).toMatch(/\[1\]。$/);
    expect(a.citations).toHaveLength(1);
    expectVerbatim(a);
  });

  it('keeps the real claims and removes the fabricated ones when a reply mixes them', async () => {
    server.enqueueChat(
      scripted((_, ps) => {
        const s = sentencesOf(ps[0]!.text)[0]!;
        return {
          answer: `全区将建成999个智慧农场[1]。${s}[1]。森林覆盖率目标为25%[1]。`,
          citations: [
            { n: 1, quote: '全区将建成999个智慧农场' },
            { n: 1, quote: s },
          ],
        };
      }),
    );
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a.mode).toBe('llm');
    expect(a.answer).not.toMatch(/999|25%/);
    expect(a.citations).toHaveLength(1);
    expectVerbatim(a);
  });

  it("drops a claim that gives the indicator row's 2020 value as the 2025 target (the corpus row, quoted as printed)", async () => {
    server.enqueueChat(
      scripted((_, ps) => {
        const row = ps.find((p) => p.text.includes('森林覆盖率'))!;
        return {
          answer: `2025年森林覆盖率目标为12.07%[${row.n}]。2020年森林覆盖率为12.07%[${row.n}]。`,
          citations: [{ n: row.n, quote: '森林覆盖率(% 12.07 13 约束性' }],
        };
      }),
    );
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a.mode).toBe('llm');
    expect(a.answer).toBe('2020年森林覆盖率为12.07%[1]。');
    expectVerbatim(a);
  });

  it('falls back to the extractive answer, saying why, when no citation survives', async () => {
    server.enqueueChat(scripted(() => ({ answer: '全区将建成999个智慧农场[1]。', citations: [{ n: 1, quote: '全区将建成999个智慧农场' }] })));
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a).toMatchObject({ mode: 'extractive', found: true });
    expect(a.fallback).toBe('unverified');
    expect(a.answer).not.toContain('999');
  });

  it('streams partial answer text (never raw JSON) and verifies the final text', async () => {
    server.enqueueChat(goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const partials: string[] = [];
    const a = await qa.answer(FOREST, [], { onPartial: (text) => partials.push(text) });
    expect(server.requests[0]!.stream).toBe(true);
    expect(partials.length).toBeGreaterThan(0);
    for (let i = 1; i < partials.length; i++) expect(partials[i]!.startsWith(partials[i - 1]!)).toBe(true);
    for (const p of partials) expect(p).not.toMatch(/[{}]|"citations"/);
    expect(a.mode).toBe('llm');
    expectVerbatim(a);
  });

  it('never shows an unverified sentence in the streamed preview, only verified ones', async () => {
    server.enqueueChat({
      kind: 'dynamic',
      handler: (req) => {
        const good = goodDraft(req);
        const first = good.citations[0]!;
        const answer = `${first.quote}[${first.n}]。地区生产总值达到9999亿元[1]，森林覆盖率达到99%[2]。${first.quote}[${first.n}]。全区将建成999个智慧农场[1]。`;
        return respond(req, reply(req, { answer, citations: good.citations, found: true }));
      },
    });
    const { qa } = llmAnswerer(t, llmConfig(server));
    const partials: string[] = [];
    const a = await qa.answer(FOREST, [], { onPartial: (text) => partials.push(text) });
    expect(partials.length).toBeGreaterThan(0);
    for (const p of partials) expect(p).not.toMatch(/9999|99%|999/);
    expect(partials.some((p) => /\[1\]/.test(p))).toBe(true);
    expect(a.answer).not.toMatch(/9999|99%|999/);
  });

  it('caps a very long verified answer at about one message and says it was shortened', async () => {
    server.enqueueChat({
      kind: 'dynamic',
      handler: (req) => {
        const good = goodDraft(req);
        const first = good.citations[0]!;
        const answer = `${first.quote}[${first.n}]。`.repeat(4000);
        return respond(req, reply(req, { answer, citations: good.citations, found: true }));
      },
    });
    const { qa } = llmAnswerer(t, llmConfig(server));
    const partials: string[] = [];
    const a = await qa.answer(FOREST, [], { onPartial: (text) => partials.push(text) });
    expect(a.mode).toBe('llm');
    expect(a.shortened).toBe(true);
    expect(a.answer.length).toBeLessThanOrEqual(MAX_ANSWER_CHARS);
    expect(a.answer.length).toBeGreaterThan(MAX_ANSWER_CHARS / 2);
    expect(Math.max(...partials.map((p) => p.length))).toBeLessThanOrEqual(MAX_ANSWER_CHARS);
    const html = answerHtml(a);
    expect(html).toContain(SHORTENED_NOTE);
    expect(splitHtml(html).length).toBeLessThanOrEqual(2);
  });

  it('shows nothing at all while a fabricating model streams', async () => {
    server.enqueueChat(fabricatingModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const partials: string[] = [];
    await qa.answer(FOREST, [], { onPartial: (text) => partials.push(text) });
    for (const p of partials) for (const f of FABRICATED) expect(p).not.toContain(f);
  });

  it('keeps streaming through a slow but steady stream longer than the idle limit', async () => {
    server.enqueueChat({
      kind: 'dynamic',
      handler: (req) => {
        const content = reply(req, goodDraft(req));
        const size = Math.ceil(content.length / 12);
        return { kind: 'stream', chunks: content.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!, delayMs: 100 };
      },
    });
    const { qa } = llmAnswerer(t, llmConfig(server, { streamIdleMs: 400 }));
    const started = Date.now();
    const a = await qa.answer(FOREST, [], { onPartial: () => {} });
    expect(Date.now() - started).toBeGreaterThan(1_000);
    expect(a.mode).toBe('llm');
  });
});

describe('LlmAnswerWriter output formats', () => {
  it('asks with json_object, then plain text, when the server rejects a response_format, and remembers it', async () => {
    const rejected = { kind: 'status' as const, status: 400, body: { error: { message: "response_format 'json_schema' is not supported", type: 'invalid_request_error', param: 'response_format', code: null } } };
    server.enqueueChat(rejected, goodModel, goodModel);
    const { qa, writer } = llmAnswerer(t, llmConfig(server));
    expect((await qa.answer(FOREST)).mode).toBe('llm');
    expect(server.requests.map((r) => (r.response_format as { type: string } | undefined)?.type)).toEqual(['json_schema', 'json_object']);
    expect(writer.outputFormat).toBe('json_object');
    expect((await qa.answer(FOREST)).mode).toBe('llm');
    expect((server.requests[2]!.response_format as { type: string }).type).toBe('json_object');

    server.enqueueChat({ ...rejected, status: 422 }, goodModel);
    const a = await qa.answer(FOREST);
    expect(server.requests[3]!.response_format).toMatchObject({ type: 'json_object' });
    expect(server.requests[4]!.response_format).toBeUndefined();
    expect(server.requests[4]!.messages[0]!.content).toContain('引用：');
    expect(a.mode).toBe('llm');
    expectVerbatim(a);
  });

  it('reads a plain-text reply with [n] markers when a JSON format was asked for but not honoured', async () => {
    server.enqueueChat({
      kind: 'dynamic',
      handler: (req) => {
        const s = sentencesOf(passagesInPrompt(req)[0]!.text)[0]!;
        return { kind: 'json', content: `${s}[1]。\n\n引用：\n[1] “${s}”` };
      },
    });
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a.mode).toBe('llm');
    expectVerbatim(a);
  });
});

describe('LlmAnswerWriter deciding "not found"', () => {
  const notFound = scripted(() => ({ answer: '资料中没有找到相关内容。', citations: [], found: false }));

  it('agrees with a model that finds nothing when the offline answer found nothing either', async () => {
    server.enqueueChat(notFound);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer('武清区2023年准备发多少消费券？');
    expect(a).toMatchObject({ mode: 'llm', found: false, citations: [] });
    expect(a.answer).toContain('资料中没有');
    expect(a.answer).toContain('津南区'); // the offline message also says what the corpus covers
  });

  it('shows the offline excerpts, saying why, when the model finds nothing but they do', async () => {
    server.enqueueChat(notFound);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(FOREST);
    expect(a).toMatchObject({ mode: 'extractive', found: true });
    expect(a.fallback).toBe('no-answer');
  });

  it('does not call the model when the question is about a district the corpus does not cover', async () => {
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer('东丽区十四五规划新增就业目标是多少？');
    expect(a).toMatchObject({ mode: 'extractive', found: false });
    expect(server.requests).toHaveLength(0);
  });
});
