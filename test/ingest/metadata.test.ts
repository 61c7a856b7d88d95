import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferMetadata, inferTitle } from '../../src/ingest/metadata.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../data/corpus');

describe('inferMetadata', () => {
  it('describes every shipped document as its hand-written manifest entry does (district, kind, year)', () => {
    const manifest = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { documents: Array<{ file: string; district: string; kind: string; year: number; years: number[] }> };
    for (const entry of manifest.documents) {
      const inferred = inferMetadata(readFileSync(path.join(CORPUS, entry.file), 'utf8'));
      expect({ district: inferred.district, kind: inferred.kind, year: inferred.year }, entry.file).toEqual({ district: entry.district, kind: entry.kind, year: entry.year });
      for (const y of inferred.years ?? []) expect(entry.years, entry.file).toContain(y);
    }
  });

  it('reads the kind and the years from the title', () => {
    expect(inferMetadata('天津市西青区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要\n正文。')).toMatchObject({
      district: '西青区',
      kind: '五年规划',
      year: 2021,
      years: [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2035],
    });
    expect(inferMetadata('北辰区“十五五”规划纲要\n正文。')).toMatchObject({ district: '北辰区', kind: '五年规划', years: [2021, 2022, 2023, 2024, 2025, 2026, 2027, 2028, 2029, 2030] });
    expect(inferMetadata('2024年宝坻区政府工作报告\n各位代表：')).toMatchObject({ kind: '政府工作报告', year: 2024, years: [2023, 2024] });
    expect(inferMetadata('关于滨海新区2023年国民经济和社会发展计划执行情况与2024年计划草案的报告\n')).toMatchObject({ district: '滨海新区', kind: '计划报告', year: 2024, years: [2023, 2024] });
    expect(inferMetadata('蓟州区全域旅游发展实施方案（2023—2025年）\n为推进……。')).toMatchObject({ district: '蓟州区', kind: '其他', year: 2025, years: [2023, 2024, 2025] });
  });

  it('finds the district from the issuing government when the title does not name it', () => {
    const text = '2023年政府工作报告\n——2023年1月在区第二届人民代表大会上\n宁河区人民政府区长 张三\n各位代表：过去一年，宁河区人民政府……宁河区人民政府将……';
    expect(inferMetadata(text)).toMatchObject({ district: '宁河区', issuer: '宁河区人民政府', year: 2023 });
  });

  it('takes the title from a notice that wraps it, from two wrapped lines, or from the page title minus the site', () => {
    expect(inferTitle('武清区人民政府关于印发天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要的通知\n')).toBe(
      '天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要',
    );
    expect(inferTitle('天津市东丽区国民经济和社会发展\n第十四个五年规划纲要\n第一章')).toBe('天津市东丽区国民经济和社会发展第十四个五年规划纲要');
    expect(inferTitle('关于东丽区2023年计划执行情况的报告\n正文', '关于东丽区2023年计划执行情况的报告_东丽区人民政府')).toBe('关于东丽区2023年计划执行情况的报告');
  });

  it('leaves out what the text does not say', () => {
    const inferred = inferMetadata('会议纪要\n大家讨论了一些事情。');
    expect(inferred.district).toBeUndefined();
    expect(inferred.year).toBeUndefined();
    expect(inferred.kind).toBe('其他');
  });
});
