import { readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import { targetsPage } from '../../src/bot/features/targets.ts';
import { TopicCatalog } from '../../src/digest/topics.ts';
import { ExtractionError } from '../../src/errors.ts';
import { buildIndex, type BuildResult } from '../../src/index/build-index.ts';
import { loadPlanIndex, type PlanIndex } from '../../src/index/plan-index.ts';
import { ingestDocument } from '../../src/ingest/chunk.ts';
import { readCorpus, type SourceDocument } from '../../src/ingest/corpus.ts';
import { extractDocument } from '../../src/ingest/extract.ts';
import { extractedDir, readExtractedText } from '../../src/ingest/extracted-store.ts';
import { decodeHtml } from '../../src/ingest/html-extract.ts';
import {
  CORRUPT_DOCX,
  CORRUPT_PDF,
  FIXTURE_DIR,
  JINGHAI_MARKDOWN,
  ninghePlanDocx,
  PDF_BROKEN_SENTENCE,
  scannedPdf,
  shunyiPlanPdf,
  writeFormatCorpus,
} from '../helpers/format-fixtures.ts';
import { layoutPlanPdf, writePdf } from '../helpers/pdf-writer.ts';
import { tempDir, testConfig } from '../helpers/test-index.ts';

const squeeze = (s: string) => s.replace(/\s+/g, '');
const CHUNKING = { chunkSize: 400, chunkOverlap: 50 };
const gbkPage = () => readFileSync(path.join(FIXTURE_DIR, 'dongli-2024-plan-report.html'));

describe('extraction by format', () => {
  it('PDF: drops the running header and page numbers, joins a sentence broken over a page, keeps reading order', async () => {
    const doc = await extractDocument(shunyiPlanPdf(), 'shunyi.pdf');
    expect(doc.pages).toBeGreaterThanOrEqual(2);
    expect(doc.text).not.toContain('规划纲要\n'); // the running header "北京市顺义区“十四五”规划纲要"
    expect(doc.text).not.toMatch(/- \d+ -/);
    expect(doc.text.split('\n')).toContain(PDF_BROKEN_SENTENCE);
    const order = ['第一章 发展基础', '顺义区地处首都东北部', '第二章 发展目标', '表1', '森林覆盖率(%)', '第三章 重点任务'].map((s) => doc.text.indexOf(s));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(doc.tables).toHaveLength(1);
  });

  it('PDF: a heading set with a wide gap stays a heading, not a table row', async () => {
    const at = (text: string, x: number, y: number) => ({ text, x, y });
    const pdf = writePdf([{ items: [at('第一章', 72, 700), at('总体要求', 140, 700), at('第一节', 72, 680), at('发展目标', 140, 680), at('全区经济总量稳步增长。', 96, 660)] }]);
    const doc = await extractDocument(pdf, 'gaps.pdf');
    expect(doc.text).toBe('第一章 总体要求\n第一节 发展目标\n全区经济总量稳步增长。\n');
    expect(doc.tables).toEqual([]);
  });

  it('PDF: a heading wrapped onto a second line is one heading for the passages under it', async () => {
    const pdf = layoutPlanPdf(
      [
        { heading: '第三节 打造海河沿线、新开河沿线、中山路沿线' },
        { heading: '三大经济带' },
        { paragraph: '依托海河沿线资源，发展商务商贸和文化旅游产业，建设高品质的城市滨水空间。' },
      ],
      { header: '页眉' },
    );
    const extracted = await extractDocument(pdf, 'wrapped-heading.pdf');
    const meta = { file: 'wrapped-heading.pdf', title: 't', district: '河北区', year: 2021, years: [2021], kind: '五年规划' as const };
    const doc = await ingestDocument({ meta, raw: extracted.text, checksum: '', extracted }, CHUNKING);
    expect(doc.chunks.map((c) => c.section)).toEqual([['第三节 打造海河沿线、新开河沿线、中山路沿线三大经济带']]);
  });

  it('PDF: a table cell wrapped onto a second line stays one cell', async () => {
    const pdf = layoutPlanPdf(
      [
        { paragraph: '表2 主要指标' },
        {
          table: [
            ['序号', '指标', '2020年', '2025年', '属性'],
            ['1', '全社会研发经费投入占', '2.1', '3.0', '预期性'],
            ['', '地区生产总值比重(%)', '', '', ''],
            ['2', '森林覆盖率(%)', '32.4', '35', '约束性'],
          ],
          columns: [0, 48, 260, 345, 430],
        },
      ],
      { header: '页眉' },
    );
    const doc = await extractDocument(pdf, 'wrapped.pdf');
    const cell = (span: { start: number; end: number } | undefined) => (span ? doc.text.slice(span.start, span.end) : '');
    expect(doc.tables[0]!.rows.map((r) => r.map(cell))).toEqual([
      ['1', '全社会研发经费投入占地区生产总值比重(%)', '2.1', '3.0', '预期性'],
      ['2', '森林覆盖率(%)', '32.4', '35', '约束性'],
    ]);
  });

  it('PDF in a non-embedded Chinese font (STSong-Light, UniGB-UCS2-H, no ToUnicode): read with Adobe\'s character maps', async () => {
    const pdf = writePdf([{ items: [{ text: '西青区2025年森林覆盖率达到15%。', x: 72, y: 700 }] }], { font: 'standard-gb' });
    expect((await extractDocument(pdf, 'gb.pdf')).text).toBe('西青区2025年森林覆盖率达到15%。\n');
  });

  it('PDF without a text layer, and damaged files, get one clear line naming the file', async () => {
    await expect(extractDocument(scannedPdf(), 'scan.pdf')).rejects.toThrow(/scan\.pdf has no text layer \(a scanned PDF\?\)/);
    await expect(extractDocument(CORRUPT_PDF, 'bad.pdf')).rejects.toThrow(ExtractionError);
    await expect(extractDocument(CORRUPT_PDF, 'bad.pdf')).rejects.toThrow(/bad\.pdf is not a readable PDF/);
    await expect(extractDocument(CORRUPT_DOCX, 'bad.docx')).rejects.toThrow(/bad\.docx is not a readable Word document/);
    await expect(extractDocument(Buffer.alloc(0), 'empty.md')).rejects.toThrow(/empty\.md is empty/);
    await expect(extractDocument(Buffer.from('x'), 'photo.jpg')).rejects.toThrow(/photo\.jpg: unsupported format/);
  });

  it('Word: paragraphs in order, a table with merged cells as a grid', async () => {
    const doc = await extractDocument(ninghePlanDocx(), 'ninghe.docx');
    expect(doc.text.startsWith('宁河区2024年政府工作报告\n')).toBe(true);
    expect(doc.tables).toHaveLength(2);
    const projects = doc.tables[1]!;
    const cell = (s: { start: number; end: number } | undefined) => (s ? doc.text.slice(s.start, s.end) : '');
    expect(projects.rows.map((r) => r.map(cell))).toEqual([
      ['产业项目', '七里海现代农业产业园', '建设高标准农田3万亩'],
      ['产业项目', '宁河智能制造园区', '新建标准厂房20万平方米'],
      ['民生项目', '宁河区第二人民医院', '新增床位500张'],
    ]);
    // The merged cell is written once.
    expect(doc.text.match(/产业项目/g)).toHaveLength(1);
  });

  it('web page in GBK: decoded by its declared charset, the article without the site around it', async () => {
    const bytes = gbkPage();
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    expect(decodeHtml(bytes)).toContain('东丽区2023年国民经济');
    const doc = await extractDocument(bytes, 'dongli.html');
    expect(doc.text.split('\n')[0]).toBe('关于东丽区2023年国民经济和社会发展计划执行情况与2024年国民经济和社会发展计划草案的报告');
    for (const chrome of ['首页', '互动交流', '热点专题', '网站标识码', '长者模式']) expect(doc.text).not.toContain(chrome);
    expect(doc.text).toContain('全区地区生产总值增长5.2%');
    expect(doc.tables).toHaveLength(1);
  });

  it('web page undeclared: UTF-8 when the bytes are UTF-8, GB18030 otherwise', () => {
    const utf8 = Buffer.from('<p>西青区</p>', 'utf8');
    expect(decodeHtml(utf8)).toBe('<p>西青区</p>');
    const gbk = Buffer.from(gbkPage().toString('latin1').replace(/<meta[^>]*charset=gb2312">/i, ''), 'latin1');
    expect(decodeHtml(gbk)).toContain('东丽区');
  });

  it('web page laid out in tables: the article is read as paragraphs, its data table as a grid', async () => {
    const para = (n: number) => `<p>第${n}段：红桥区将持续推进城市更新和产业升级，完善交通、水务、能源等基础设施，提升公共服务均衡化水平，推动区域协调发展和生态文明建设取得新进展，确保各项任务落地见效，让人民群众有更多获得感。</p>`;
    const html = `<html><head><meta charset="utf-8"><title>红桥区规划</title></head><body><table><tr><td><a href="/">首页</a></td></tr><tr><td>
      <h1>红桥区“十四五”规划纲要</h1>${[1, 2, 3].map(para).join('')}
      <table><tr><th>指标</th><th>2020年</th><th>2025年</th></tr><tr><td>森林覆盖率(%)</td><td>10</td><td>12</td></tr></table>
    </td></tr></table></body></html>`;
    const doc = await extractDocument(Buffer.from(html), 'layout.html');
    expect(doc.text).toContain(`第2段：红桥区将持续推进城市更新`);
    expect(doc.tables).toHaveLength(1);
    const cell = (s: { start: number; end: number } | undefined) => (s ? doc.text.slice(s.start, s.end) : '');
    expect(doc.tables[0]!.rows.map((r) => r.map(cell))).toEqual([['森林覆盖率(%)', '10', '12']]);
  });

  it('Markdown: a table becomes a grid (its "|" lines are no longer dropped)', async () => {
    const doc = await extractDocument(Buffer.from(JINGHAI_MARKDOWN), 'jinghai.md');
    expect(doc.tables).toHaveLength(1);
    expect(doc.text).not.toContain('|');
    expect(doc.text).toContain('## 第一章 发展目标');
  });
});

describe('ingesting every format', () => {
  let dir: string;
  let stateDir: string;
  let names: Awaited<ReturnType<typeof writeFormatCorpus>>;
  let sources: SourceDocument[];
  let skipped: Array<{ file: string; reason: string }>;
  let result: BuildResult;
  let index: PlanIndex;
  let answerer: QuestionAnswerer;

  beforeAll(async () => {
    dir = tempDir('formats-corpus-');
    stateDir = tempDir('formats-state-');
    names = await writeFormatCorpus(dir);
    await writeFile(path.join(dir, 'scan.pdf'), scannedPdf());
    await writeFile(path.join(dir, 'broken.docx'), CORRUPT_DOCX);
    const config = testConfig(stateDir, { CORPUS_DIR: dir });
    ({ documents: sources, skipped } = await readCorpus(dir));
    result = await buildIndex(config);
    index = await loadPlanIndex(config.index, config.llm);
    answerer = new QuestionAnswerer(index);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('describes each document from its own text, without a manifest', () => {
    const byFile = new Map(sources.map((s) => [s.meta.file, s.meta]));
    expect(byFile.get(names.pdf)).toMatchObject({ district: '顺义区', kind: '五年规划', year: 2021, format: 'pdf', title: '北京市顺义区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要' });
    expect(byFile.get(names.docx)).toMatchObject({ district: '宁河区', kind: '政府工作报告', year: 2024, years: [2023, 2024], format: 'docx', issuer: '宁河区人民政府' });
    expect(byFile.get(names.html)).toMatchObject({ district: '东丽区', kind: '计划报告', year: 2024, years: [2023, 2024], format: 'html' });
    expect(byFile.get(names.md)).toMatchObject({ district: '静海区', kind: '五年规划', format: 'md' });
  });

  it('skips the scan and the damaged file with a reason each, and builds from the rest', () => {
    expect(skipped.map((s) => s.file).sort()).toEqual(['broken.docx', 'scan.pdf']);
    expect(result.skipped.map((s) => s.file).sort()).toEqual(['broken.docx', 'scan.pdf']);
    expect(result.documents).toBe(4);
  });

  it('turns the indicator table of every format into indicator rows with unit, values and 属性', () => {
    const rows = (file: string) => [...index.chunks].filter((c) => c.file === file && c.indicator).map((c) => c.indicator!);
    for (const file of [names.pdf, names.docx, names.html, names.md]) expect(rows(file).length, file).toBe(3);
    expect(rows(names.pdf)[1]).toMatchObject({ name: '森林覆盖率', unit: '%', values: [{ column: '2020', value: '32.4' }, { column: '2025', value: '35' }], attribute: '约束性', seq: 2, district: '顺义区' });
    expect(rows(names.docx)[2]).toMatchObject({ name: '粮食总产量', unit: '万吨', values: [{ column: '2023', value: '52' }, { column: '2024', value: '52以上' }], attribute: '约束性' });
    expect(rows(names.html)[0]).toMatchObject({ name: '地区生产总值增长', unit: '%', values: [{ column: '2023', value: '5.2' }, { column: '2024', value: '6左右' }] });
    expect(rows(names.md)[1]).toMatchObject({ name: '常住人口城镇化率', unit: '%', attribute: '预期性' });
  });

  it('brings the indicator tables of every format to /targets, by district', () => {
    for (const district of ['顺义区', '宁河区', '东丽区', '静海区']) {
      const { html } = targetsPage(index, district, 0);
      expect(html, district).toMatch(new RegExp(`主要指标</b> · ${district}（共 3 项`));
    }
    expect(targetsPage(index, '宁河区', 0).html).toContain('粮食总产量（万吨）：2024年目标52以上，2023年为52万吨，约束性指标');
  });

  it('turns any other table into one passage per row, with its headers', () => {
    const projects = [...index.chunks].filter((c) => c.file === names.docx && c.kind === 'table-row' && !c.indicator);
    expect(projects.map((c) => c.text)).toEqual([
      '类别：产业项目；项目名称：七里海现代农业产业园；建设内容：建设高标准农田3万亩',
      '类别：产业项目；项目名称：宁河智能制造园区；建设内容：新建标准厂房20万平方米',
      '类别：民生项目；项目名称：宁河区第二人民医院；建设内容：新增床位500张',
    ]);
    expect(projects[0]!.section.at(-1)).toBe('2024年重点建设项目');
  });

  it('keeps each extracted text beside the index; every passage quote is verbatim in it', async () => {
    for (const doc of index.documents) {
      const stored = await readExtractedText(extractedDir(stateDir), doc.checksum);
      expect(stored, doc.file).toBeDefined();
      const text = squeeze(stored!);
      for (const c of [...index.chunks].filter((ch) => ch.file === doc.file)) expect(text, `${c.id}`).toContain(squeeze(c.quote));
    }
  });

  it('answers from every format with quotes that are verbatim in the stored extracted text', async () => {
    const questions: Array<[string, string, RegExp]> = [
      ['顺义区2025年森林覆盖率目标是多少？', names.pdf, /35/],
      ['宁河区2024年粮食总产量目标', names.docx, /52/],
      ['东丽区2024年固定资产投资增长目标', names.html, /8/],
      ['静海区常住人口城镇化率2025年目标', names.md, /60/],
      ['顺义区十三五时期城乡居民人均可支配收入年均增长多少', names.pdf, /八点二/],
    ];
    for (const [q, file, number] of questions) {
      const a = await answerer.answer(q);
      expect(a.found, q).toBe(true);
      expect(a.citations.length, q).toBeGreaterThan(0);
      expect(a.citations[0]!.file, q).toBe(file);
      expect(a.answer, q).toMatch(number);
      for (const c of a.citations) {
        const doc = index.document(c.file)!;
        const stored = await readExtractedText(extractedDir(stateDir), doc.checksum);
        expect(squeeze(stored!), q).toContain(squeeze(c.quote));
      }
    }
  });

  it('a district no code names works in follow-ups and in not-found answers', async () => {
    const standalone = answerer.standalone('那顺义区呢？', [{ q: '静海区2025年森林覆盖率目标是多少？' }]);
    expect(standalone).toContain('顺义区');
    const a = await answerer.answer(standalone);
    expect(a.citations[0]?.file).toBe(names.pdf);
    const missing = await answerer.answer('顺义区2019年政府工作报告说了什么？');
    expect(missing.found).toBe(false);
    expect(missing.answer).toMatch(/目前收录.*顺义区（2021年五年规划）/);
    expect(missing.answer).not.toMatch(/天津市顺义区/);
    const topics = new TopicCatalog(index);
    expect(topics.documentsFor('森林覆盖率', { kind: 'district', value: '顺义区', label: '顺义区' }).map((d) => d.file)).toEqual([names.pdf]);
    expect(topics.documentsFor('顺义区生态').map((d) => d.file)).toEqual([names.pdf]);
  });

  it('ingests documents one by one without a manifest, the same as the folder does', async () => {
    const src = sources.find((s) => s.meta.file === names.md)!;
    const doc = await ingestDocument(src, CHUNKING);
    expect(doc.tables[0]!.rows).toHaveLength(3);
  });
});
