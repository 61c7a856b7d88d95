import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeText } from '../../src/ingest/normalize.ts';
import { detectSections, type Section } from '../../src/ingest/structure.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../data/corpus');

function sectionsOf(raw: string): { text: string; sections: Section[] } {
  const n = normalizeText(raw);
  return { text: n.text, sections: detectSections(n.text, { markdownHeadings: n.markdownHeadings }) };
}

function corpusSections(file: string): { text: string; sections: Section[] } {
  return sectionsOf(readFileSync(path.join(CORPUS, file), 'utf8'));
}

/** The path of the section whose body contains `needle`. */
function pathOf(doc: { text: string; sections: Section[] }, needle: string): string[] | undefined {
  const at = doc.text.indexOf(needle);
  expect(at, `"${needle}" in the text`).toBeGreaterThanOrEqual(0);
  return doc.sections.find((s) => s.start <= at && at < s.end)?.path;
}

function expectPartition(text: string, sections: Section[]): void {
  let prevEnd = 0;
  for (const s of sections) {
    expect(s.start).toBeGreaterThanOrEqual(prevEnd);
    expect(s.end).toBeGreaterThanOrEqual(s.start);
    // Whatever lies between two bodies is heading text, never body text.
    expect(text.slice(prevEnd, s.start).split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(1);
    prevEnd = s.end;
  }
  expect(prevEnd).toBe(text.length);
}

describe('detectSections on fixtures', () => {
  it('builds chapter › section paths and gives text before the first heading the empty path (wuqing 14th)', () => {
    const raw =
      '天津市武清区国民经济和社会发展\n\n第十四个五年规划和二三五年\n\n远景目标纲要\n\n\n' +
      '第五章\u2002\u2002打造优良的自然生态,\n\n高标准建设美丽武清\n\n\n牢固树立绿水青山就是金山银山理念。\n\n\n第一节\u2002\u2002强化环境污染治理\n\n\n坚持科学治污、根本治污。\n\n\n' +
      '第二节\u2002\u2002推动水绿环境提升\n\n\n坚持保护优先、自然恢复为主,实现留白、留绿、留璞。\n\n加大湿地保护修复力度。健全巡护执法。\n\n\n第六章\u2002\u2002打造优良的文化生态,\n\n不断增强武清文化软实力\n\n\n坚持马克思主义。';
    const doc = sectionsOf(raw);
    expect(pathOf(doc, '远景目标纲要')).toEqual([]);
    expect(pathOf(doc, '牢固树立')).toEqual(['第五章 打造优良的自然生态,高标准建设美丽武清']);
    expect(pathOf(doc, '加大湿地保护修复力度')).toEqual(['第五章 打造优良的自然生态,高标准建设美丽武清', '第二节 推动水绿环境提升']);
    expect(pathOf(doc, '坚持马克思主义')).toEqual(['第六章 打造优良的文化生态,不断增强武清文化软实力']);
    expectPartition(doc.text, doc.sections);
    const chapter5 = doc.sections.find((s) => s.path.length === 1 && s.path[0]!.startsWith('第五章'))!;
    expect(doc.text.slice(chapter5.headingStart, chapter5.headingStart + 3)).toBe('第五章');
    expect(doc.text.slice(chapter5.subtreeEnd)).toMatch(/^第六章/);
    expect(chapter5.end).toBeLessThan(chapter5.subtreeEnd);
  });

  it('treats 一、 as top level and a run-in (一) clause as its child in reports; 各位代表 is no section (2018 report)', () => {
    const raw =
      '武清区2018年政府工作报告\n\n各位代表:\n\n现在,我代表区人民政府向大会报告政府工作。\n\n二、2018年主要任务\n\n2018年是贯彻党的十九大精神的开局之年。\n\n' +
      '   (一)深入落实重大国家战略,坚定不移推进京津冀协同发展。坚持把协同发展作为政治之责、发展之要。\n\n强化顶层设计和规划引领。立足国家和全市协同发展规划。\n\n' +
      '   ()深入推进绿色发展,努力打造生态武清。牢固树立绿水青山就是金山银山理念。\n\n三、全面加强政府自身建设\n\n深入学习贯彻党的十九大精神。';
    const doc = sectionsOf(raw);
    expect(pathOf(doc, '现在,我代表')).toEqual([]);
    expect(pathOf(doc, '2018年是贯彻')).toEqual(['二、2018年主要任务']);
    expect(pathOf(doc, '坚持把协同发展')).toEqual(['二、2018年主要任务', '(一)深入落实重大国家战略,坚定不移推进京津冀协同发展']);
    expect(pathOf(doc, '强化顶层设计')).toEqual(['二、2018年主要任务', '(一)深入落实重大国家战略,坚定不移推进京津冀协同发展']);
    expect(pathOf(doc, '牢固树立')).toEqual(['二、2018年主要任务', '()深入推进绿色发展,努力打造生态武清']);
    expect(pathOf(doc, '深入学习')).toEqual(['三、全面加强政府自身建设']);
    // The run-in heading's own words are not body text.
    const item = doc.sections.find((s) => s.path[1]?.startsWith('(一)'))!;
    expect(doc.text.slice(item.start)).toMatch(/^坚持把协同发展/);
    expectPartition(doc.text, doc.sections);
  });

  it('puts boxes one level below the preceding heading and ends them at the next heading or at prose', () => {
    const report =
      '# 关于天津市武清区 2022 年国民经济和社会 发展计划执行情况的报告\n\n#### 各位代表:\n\n受区人民政府委托,现将报告提请大会审议。\n\n#### 二、2023年国民经济和社会发展的主要目标任务\n\n2023 年是开局之年。\n\n' +
      '# 专题一: 2023 年经济稳增长主要指标预期\n\n- 1. 地区生产总值同比增长 5%\n- 2. 农业总产值同比增长 3%, 责任单位: 农业农村委\n\n(一)坚持以"3+1+1"工作体系为引领,全力推进"一城、一 带、一商圈"建设。以幸福指标体系为根本指引。\n\n' +
      '## 专题二: 2023 年京津产业新城建设重点任务\n\n- 1. 加强顶层设计。组建工作专班。\n\n# 专题三: 2023 年大运河文化生态带建设重点任务\n\n- 1. 深化顶层设计。成立工作专班。\n- (二)坚持推进京津冀协同发展,不断提升融入和服务水平。 精准承接北京非首都功能。';
    const doc = sectionsOf(report);
    const part = '二、2023年国民经济和社会发展的主要目标任务';
    const item1 = '(一)坚持以"3+1+1"工作体系为引领,全力推进"一城、一带、一商圈"建设';
    expect(pathOf(doc, '受区人民政府委托')).toEqual([]);
    expect(pathOf(doc, '地区生产总值同比增长5%')).toEqual([part, '专题一:2023年经济稳增长主要指标预期']);
    expect(pathOf(doc, '以幸福指标体系')).toEqual([part, item1]);
    expect(pathOf(doc, '加强顶层设计')).toEqual([part, item1, '专题二:2023年京津产业新城建设重点任务']);
    expect(pathOf(doc, '深化顶层设计')).toEqual([part, item1, '专题三:2023年大运河文化生态带建设重点任务']);
    expect(pathOf(doc, '精准承接')).toEqual([part, '(二)坚持推进京津冀协同发展,不断提升融入和服务水平']);
    expectPartition(doc.text, doc.sections);

    const hebei =
      '第二节 打造大意风区龙头增长极\n坚持一流标准,举全区之力将大意风区打造为龙头增长极。\n专栏 4 意风区特色商业街区综合打造工程\n打造全市知名高端服务业聚集区。 依托大意风区突出的区位优势。\n第三节 打造海河沿线';
    const h = sectionsOf(hebei);
    expect(pathOf(h, '打造全市知名')).toEqual(['第二节 打造大意风区龙头增长极']);
    expect(h.sections.some((s) => s.path.includes('专栏4 意风区特色商业街区综合打造工程'))).toBe(true);
  });
});

describe('detectSections on markdown without markers', () => {
  it('uses hash counts for unmarked markdown headings after the title block', () => {
    const raw = '# 某区2024年工作要点\n\n## 说明\n\n本要点经区政府常务会议审议通过。\n\n## 总体要求\n\n坚持稳中求进。\n\n### 重点任务\n\n推进产业升级。\n\n## 保障措施\n\n加强组织领导。';
    const doc = sectionsOf(raw);
    expect(pathOf(doc, '本要点')).toEqual([]);
    expect(pathOf(doc, '坚持稳中求进')).toEqual(['总体要求']);
    expect(pathOf(doc, '推进产业升级')).toEqual(['总体要求', '重点任务']);
    expect(pathOf(doc, '加强组织领导')).toEqual(['保障措施']);
  });
});

describe('detectSections on the corpus', () => {
  it('finds the wuqing 14th chapters and sections', () => {
    const doc = corpusSections('wuqing-14th-five-year-plan.txt');
    expect(pathOf(doc, '坚持保护优先、自然恢复为主')).toEqual(['第五章 打造优良的自然生态,高标准建设美丽武清', '第二节 推动水绿环境提升']);
    expect(pathOf(doc, '人均GDP突破7.5万元')).toEqual(['第一章 全面建成高质量小康社会,开启全面建设京津明珠幸福武清新征程', '第一节 发展基础']);
    const labels = doc.sections.map((s) => s.path[s.path.length - 1]);
    expect(labels.filter((l) => l?.startsWith('第') && l.includes('章'))).toHaveLength(7);
    // TOC entries must not come back as a second set of headings.
    expect(labels.filter((l) => l === '第一节 发展基础')).toHaveLength(1);
    expectPartition(doc.text, doc.sections);
  });

  it('finds hebei headings, including one without a space and one over two lines', () => {
    const doc = corpusSections('hebei-district-14th-five-year-plan-2022-update.txt');
    expect(pathOf(doc, '立足比较优势,深化对接服务')).toEqual(['第三章积极融入京津冀协同发展,打造发展强劲引擎']);
    expect(pathOf(doc, '以海河—北运河、新开河、中山路为纽带')).toEqual([
      '第五章构建区域现代产业体系,打造大意风区龙头增长极',
      '第三节 打造海河沿线、新开河沿线、中山路沿线三大经济带',
    ]);
    expect(pathOf(doc, '健全社区治理机制')).toEqual(['第九章 主动防范和化解风险,打造平安和谐城区', '第六节 创新基层社会治理']);
    expectPartition(doc.text, doc.sections);
  });

  it('finds jinnan headings, including the two-line chapter 2', () => {
    const doc = corpusSections('jinnan-14th-five-year-plan-2022-update.txt');
    expect(pathOf(doc, '锚定二Ο三五年远景目标')).toEqual(['第二章 落实“三绿色一生态”目标思路,开启全面建设社会主义现代化新津南', '第三节 发展目标']);
    expect(pathOf(doc, '建立小站稻产业体系')).toEqual(['第七章 落实乡村振兴战略,高水平推进农业农村现代化', '第二节 扎实推进小站稻振兴计划']);
    expect(doc.sections.filter((s) => s.level === 1)).toHaveLength(10);
  });

  it('finds the 2018 report parts and items', () => {
    const doc = corpusSections('wuqing-2018-government-work-report.txt');
    expect(pathOf(doc, '新增科技型企业1618家')).toEqual(['一、2017年工作回顾']);
    expect(pathOf(doc, '常态化开展清新空气行动')).toEqual(['二、2018年主要任务', '()深入推进绿色发展,努力打造生态武清']);
    expect(pathOf(doc, '驰而不息纠正“四风”')).toEqual(['三、全面加强政府自身建设', '(四)坚持全面从严治党,深入推进党风廉政建设']);
    expect(doc.sections.filter((s) => s.level === 2)).toHaveLength(10);
  });

  it('finds the plan report parts, items and topic boxes', () => {
    const doc = corpusSections('wuqing-2022-plan-report-and-2023-plan.txt');
    expect(pathOf(doc, '新兴动能快速成长')).toEqual(['一、2022年国民经济和社会发展计划执行情况', '(三)聚焦科技引领,产业升级步伐进一步加快']);
    expect(pathOf(doc, '生物医药产业链。')).toEqual([
      '二、2023年国民经济和社会发展的主要目标任务',
      '(三)坚持推进产业高质量发展,建设优势现代产业体系',
      '专题五:2023年重点产业链建设重点任务',
    ]);
    const titles = doc.sections.flatMap((s) => s.path);
    expect(titles.some((t) => t.startsWith('关于天津市武清区'))).toBe(false);
    expect(titles.some((t) => t.startsWith('各位代表'))).toBe(false);
    expect(new Set(titles.filter((t) => t.startsWith('专题'))).size).toBe(8);
  });
});
