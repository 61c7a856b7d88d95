import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeDocx } from './docx-writer.ts';
import { layoutPlanPdf, writePdf, type PlanBlock } from './pdf-writer.ts';

/**
 * Documents in every supported format, as people have them, for the ingest and bot tests:
 * - a text PDF (顺义区, a district no code names) with a running header, page numbers, an
 *   indicator table and a sentence broken over a page;
 * - a .docx (宁河区) with an indicator table and a project table with merged cells;
 * - a GBK web page (东丽区) with site navigation around the article (committed, made with iconv);
 * - a .md (静海区) with a Markdown indicator table;
 * - a scanned-like PDF without a text layer, and corrupt files.
 */

// Also compiled into dist/test/helpers/ for the bench: the fixtures stay in the sources' test/fixtures.
export const FIXTURE_DIR = path.resolve(import.meta.dirname, import.meta.dirname.endsWith(path.join('dist', 'test', 'helpers')) ? '../../../test' : '..', 'fixtures/documents');

/** The sentence that the PDF breaks over its first page break. */
export const PDF_BROKEN_SENTENCE =
  '“十三五”时期，顺义区综合实力显著增强，地区生产总值年均增长百分之六点八，城乡居民人均可支配收入年均增长百分之八点二，生态环境质量明显改善，人民群众获得感幸福感安全感不断提升，为开启全面建设社会主义现代化新征程奠定了坚实基础。';

export function shunyiPlanBlocks(extraParagraphs = 0): PlanBlock[] {
  const filler = (i: number) => ({
    paragraph: `第${i + 1}项任务：顺义区将持续推进城市更新和产业升级，完善交通、水务、能源等基础设施，提升公共服务均衡化水平，推动区域协调发展和生态文明建设取得新进展，确保各项任务落地见效。`,
  });
  return [
    { heading: '北京市顺义区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要' },
    { heading: '第一章 发展基础' },
    { paragraph: '顺义区地处首都东北部，是首都国际航空枢纽所在地，也是首都重要的先进制造业基地和现代服务业集聚区。' },
    { paragraph: '近年来，全区坚持新发展理念，统筹推进稳增长、促改革、调结构、惠民生、防风险各项工作，经济社会发展取得显著成效，城市功能品质持续提升，营商环境不断优化。' },
    { paragraph: PDF_BROKEN_SENTENCE },
    { heading: '第二章 发展目标' },
    { paragraph: '到2025年，顺义区地区生产总值年均增长6%左右，森林覆盖率达到35%，研发经费投入强度达到3.0%，基本建成国际一流的航空中心核心区。' },
    { paragraph: '表1 “十四五”时期经济社会发展主要指标' },
    {
      table: [
        ['序号', '指标', '2020年', '2025年', '属性'],
        ['1', '地区生产总值年均增长(%)', '6.6', '6左右', '预期性'],
        ['2', '森林覆盖率(%)', '32.4', '35', '约束性'],
        ['3', '研发经费投入强度(%)', '2.1', '3.0', '预期性'],
      ],
      columns: [0, 48, 260, 345, 430],
    },
    { heading: '第三章 重点任务' },
    { paragraph: '顺义区将建设临空经济示范区，打造新能源智能汽车、第三代半导体、航空航天三大创新型产业集群，到2025年新能源智能汽车产业产值达到2000亿元。' },
    ...Array.from({ length: extraParagraphs }, (_, i) => filler(i)),
  ];
}

export function shunyiPlanPdf(): Buffer {
  return layoutPlanPdf(shunyiPlanBlocks(), { header: '北京市顺义区“十四五”规划纲要', title: '北京市顺义区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要', linesPerPage: 12 });
}

/** A plan of about `pages` pages, for the upload-to-answerable benchmark. */
export function largePlanPdf(pages: number): Buffer {
  const linesPerPage = 40;
  // Each filler paragraph takes three lines.
  return layoutPlanPdf(shunyiPlanBlocks(Math.max(0, Math.floor((pages * linesPerPage - 30) / 3))), { header: '北京市顺义区“十四五”规划纲要', linesPerPage });
}

