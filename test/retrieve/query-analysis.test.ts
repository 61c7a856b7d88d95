import { describe, expect, it } from 'vitest';
import { analyzeQuery, documentsInScope } from '../../src/retrieve/query-analysis.ts';

const docs = [
  { file: 'wq-plan.txt', title: '武清十四五', district: '武清区', year: 2021, years: [2016, 2020, 2021, 2025, 2035], kind: '五年规划', checksum: 'x', chunkCount: 1 },
  { file: 'wq-2018.txt', title: '武清2018报告', district: '武清区', year: 2018, years: [2017, 2018], kind: '政府工作报告', checksum: 'x', chunkCount: 1 },
  { file: 'hb-plan.txt', title: '河北区十四五', district: '河北区', year: 2021, years: [2016, 2020, 2021, 2025], kind: '五年规划', checksum: 'x', chunkCount: 1 },
  { file: 'jn-plan.txt', title: '津南区十四五', district: '津南区', year: 2021, years: [2016, 2020, 2021, 2025], kind: '五年规划', checksum: 'x', chunkCount: 1 },
];

describe('analyzeQuery', () => {
  it('reads full and short district names', () => {
    expect(analyzeQuery('武清区2025年森林覆盖率目标是多少?').districts).toEqual(['武清区']);
    expect(analyzeQuery('津南会展要引进几家UFI成员单位？').districts).toEqual(['津南区']);
    expect(analyzeQuery('十三五期间河北区和津南区的PM2.5各降了多少？').districts.sort()).toEqual(['河北区', '津南区'].sort());
  });

  it('does not read 河北区 into 京津冀, 河北省, nor 河西区 into 河西务镇', () => {
    expect(analyzeQuery('武清京津冀协同发展有什么进展').districts).toEqual(['武清区']);
    expect(analyzeQuery('武清河西务镇要建个什么农产品中心').districts).toEqual(['武清区']);
    expect(analyzeQuery('河北省的新增就业目标').districts).toEqual([]);
    expect(analyzeQuery('河北省的新增就业目标').otherRegion).toBe('河北省');
    expect(analyzeQuery('津南区和南开大学合作').districts).toEqual(['津南区']);
  });

  it('reads years and planning periods', () => {
    const s = analyzeQuery('武清2018年和2023年定的新增就业目标分别是多少？');
    expect(s.explicitYears).toEqual([2018, 2023]);
    expect(analyzeQuery('十三五期间河北区引进了多少人才').years).toEqual([2016, 2017, 2018, 2019, 2020]);
  });
});

describe('documentsInScope', () => {
  it('a district the corpus does not cover leaves nothing', () => {
    const r = documentsInScope(analyzeQuery('东丽区十四五规划新增就业目标是多少？'), docs);
    expect(r.documents).toEqual([]);
    expect(r.uncovered).toBe('东丽区');
  });

  it('filters by district and by the years documents cover', () => {
    expect(documentsInScope(analyzeQuery('武清2017年实际利用外资多少？'), docs).documents.map((d) => d.file)).toEqual(['wq-2018.txt']);
    expect(documentsInScope(analyzeQuery('河北区2025年目标'), docs).documents.map((d) => d.file)).toEqual(['hb-plan.txt']);
  });

  it('a year no document covers leaves nothing', () => {
    const r = documentsInScope(analyzeQuery('武清区2040年的目标'), docs);
    expect(r.documents).toEqual([]);
    expect(r.uncovered).toBe('2040年');
  });

  it('an unscoped question keeps every document', () => {
    expect(documentsInScope(analyzeQuery('森林覆盖率目标是多少'), docs).documents).toHaveLength(4);
  });
});
