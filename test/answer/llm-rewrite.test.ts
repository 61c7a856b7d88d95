import { describe, expect, it } from 'vitest';
import { cleanRewrite } from '../../src/answer/llm-rewrite.ts';
import type { OpenAiTestServer } from '../helpers/openai-server.ts';
import type { TestIndex } from '../helpers/test-index.ts';
import { capturingLogger, llmAnswerer, llmConfig, useIndexAndServer } from './llm-harness.ts';
import { goodModel, questionInPrompt } from './llm-scripts.ts';

let t: TestIndex;
let server: OpenAiTestServer;
useIndexAndServer((x) => (t = x), (x) => (server = x));

const HISTORY = [{ q: '武清区2025年森林覆盖率目标是多少？', answer: '武清区2025年森林覆盖率目标为13%[1]。' }];

describe('follow-up rewriting by the LLM', () => {
  it('rewrites the follow-up before retrieval and answers the standalone question', async () => {
    server.enqueueChat({ kind: 'json', content: '津南区2025年森林覆盖率目标是多少？' }, goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer('那津南区呢？', HISTORY);
    expect(a.standaloneQuestion).toBe('津南区2025年森林覆盖率目标是多少？');
    const [rewrite, compose] = server.requests;
    expect(rewrite!.response_format).toBeUndefined();
    expect(rewrite!.messages[1]!.content).toContain('<history>\n问：武清区2025年森林覆盖率目标是多少？\n回答：武清区2025年森林覆盖率目标为13%[1]。\n</history>');
    expect(questionInPrompt(rewrite!)).toBe('那津南区呢？');
    expect(questionInPrompt(compose!)).toBe('津南区2025年森林覆盖率目标是多少？');
    expect(a.passages.every((p) => p.chunk.doc.district === '津南区')).toBe(true);
  });

  it('uses the offline rewrite when the LLM rewrite fails, and still composes', async () => {
    server.enqueueChat({ kind: 'status', status: 500 }, goodModel);
    const { log, lines } = capturingLogger();
    const { qa } = llmAnswerer(t, llmConfig(server), { log });
    const a = await qa.answer('那津南区呢？', HISTORY);
    expect(a.standaloneQuestion).toBe('津南区2025年森林覆盖率目标是多少？');
    expect(a.mode).toBe('llm');
    expect(lines.some((l) => l.includes('llm rewrite failed') && l.includes('server error (HTTP 500)'))).toBe(true);
  });

  it('uses the offline rewrite when the LLM answers instead of rewriting', async () => {
    server.enqueueChat({ kind: 'json', content: '根据资料，'.repeat(60) }, goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    expect((await qa.answer('那津南区呢？', HISTORY)).standaloneQuestion).toBe('津南区2025年森林覆盖率目标是多少？');
  });
});

describe('a rewrite that is not a question keeping the follow-up\'s entities is refused', () => {
  const junk = [
    '{"standalone_question": null, "reason": "not found"}',
    'not found',
    '资料中没有找到相关信息。',
    '抱歉，我无法改写这个问题。',
    'N/A',
    // Drops or swaps the district the user named.
    '武清区2025年森林覆盖率目标是多少？',
    '2025年森林覆盖率目标是多少？',
    'What is the forest coverage target?',
  ];
  for (const content of junk) {
    it(`uses the offline rewrite when the model's rewrite is ${JSON.stringify(content)}`, async () => {
      server.enqueueChat({ kind: 'json', content }, goodModel);
      const { log, lines } = capturingLogger();
      const { qa } = llmAnswerer(t, llmConfig(server), { log });
      const a = await qa.answer('那津南区呢？', HISTORY);
      expect(a.standaloneQuestion).toBe('津南区2025年森林覆盖率目标是多少？');
      expect(a.found).toBe(true);
      expect(lines.some((l) => l.includes('llm rewrite unusable'))).toBe(true);
      expect(lines.some((l) => l.includes('"msg":"llm rewrite"'))).toBe(false);
    });
  }

  it('keeps years and plan periods too', () => {
    expect(cleanRewrite('津南区森林覆盖率目标是多少？', '津南区2025年呢？')).toBeUndefined();
    expect(cleanRewrite('津南区十三五森林覆盖率是多少？', '那十四五呢？')).toBeUndefined();
    expect(cleanRewrite('津南区十四五期间森林覆盖率目标是多少？', '那十四五呢？')).toBe('津南区十四五期间森林覆盖率目标是多少？');
  });
});

describe('cleanRewrite', () => {
  it('takes the question out of a reply with a preamble, quotes or a fence', () => {
    expect(cleanRewrite('改写后的问题：“津南区2025年森林覆盖率目标是多少？”', '那津南区呢？')).toBe('津南区2025年森林覆盖率目标是多少？');
    expect(cleanRewrite('```\n津南区养老床位有多少\n```', '养老床位呢')).toBe('津南区养老床位有多少');
    expect(cleanRewrite('  \n', 'x')).toBeUndefined();
    expect(cleanRewrite('<question>x</question>', '那津南区呢？')).toBeUndefined();
  });
});

describe('rewriting into the documents\' wording by the LLM', () => {
  const CASUAL = '河北区好多写字楼都空着 楼宇经济咋整';

  it('rewrites a question with words the corpus never uses before retrieval, and answers it', async () => {
    server.enqueueChat({ kind: 'json', content: '河北区如何盘活闲置楼宇、发展楼宇经济？' }, goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const a = await qa.answer(CASUAL);
    expect(a.standaloneQuestion).toBe('河北区如何盘活闲置楼宇、发展楼宇经济？');
    const [rewrite, compose] = server.requests;
    expect(questionInPrompt(rewrite!)).toBe(CASUAL);
    expect(rewrite!.messages[0]!.content).toContain('规划文件的正式说法');
    expect(questionInPrompt(compose!)).toBe('河北区如何盘活闲置楼宇、发展楼宇经济？');
    expect(a.passages.every((p) => p.chunk.doc.district === '河北区')).toBe(true);
    expect(a.passages.slice(0, 3).some((p) => p.chunk.text.includes('闲置楼宇'))).toBe(true);
    expect(a.found).toBe(true);
  });

  it('keeps the offline question when the model\'s rewrite changes the district or the year', async () => {
    for (const junk of ['武清区如何发展楼宇经济？', '河北区2023年如何发展楼宇经济？']) {
      server.enqueueChat({ kind: 'json', content: junk }, goodModel);
      const { qa } = llmAnswerer(t, llmConfig(server));
      const a = await qa.answer(CASUAL);
      expect(a.standaloneQuestion, junk).toBe(CASUAL);
      expect(a.passages.every((p) => p.chunk.doc.district === '河北区')).toBe(true);
    }
  });

  it('asks the model nothing extra when the question already uses the documents\' words', async () => {
    server.enqueueChat(goodModel);
    const { qa } = llmAnswerer(t, llmConfig(server));
    const before = server.requests.length;
    const a = await qa.answer('武清区2025年森林覆盖率目标是多少？');
    expect(server.requests.length - before).toBe(1);
    expect(a.standaloneQuestion).toBe('武清区2025年森林覆盖率目标是多少？');
  });
});