export function ninghePlanDocx(): Buffer {
  return writeDocx([
    { heading: '宁河区2024年政府工作报告' },
    { paragraph: '——2024年1月10日在宁河区第三届人民代表大会第四次会议上 宁河区人民政府区长' },
    { heading: '一、2023年工作回顾', level: 2 },
    { paragraph: '过去一年，宁河区人民政府在区委的坚强领导下，全区地区生产总值增长4.8%，一般公共预算收入完成28.6亿元，粮食总产量达到52万吨。' },
    { heading: '二、2024年工作安排', level: 2 },
    { paragraph: '2024年全区经济社会发展的主要预期目标是：地区生产总值增长5.5%左右，城镇新增就业8000人。' },
    { paragraph: '2024年主要预期目标' },
    {
      table: [
        ['序号', '指标', '单位', '2023年完成', '2024年目标', '属性'],
        ['1', '地区生产总值增长', '%', '4.8', '5.5左右', '预期性'],
        ['2', '城镇新增就业', '人', '7600', '8000', '预期性'],
        ['3', '粮食总产量', '万吨', '52', '52以上', '约束性'],
      ],
    },
    { paragraph: '2024年重点建设项目' },
    {
      table: [
        ['类别', '项目名称', '建设内容'],
        ['产业项目', '七里海现代农业产业园', '建设高标准农田3万亩'],
        ['', '宁河智能制造园区', '新建标准厂房20万平方米'],
        ['民生项目', '宁河区第二人民医院', '新增床位500张'],
      ],
      mergeFirstColumn: true,
    },
    { paragraph: '各位代表，新的一年，我们将坚定信心、真抓实干，奋力开创宁河高质量发展新局面。' },
  ]);
}

export const JINGHAI_MARKDOWN = `# 天津市静海区国民经济和社会发展第十四个五年规划纲要

## 第一章 发展目标

到2025年，静海区经济实力迈上新台阶，地区生产总值年均增长6.5%左右，常住人口城镇化率达到60%，森林覆盖率达到18%。

表1 静海区“十四五”主要指标

| 序号 | 指标 | 2020年 | 2025年 | 属性 |
|---|---|---|---|---|
| 1 | 地区生产总值年均增长(%) | 3.5 | 6.5左右 | 预期性 |
| 2 | 常住人口城镇化率(%) | 55 | 60 | 预期性 |
| 3 | 森林覆盖率(%) | 15.2 | 18 | 约束性 |

## 第二章 重点任务

静海区将建设中日（天津）健康产业发展合作示范区，推进团泊新城建设，打造健康产业集聚区。
`;

/** Writes the readable fixtures (PDF, DOCX, GBK HTML, Markdown) into `dir`; returns their file names. */
export async function writeFormatCorpus(dir: string): Promise<{ pdf: string; docx: string; html: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const names = { pdf: 'shunyi-14th-five-year-plan.pdf', docx: 'ninghe-2024-government-work-report.docx', html: 'dongli-2024-plan-report.html', md: 'jinghai-14th-five-year-plan.md' };
  await writeFile(path.join(dir, names.pdf), shunyiPlanPdf());
  await writeFile(path.join(dir, names.docx), ninghePlanDocx());
  await copyFile(path.join(FIXTURE_DIR, names.html), path.join(dir, names.html));
  await writeFile(path.join(dir, names.md), JINGHAI_MARKDOWN);
  return names;
}

/** A PDF whose pages carry only an image, like a scan without OCR. */
export function scannedPdf(): Buffer {
  return writePdf([{ image: true }, { image: true }]);
}

export const CORRUPT_PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nthis file was cut short', 'latin1');
export const CORRUPT_DOCX = Buffer.from('PK\u0003\u0004 not really a zip archive', 'latin1');
