import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DocumentMeta } from '../../src/ingest/corpus.ts';
import { normalizeText } from '../../src/ingest/normalize.ts';
import { findTables, type Indicator } from '../../src/ingest/tables.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../data/corpus');

const meta: DocumentMeta = {
  file: 'wuqing-14th-five-year-plan.txt',
  title: '天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要',
  district: '武清区',
  year: 2021,
  years: [2021, 2022, 2023, 2024, 2025],
  kind: '五年规划',
};

// wuqing-14th-five-year-plan.txt lines 250-441: one cell per line, two names and four values broken in two.
const WUQING_TABLE = [
  '——治理效能稳步提升。社会主义民主法治更加健全。',
  '\n\n\n\n\n十四五”时期经济社会发展主要指标\n\n\n序号\n\n2020\n\n2025\n\n属性',
  '1\n\n地区生产总值增长率(%\n\n——\n\n6\n\n预期性',
  '2\n\n全员劳动生产率(万元/人)\n\n12.8\n\n13.5\n\n预期性',
  '3\n\n工业战略性新兴产业增加值占规模以上工业增加值\n比重(%\n\n24.9\n\n40\n\n预期性',
  '4\n\n市场主体数量(万家)\n\n14.6\n\n19\n\n预期性',
  '5\n\n研发支出与地区生产总值之比(%\n\n2.15\n\n2.3\n\n预期性',
  '6\n\n国家高新技术企业数量(家)\n\n640\n\n850\n\n预期性',
  '7\n\n每万人口拥有高价值发明专利数(件/万人)\n\n12.3\n\n12.3\n\n预期性',
  '8\n\n高技术(制造业)增加值占规模以上工业增加值\n比重(%\n\n9.4\n\n15\n\n预期性',
  '9\n\n单位GDP能源消耗降低(%\n\n17\n\n完成市级下达\n\n任务目标\n\n约束性',
  '10\n\n单位GDP二氧化碳排放降幅(%\n\n20.3\n\n完成市级下达\n\n任务目标\n\n约束性',
  '11\n\n空气优良天数比例(%\n\n63\n\n完成市级下达\n\n任务目标\n\n约束性',
  '12\n\n地表水达到或好于III类水体比例(%\n\n完成市级下达\n\n任务目标\n\n完成市级下达\n\n任务目标\n\n约束性',
  '13\n\n森林覆盖率(%\n\n12.07\n\n13\n\n约束性',
  '14\n\n居民人均可支配收入增长(%\n\n3.6\n\n与经济增长\n\n基本同步\n\n预期性',
  '15\n\n每千人口拥有执业(助理)医师数(人)\n\n2.1\n\n2.2\n\n预期性',
  '16\n\n新增劳动力平均受教育年限(年)\n\n15.4\n\n15.4\n\n预期性',
  '注:1.地区生产总值年均增长率6%以上;\n\n2.〔〕数据为五年累计数。\n\n\n第三章\u2002\u2002打造优良的产业生态,',
].join('\n\n');

function tablesOf(raw: string, m: DocumentMeta = meta) {
  const n = normalizeText(raw);
  return { text: n.text, tables: findTables(n.text, m) };
}

const row = (rows: Indicator[], name: string) => rows.find((r) => r.name === name);

