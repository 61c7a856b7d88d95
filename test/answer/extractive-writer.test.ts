import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { InputError } from '../../src/errors.ts';
import { ingestDocument } from '../../src/ingest/chunk.ts';
import { loadCorpus } from '../../src/ingest/corpus.ts';
import { foldForMatch } from '../../src/index/tokenize.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

const squash = (s: string) => s.replace(/\s+/g, '');

describe('extractive answers over the shipped corpus', () => {
  let t: TestIndex;
  let qa: QuestionAnswerer;
  let normalized: Map<string, string>;
  beforeAll(async () => {
    t = await buildTestIndex();
    qa = new QuestionAnswerer(t.index);
    normalized = new Map();
    for (const src of await loadCorpus('data/corpus')) normalized.set(src.meta.file, (await ingestDocument(src, t.config.index.chunking)).text);
  });
  afterAll(() => t.cleanup());

  it('leads a target question with the number, its unit and year', async () => {
    const a = await qa.answer('武清区2025年森林覆盖率目标是多少?');
    expect(a.found).toBe(true);
    expect(a.answer.split('\n')[0]).toMatch(/森林覆盖率.*2025年目标13%.*2020年为12\.07%.*约束性/);
    expect(a.answer).toMatch(/\[1\]/);
    expect(a.citations[0]!.file).toBe('wuqing-14th-five-year-plan.txt');
    // A rebuilt table row is quoted as its original cells, so it matches the source once whitespace is ignored.
    const raw = readFileSync(path.join('data/corpus', a.citations[0]!.file), 'utf8');
    expect(squash(raw)).toContain(squash(a.citations[0]!.quote));
  });

  it('cites every sentence, and every quote is verbatim at its offsets', async () => {
    for (const q of ['津南夜间经济打算以哪几个地方做示范？', '河北区诚信建设有哪些具体做法？', '武清2017年实际利用外资多少？']) {
      const a = await qa.answer(q);
      expect(a.found).toBe(true);
      for (const line of a.answer.split('\n')) expect(line).toMatch(/\[\d+\]$/);
      for (const c of a.citations) {
        const doc = normalized.get(c.file)!;
        expect(squash(doc.slice(c.start, c.end))).toBe(squash(c.quote));
        expect(c.section.length).toBeGreaterThan(0);
      }
    }
  });

  it('never cites the same words twice, even when overlapping chunks both hold them', async () => {
    for (const q of ['武清区2023年固定资产投资计划增长多少？', '武清在土地承包、城乡融合上有啥政策', '津南区小站稻振兴计划有什么内容']) {
      const a = await qa.answer(q);
      for (const x of a.citations)
        for (const y of a.citations)
          if (x !== y && x.file === y.file) expect(x.start < y.end && y.start < x.end, `${q}: [${x.n}] and [${y.n}] overlap`).toBe(false);
    }
  });

  it('says so, and what the corpus covers, when the documents do not answer', async () => {
    for (const q of ['东丽区十四五规划新增就业目标是多少？', '武清区2023年准备发多少消费券？', '河北区的地铁票价是多少']) {
      const a = await qa.answer(q);
      expect(a.found, q).toBe(false);
      // A close fact may be offered, but only labelled as such and cited.
      if (a.citations.length > 0) expect(a.answer).toMatch(/最相近的是.*\[1\]/);
      expect(a.answer).toContain('资料中没有');
      expect(a.answer).toContain('武清区');
      expect(a.answer).toContain('津南区');
    }
  });

  it('answers a comparison with one cited sentence per side', async () => {
    const a = await qa.answer('十三五期间河北区和津南区的PM2.5各降了多少？');
    expect(a.found).toBe(true);
    expect(a.answer).toContain('河北区：');
    expect(a.answer).toContain('津南区：');
    expect(a.answer).toContain('37.8%');
    expect(new Set(a.citations.map((c) => c.file)).size).toBe(2);
  });

  it('rewrites a follow-up before retrieval', async () => {
    const a = await qa.answer('那津南区呢？', [{ q: '河北区十三五期间PM2.5下降了多少？', answer: '…' }]);
    expect(a.standaloneQuestion).toContain('津南区');
    expect(a.citations.every((c) => c.file.startsWith('jinnan'))).toBe(true);
  });

  it('refuses empty and oversized questions with a clear message', async () => {
    await expect(qa.answer('   ')).rejects.toThrow(InputError);
    await expect(qa.answer('森'.repeat(10_000))).rejects.toThrow(/问题太长（10000字）/);
  });

  it('keeps quotes verbatim across the whole dev set', async () => {
    const items = readFileSync('test/fixtures/dev-questions.jsonl', 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { q: string; history?: Array<{ q: string; answer: string }> });
    let quotes = 0;
    for (const item of items) {
      const a = await qa.answer(item.q, item.history ?? []);
      for (const c of a.citations) {
        const raw = readFileSync(path.join('data/corpus', c.file), 'utf8');
        expect(foldForMatch(raw), `${item.q} → ${c.quote}`).toContain(foldForMatch(c.quote));
        quotes++;
      }
    }
    expect(quotes).toBeGreaterThan(items.length);
  });
});
