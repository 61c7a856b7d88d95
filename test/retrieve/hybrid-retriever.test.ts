import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HybridRetriever } from '../../src/retrieve/hybrid-retriever.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

describe('HybridRetriever over the shipped corpus', () => {
  let t: TestIndex;
  let retriever: HybridRetriever;
  beforeAll(async () => {
    t = await buildTestIndex();
    retriever = new HybridRetriever(t.index);
  });
  afterAll(() => t.cleanup());

  it('finds the indicator row for a target question first', async () => {
    const r = await retriever.retrieve('武清区2025年森林覆盖率目标是多少？', 5);
    expect(r.passages[0]!.chunk.kind).toBe('table-row');
    expect(r.passages[0]!.chunk.indicator?.name).toContain('森林覆盖率');
  });

  it('keeps to the district the question names', async () => {
    const r = await retriever.retrieve('河北区家庭医生团队能提供中医治未病服务的比例目标是多少', 5);
    expect(r.passages.length).toBe(5);
    expect(r.passages.every((p) => p.chunk.doc.district === '河北区')).toBe(true);
  });

  it('returns nothing for a district or year the corpus does not cover', async () => {
    const dongli = await retriever.retrieve('东丽区十四五规划新增就业目标是多少？', 5);
    expect(dongli.passages).toEqual([]);
    expect(dongli.uncovered).toBe('东丽区');
    const y = await retriever.retrieve('武清区2040年的目标是什么', 5);
    expect(y.passages).toEqual([]);
    expect(y.uncovered).toBe('2040年');
    const province = await retriever.retrieve('河北省十四五期间PM2.5下降多少', 5);
    expect(province.passages).toEqual([]);
  });

  it('reads a section about another year as out of scope', async () => {
    const r = await retriever.retrieve('武清2023年工业产值打算增长多少？', 5);
    expect(r.passages.length).toBeGreaterThan(0);
    expect(r.passages.every((p) => !p.chunk.section.join(' ').includes('2022年国民经济和社会发展计划执行情况'))).toBe(true);
  });

  it('splits a comparison into one facet per district, both near the top', async () => {
    const r = await retriever.retrieve('十三五期间河北区和津南区的PM2.5各降了多少？', 4);
    const districts = r.passages.slice(0, 2).map((p) => p.chunk.doc.district).sort();
    expect(districts).toEqual(['津南区', '河北区'].sort());
    expect(r.passages.every((p) => p.facet)).toBe(true);
  });

  it('does not return overlapping passages', async () => {
    const r = await retriever.retrieve('津南会展经济有哪些重点项目', 10);
    for (const a of r.passages)
      for (const b of r.passages)
        if (a !== b && a.chunk.file === b.chunk.file) {
          const overlap = Math.min(a.chunk.end, b.chunk.end) - Math.max(a.chunk.start, b.chunk.start);
          expect(overlap / Math.min(a.chunk.end - a.chunk.start, b.chunk.end - b.chunk.start)).toBeLessThanOrEqual(0.5);
        }
  });
});