describe('findTables on the wuqing 主要指标 table', () => {
  it('uses a fixture that is really in the corpus', () => {
    const raw = readFileSync(path.join(CORPUS, meta.file), 'utf8');
    expect(raw).toContain(WUQING_TABLE.slice(WUQING_TABLE.indexOf('十四五”时期经济社会发展主要指标')));
  });

  it('rebuilds all 16 rows with title, columns and attribute', () => {
    const { tables } = tablesOf(WUQING_TABLE);
    expect(tables).toHaveLength(1);
    const t = tables[0]!;
    expect(t.title).toBe('十四五”时期经济社会发展主要指标');
    expect(t.columns).toEqual(['序号', '2020', '2025', '属性']);
    expect(t.rows.map((r) => r.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(t.rows.every((r) => r.file === meta.file && r.district === '武清区' && r.table === t.title)).toBe(true);
    expect(row(t.rows, '森林覆盖率')).toMatchObject({
      unit: '%',
      values: [
        { column: '2020', value: '12.07' },
        { column: '2025', value: '13' },
      ],
      attribute: '约束性',
      notes: [],
      cells: ['13', '森林覆盖率(%', '12.07', '13', '约束性'],
    });
    expect(row(t.rows, '全员劳动生产率')).toMatchObject({ unit: '万元/人', values: [{ value: '12.8' }, { value: '13.5' }], attribute: '预期性' });
    expect(row(t.rows, '每千人口拥有执业(助理)医师数')?.unit).toBe('人');
  });

  it('joins names and values broken over two lines, keeping the original cells', () => {
    const { tables } = tablesOf(WUQING_TABLE);
    const rows = tables[0]!.rows;
    const r3 = rows[2]!;
    expect(r3.name).toBe('工业战略性新兴产业增加值占规模以上工业增加值比重');
    expect(r3.unit).toBe('%');
    expect(r3.cells).toEqual(['3', '工业战略性新兴产业增加值占规模以上工业增加值', '比重(%', '24.9', '40', '预期性']);
    expect(rows[7]!.name).toBe('高技术(制造业)增加值占规模以上工业增加值比重');
    expect(rows[8]!.values).toEqual([
      { column: '2020', value: '17' },
      { column: '2025', value: '完成市级下达任务目标' },
    ]);
    expect(rows[11]!.values.map((v) => v.value)).toEqual(['完成市级下达任务目标', '完成市级下达任务目标']);
    expect(rows[13]!.values.map((v) => v.value)).toEqual(['3.6', '与经济增长基本同步']);
    expect(rows[0]!.values[0]!.value).toBe('——');
  });

  it('attaches the GDP footnote to the GDP row only, and records the notes span', () => {
    const { text, tables } = tablesOf(WUQING_TABLE);
    const t = tables[0]!;
    expect(t.rows[0]!.notes).toEqual(['地区生产总值年均增长率6%以上']);
    expect(t.rows.slice(1).every((r) => r.notes.length === 0)).toBe(true);
    expect(text.slice(t.notesStart!, t.notesEnd!)).toBe('注:1.地区生产总值年均增长率6%以上;\n2.〔〕数据为五年累计数。');
    expect(text.slice(t.start, t.end)).toMatch(/^十四五”时期经济社会发展主要指标\n序号[\s\S]*累计数。$/);
  });

  it('gives each row the span of exactly its cells', () => {
    const { text, tables } = tablesOf(WUQING_TABLE);
    for (const r of tables[0]!.rows) {
      const span = text.slice(r.start, r.end);
      expect(span.split('\n')).toEqual(r.cells);
    }
  });

  it('finds the same 16 rows in the whole document', () => {
    const raw = readFileSync(path.join(CORPUS, meta.file), 'utf8');
    const { tables } = tablesOf(raw);
    expect(tables).toHaveLength(1);
    expect(tables[0]!.rows).toHaveLength(16);
    expect(row(tables[0]!.rows, '森林覆盖率')?.values.map((v) => v.value)).toEqual(['12.07', '13']);
  });
});

describe('findTables on other tables of the same shape', () => {
  it('reads a table with a 指标 column, three year columns, no attribute and 〔〕 cumulative values', () => {
    const raw = [
      '表1 “十四五”时期社会发展指标',
      '序号\n指标\n2015年\n2020年\n2025年',
      '1\n常住人口(万人)\n110\n120\n130',
      '2\n新增就业\n人数(万人)\n〔18.2〕\n〔20〕\n〔25〕',
      '3\n人均预期寿命\n80\n81\n82',
      '注:〔〕数据为五年累计数。',
      '第二节 其他',
    ].join('\n');
    const { tables } = tablesOf(raw, { ...meta, file: 'x.txt', district: '河北区' });
    expect(tables).toHaveLength(1);
    const t = tables[0]!;
    expect(t.title).toBe('表1“十四五”时期社会发展指标');
    expect(t.rows.map((r) => [r.name, r.unit, r.values.map((v) => `${v.column}=${v.value}`), r.attribute, r.notes])).toEqual([
      ['常住人口', '万人', ['2015年=110', '2020年=120', '2025年=130'], undefined, []],
      ['新增就业人数', '万人', ['2015年=〔18.2〕', '2020年=〔20〕', '2025年=〔25〕'], undefined, ['〔〕数据为五年累计数']],
      ['人均预期寿命', undefined, ['2015年=80', '2020年=81', '2025年=82'], undefined, []],
    ]);
    expect(t.rows[0]!.district).toBe('河北区');
  });

  it('finds nothing in prose or in a 序号 line without year columns', () => {
    expect(tablesOf('第一节 发展基础\n人均GDP突破7.5万元,居民人均可支配收入始终高于经济增速。').tables).toEqual([]);
    expect(tablesOf('序号\n项目名称\n建设内容\n1\n京津产业新城\n核心区建设').tables).toEqual([]);
  });
});
