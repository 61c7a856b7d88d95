import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findComparison, type CitedPassage } from '../../src/answer/comparison.ts';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

/**
 * Comparisons come only from what an answer cites: one figure per side, the same unit,
 * the figure's text exactly as quoted. Checked on the dev set's cross-document questions
 * answered for real, and on made-up citations that must not compare.
 */

let fixture: TestIndex;
let answerer: QuestionAnswerer;
beforeAll(async () => {
  fixture = await buildTestIndex();
  answerer = new QuestionAnswerer(fixture.index);
});
afterAll(() => fixture?.cleanup());

async function citedFor(q: string): Promise<{ text: string; cited: CitedPassage[] }> {
  const a = await answerer.answer(q);
  const cited = a.citations.map((c) => {
    const p = a.passages.find((x) => x.chunk.file === c.file && x.chunk.start <= c.start && c.end <= x.chunk.end)!;
    return { n: c.n, quote: c.quote, district: p.chunk.doc.district, year: p.chunk.doc.year, title: c.title, section: c.section };
  });
  return { text: a.answer, cited };
}

const cite = (n: number, quote: string, district: string): CitedPassage => ({ n, quote, district, title: `《${district}》`, section: '' });

describe('findComparison on real answers', () => {
  it.each([
    ['十三五期间河北区和津南区的PM2.5各降了多少？', 'PM2.5平均浓度较…下降', '%', [['河北区', '37.8%', 37.8], ['津南区', '近30%', 30]]],
    ['污染地块安全利用率，河北区和津南的目标各是多少？', '污染地块安全利用率', '%', [['河北区', '达到100%', 100], ['津南区', '不低于94%', 94]]],
    ['武清2018年和2023年定的新增就业目标分别是多少？', '新增就业', '万人', [['2018年', '3.4万人', 3.4], ['2023年', '3.6万人以上', 3.6]]],
  ] as const)('%s', async (q, indicator, unit, figures) => {
    const { text, cited } = await citedFor(q);
    const c = findComparison(text, cited)!;
    expect(c).toBeDefined();
    expect(c.indicator).toBe(indicator);
    expect(c.unit).toBe(unit);
    expect(c.figures.map((f) => [f.side, f.text, f.value])).toEqual(figures);
    // Every figure is verbatim text of the citation it names.
    for (const f of c.figures) expect(cited.find((x) => x.n === f.n)!.quote).toContain(f.text);
  });

  it('offers nothing for ranges, single-source answers and answers without figures', async () => {
    for (const q of ['河北区和津南十四五各要打造几所有特色的好高中？', '武清区2025年森林覆盖率目标是多少？', '河北区华津3526创意产业园主打什么？']) {
      const { text, cited } = await citedFor(q);
      expect(findComparison(text, cited), q).toBeUndefined();
    }
  });
});

describe('findComparison refuses what is not one figure per side', () => {
  it('different units', () => {
    expect(findComparison('', [cite(1, '新增就业3.4万人。', '河北区'), cite(2, '新增就业36%。', '津南区')])).toBeUndefined();
  });
  it('two figures on a side that fit equally well', () => {
    expect(findComparison('', [cite(1, '绿化覆盖率达到40%。', '河北区'), cite(2, '绿化覆盖率达到38%，绿化覆盖率达到41%。', '津南区')])).toBeUndefined();
  });
  it('different indicators', () => {
    expect(findComparison('', [cite(1, '森林覆盖率达到13%。', '河北区'), cite(2, '失业率控制在5%以内。', '津南区')])).toBeUndefined();
  });
  it('two citations for one side', () => {
    expect(findComparison('', [cite(1, '森林覆盖率达到13%。', '河北区'), cite(2, '森林覆盖率达到14%。', '河北区')])).toBeUndefined();
  });
  it('accepts three districts, figures in the order of the answer', () => {
    const c = findComparison('', [cite(1, '到2025年,森林覆盖率达到13%。', '武清区'), cite(2, '森林覆盖率提高到9.5%。', '河北区'), cite(3, '全区森林覆盖率达到25%左右。', '津南区')]);
    expect(c?.figures.map((f) => `${f.side}${f.text}`)).toEqual(['武清区达到13%', '河北区9.5%', '津南区达到25%左右']);
  });
});
