import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

const squash = (s: string) => s.replace(/\s+/g, '');

/** Questions as people type them in a chat, over the shipped corpus. */
describe('questions as people type them', () => {
  let t: TestIndex;
  let qa: QuestionAnswerer;
  const raw = new Map<string, string>();
  beforeAll(async () => {
    t = await buildTestIndex();
    qa = new QuestionAnswerer(t.index);
  });
  afterAll(() => t.cleanup());

  const verbatim = (a: Awaited<ReturnType<QuestionAnswerer['answer']>>) => {
    for (const c of a.citations) {
      if (!raw.has(c.file)) raw.set(c.file, squash(readFileSync(path.join('data/corpus', c.file), 'utf8')));
      expect(raw.get(c.file)).toContain(squash(c.quote));
    }
  };

  it('answers casual wording as it answers the written form', async () => {
    const written = await qa.answer('武清大运河通航怎么安排？');
    const casual = await qa.answer('武清那个大运河通航是咋安排的');
    expect(written.found).toBe(true);
    expect(casual.found).toBe(true);
    expect(casual.citations[0]!.quote).toContain('通航');
    verbatim(casual);
  });

  it('resolves abbreviations against the corpus vocabulary', async () => {
    const a = await qa.answer('武清23年固投预计涨多少');
    expect(a.found).toBe(true);
    expect(a.answer).toContain('固定资产投资增长5%以上');
    verbatim(a);
    const expo = await qa.answer('津南国展周边交通咋配套');
    expect(expo.found).toBe(true);
    expect(expo.answer).toContain('国家会展中心');
  });

  it('answers a target question from the plan, not from the review of the last period', async () => {
    const a = await qa.answer('津南研发投入强度十四五末目标多少');
    expect(a.found).toBe(true);
    expect(a.answer).toContain('6%');
    expect(a.answer).not.toContain('5.53');
  });

  it('leads an indicator with the value the question asks for: the result or the target', async () => {
    expect((await qa.answer('武清十三五末森林覆盖率多少')).answer.split('\n')[0]).toMatch(/^森林覆盖率（%）：2020年为12\.07%，2025年目标13%/);
    expect((await qa.answer('武清25年森林覆盖率要到多少')).answer.split('\n')[0]).toMatch(/^森林覆盖率（%）：2025年目标13%，2020年为12\.07%/);
  });

  it('answers a question about one year for that year, not with a five-year total', async () => {
    const a = await qa.answer('2017年武清接了多少个北京项目');
    expect(a.found).toBe(true);
    expect(a.answer.split('\n')[0]).toContain('1290');
  });

  it('says a year the documents do not report is not there, labelling any nearby fact', async () => {
    const a = await qa.answer('武清区2024年GDP实际增长了多少？');
    expect(a.found).toBe(false);
    expect(a.answer).toMatch(/^资料中没有2024年的这项内容。/);
    if (a.citations.length > 0) expect(a.answer).toMatch(/最相近的是武清区（[^）]+）：/);
    verbatim(a);
  });

  it('says whose figure it is when the question names no district', async () => {
    const a = await qa.answer('GDP增长目标多少');
    expect(a.found).toBe(true);
    for (const line of a.answer.split('\n')) expect(line).toMatch(/^(武清区|河北区|津南区)：/);
  });

  it('does not pass a district figure off as the city-wide one', async () => {
    const a = await qa.answer('天津市2025年森林覆盖率目标');
    expect(a.found).toBe(false);
    expect(a.answer).toContain('没有天津市全市的数据');
  });

  it('does not answer a sum of money with a sentence that has none', async () => {
    const a = await qa.answer('津南区到2025年居民人均可支配收入要达到多少钱？');
    expect(a.found).toBe(false);
  });

  it('does not answer "how many schools" with a count of something else', async () => {
    const a = await qa.answer('河北区十四五新建几所学校啊');
    expect(a.found).toBe(false);
    expect(a.answer).not.toContain('健身园');
    expect(a.answer).toMatch(/^资料中没有这一项的具体数字。最相近的是河北区/);
    verbatim(a);
  });

  it('answers comparisons written with 跟, 和 and 与 with one labelled figure per side', async () => {
    for (const q of ['武清跟津南森林覆盖率目标各是多少', '武清和津南森林覆盖率目标各是多少', '武清与津南的森林覆盖率目标分别是多少']) {
      const a = await qa.answer(q);
      expect(a.found, q).toBe(true);
      expect(a.answer, q).toMatch(/^武清区：.*13%/m);
      expect(a.answer, q).toMatch(/^津南区：.*%/m);
      expect(new Set(a.citations.map((c) => c.file)).size).toBe(2);
    }
  });

  it('replies briefly to input that is not a question, without retrieved passages', async () => {
    const history = [{ q: '武清23年固投预计涨多少', answer: '固定资产投资增长5%以上[1]' }];
    for (const [q, h] of [['9', []], ['你好', []], ['谢谢', []], ['hello', []], ['你好', history], ['谢谢！', history]] as const) {
      const a = await qa.answer(q, h);
      expect(a.found, q).toBe(false);
      expect(a.citations, q).toEqual([]);
      expect(a.passages, q).toEqual([]);
      expect(a.answer.length, q).toBeLessThan(120);
    }
  });
});

describe('question terms', () => {
  let t: TestIndex;
  beforeAll(async () => {
    t = await buildTestIndex();
  });
  afterAll(() => t.cleanup());

  it('reads an unknown compound noun by its parts, and demands no verb the corpus never uses', async () => {
    const qa = new QuestionAnswerer(t.index);
    const air = qa.weights.questionTerms('武清空气污染咋治');
    expect(air.unknown).not.toContain('空气污染');
    expect([...air.forms.values()].flat()).toEqual(expect.arrayContaining(['大气', '污染']));
    const tech = qa.weights.questionTerms('武清2023年高企总数想做到多少家？');
    expect(tech.forms.get('高企')).toEqual(['高新技术企业']);
    expect(tech.unknownWeight).toBe(0);
  });
});
