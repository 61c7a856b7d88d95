import { describe, expect, it } from 'vitest';
import { normalizeText, quotableSpans, type NormalizedText } from '../../src/ingest/normalize.ts';

/** Fixtures are copied from data/corpus; \u2002 / \u00a0 are the en spaces and NBSPs the files contain. */

function expectMapsBack(raw: string, norm: NormalizedText): void {
  expect(norm.toSource.length).toBe(norm.text.length + 1);
  for (let i = 0; i < norm.text.length; i++) {
    expect(raw[norm.toSource[i]!], `char ${i} of ${JSON.stringify(norm.text.slice(Math.max(0, i - 5), i + 5))}`).toBe(norm.text[i]);
    if (i > 0) expect(norm.toSource[i]!).toBeGreaterThan(norm.toSource[i - 1]!);
  }
}

function norm(raw: string): string {
  const n = normalizeText(raw);
  expectMapsBack(raw, n);
  return n.text;
}

describe('normalizeText: spaces', () => {
  it('drops spaces next to CJK characters and punctuation (hebei)', () => {
    expect(norm('“ 十四五 ” 时期( 2021-2025 年),是我国全面建成小康社会')).toBe('“十四五”时期(2021-2025年),是我国全面建成小康社会');
    expect(norm('发展质量效益稳步提高。 产业结构、财政结构不断优化,服务业增加值占地区生产总值比重由 2015 年的 61.8% 提高到67.0% ,税收收入')).toBe(
      '发展质量效益稳步提高。产业结构、财政结构不断优化,服务业增加值占地区生产总值比重由2015年的61.8%提高到67.0%,税收收入',
    );
    expect(norm('启动交邑里等 45 片、 3.89 万平方米零散棚户区改造任务')).toBe('启动交邑里等45片、3.89万平方米零散棚户区改造任务');
    expect(norm('促进优质 “ 人才 + 项目 ” 落地落实。')).toBe('促进优质“人才+项目”落地落实。');
  });

  it('drops spaces inside words broken by the PDF (plan report)', () => {
    expect(norm('固定资产投资增长 5%以上,居民人 均可支配收入与经济发展同步增长,完成市下达的节能降耗指标, 主要经济指标力争优于全市平均水平。')).toBe(
      '固定资产投资增长5%以上,居民人均可支配收入与经济发展同步增长,完成市下达的节能降耗指标,主要经济指标力争优于全市平均水平。',
    );
  });

  it('keeps one space between Latin words and numbers', () => {
    expect(norm('空气质量持续居中心城区前列, PM 2.5 平均浓度较 2015 年下降37.8% ,北运河北洋桥断面由劣 V 类水体改善为 III 类水体')).toBe(
      '空气质量持续居中心城区前列,PM 2.5平均浓度较2015年下降37.8%,北运河北洋桥断面由劣V类水体改善为III类水体',
    );
    expect(norm('Beijing  Tianjin   Hebei 2035')).toBe('Beijing Tianjin Hebei 2035');
  });

  it('changes no other character: no NFKC, no punctuation conversion', () => {
    const raw = '地区生产总值增长（%）,二Ο三五年,“十四五”,〔〕数据为五年累计数。';
    expect(norm(raw)).toBe(raw);
  });
});

describe('normalizeText: lines that are not the document', () => {
  it('drops the portal chrome and metadata table (wuqing 14th, 2018 report)', () => {
    const raw =
      '天津市武清区人民政府 2019年12月3日星期二\n\n无障碍 无障碍 简体 | 繁体 长者模式 长者模式\n\n政务公开\u00a0\u00a0>\u00a0\u00a0政府文件\u00a0\u00a0>\u00a0\u00a0区政府\u00a0\u00a0>\u00a0\u00a0武清政\n' +
      '名   \u2002称\u2002:\n武清区人民政府关于印发天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要的通知\n' +
      '发 布 机 构 :\n天津市武清区人民政府\n成 文 日 期 :\n发 文 日 期 :\n有   效  性 :\n有效\n行政规范性文件:\n\n' +
      '武清区人民政府关于印发天津市武清区国民\n\n各镇人民政府、街道办事处,各委、办、局,各有关单位:';
    expect(norm(raw)).toBe('武清区人民政府关于印发天津市武清区国民\n各镇人民政府、街道办事处,各委、办、局,各有关单位:');
    const report =
      'IE版本小于11,为了不影响您的浏览效果,请升级IE版本! x\n当前位置:\n\n武清区2018年政府工作报告\n\n来源:\u00a0 武清区人民政府办公室 发布时间:\u00a02018-01-24 00:00\n\n各位代表:\n\n现在,我代表区人民政府向大会报告政府工作。\n\n附件:\n \n分享到:\n【打印页面】 【关闭页面】';
    expect(norm(report)).toBe('武清区2018年政府工作报告\n各位代表:\n现在,我代表区人民政府向大会报告政府工作。');
    expect(norm('实现“十四五”时期发展目标。\n\n\n\n\n| 政策解读\n| 相关政策\n| 相关报道')).toBe('实现“十四五”时期发展目标。');
  });

  it('drops table-of-contents lines, including an entry whose dot leaders wrap to the next line', () => {
    const raw =
      '二一年三月\n\n\u2002\u2002\n\n\n序 言 …………………………………………………………………5\n\n第一章\u2002\u2002全面建成高质量小康社会,开启全面建设京津明珠幸福武清\n\n新征程…………………………………………………………6\n\n' +
      '第一节\u2002\u2002发展基础………………………………………………………6\n\n第二章\u2002\u2002“十四五”时期武清经济社会发展指导思想和主要目标\n\n………………………………………………………………13\n\n' +
      '第一节  指导思想....................13\n\n\n十四五”时期(20212025年),是天津在全面建成高质量小康社会基础上。';
    const text = norm(raw);
    expect(text).toBe('二一年三月\n十四五”时期(20212025年),是天津在全面建成高质量小康社会基础上。');
    expect(text).not.toMatch(/…{2,}|\.{4,}/);
  });

  it('drops markdown heading hashes and emphasis, and records the headings (plan report)', () => {
    const raw = '# 一、2022年国民经济和社会发展计划执行情况\n\n(二)聚焦项目带动, 高质量发展动能进一步壮大。开放引 **资效果明显。**突出税收贡献导向\n\n#### 专题五: 2023 年重点产业链建设重点任务';
    const n = normalizeText(raw);
    expectMapsBack(raw, n);
    expect(n.text).toBe('一、2022年国民经济和社会发展计划执行情况\n(二)聚焦项目带动,高质量发展动能进一步壮大。开放引资效果明显。突出税收贡献导向\n专题五:2023年重点产业链建设重点任务');
    expect(n.markdownHeadings).toEqual([
      { start: 0, level: 1 },
      { start: n.text.indexOf('专题五'), level: 4 },
    ]);
  });

  it('keeps a list marker with one space and normalizes the item', () => {
    expect(norm('- 4. 批发零售业销售额同比增长 10%、住宿餐饮业营业额同比增长 5%, 责任单位: 商务局\n  - 5. 营利性服务业营业收入同比增长 10%, 责任单位: 发改委')).toBe(
      '- 4.批发零售业销售额同比增长10%、住宿餐饮业营业额同比增长5%,责任单位:商务局\n- 5.营利性服务业营业收入同比增长10%,责任单位:发改委',
    );
    expect(norm('- (二)坚持推进京津冀协同发展,不断提升融入和服务水平。 精准承接北京非首都功能。')).toBe('- (二)坚持推进京津冀协同发展,不断提升融入和服务水平。精准承接北京非首都功能。');
  });
});

describe('normalizeText: line breaks', () => {
  it('rejoins a sentence broken across paragraphs (plan report)', () => {
    const raw = '(三)聚焦科技引领,产业升级步伐进一步加快。新兴动能\n\n快速成长。坚持智能科技和生物医药产业"双高引领", 六大重点 产业链建设扎实推进。';
    expect(norm(raw)).toBe('(三)聚焦科技引领,产业升级步伐进一步加快。新兴动能快速成长。坚持智能科技和生物医药产业"双高引领",六大重点产业链建设扎实推进。');
    const list = '- 2. 创新开发融资模式。研究制定联结机制,在体制、产业、政策、招商、考核等方面出台创新办法,积极探索专项债、PPP\n\n合作等高效机制,为园区开发建设提供有力支撑。\n\n- 3. 全面启动核心区建设。';
    expect(norm(list)).toBe('- 2.创新开发融资模式。研究制定联结机制,在体制、产业、政策、招商、考核等方面出台创新办法,积极探索专项债、PPP合作等高效机制,为园区开发建设提供有力支撑。\n- 3.全面启动核心区建设。');
  });

  it('joins headings split over two lines (wuqing, jinnan, hebei)', () => {
    expect(norm('第一章\u2002\u2002全面建成高质量小康社会,\n\n开启全面建设京津明珠幸福武清新征程\n\n\n十四五”时期,必须准确把握国内外发展环境和条件的深刻变化。')).toBe(
      '第一章\u2002全面建成高质量小康社会,开启全面建设京津明珠幸福武清新征程\n十四五”时期,必须准确把握国内外发展环境和条件的深刻变化。',
    );
    expect(norm('第二章 落实“三绿色一生态”目标思路,\n开启全面建设社会主义现代化新津南\n第一节 指导思想')).toBe('第二章 落实“三绿色一生态”目标思路,开启全面建设社会主义现代化新津南\n第一节 指导思想');
    expect(norm('第三节 打造海河沿线、新开河沿线、中山路沿线\n三大经济带\n以海河 — 北运河、新开河、中山路为纽带,串联沿线重要载体和资源。')).toBe(
      '第三节 打造海河沿线、新开河沿线、中山路沿线三大经济带\n以海河—北运河、新开河、中山路为纽带,串联沿线重要载体和资源。',
    );
    expect(norm('专栏 2 打造大意风区承接北京非首都功能疏解 “ 桥头堡 ”')).toBe('专栏2 打造大意风区承接北京非首都功能疏解“桥头堡”');
  });

  it('leaves table cells, title lines and number-ended paragraphs alone', () => {
    expect(norm('3\n\n工业战略性新兴产业增加值占规模以上工业增加值\n比重(%\n\n24.9\n\n40\n\n预期性')).toBe('3\n工业战略性新兴产业增加值占规模以上工业增加值\n比重(%\n24.9\n40\n预期性');
    expect(norm('天津市武清区国民经济和社会发展\n\n第十四个五年规划和二三五年\n\n远景目标纲要')).toBe('天津市武清区国民经济和社会发展\n第十四个五年规划和二三五年\n远景目标纲要');
    const raw = '维护劳动者合法权益,营造公平就业环境。到2025年,规模以上企业劳动合同签订率达到100%,劳动人事争议仲裁当期结案率保持90%\n\n健全多层次社会保障体系。落实各项社会保障政策。';
    expect(norm(raw)).toBe(raw.replace('\n\n', '\n'));
  });
});

describe('quotableSpans', () => {
  it('splits where non-whitespace characters were removed, and only there', () => {
    const raw = '# 一、执行情况\n\n开放引 **资效果明显。**突出税收贡献导向。新兴动能\n\n快速成长。坚持智能科技和生物医药。\n\n第二段。';
    const n = normalizeText(raw);
    const spans = quotableSpans(n, 0, n.text.length).map(([s, e]) => n.text.slice(s, e));
    expect(spans).toEqual(['一、执行情况\n开放引', '资效果明显。', '突出税收贡献导向。新兴动能快速成长。坚持智能科技和生物医药。\n第二段。']);
    const squeeze = (s: string) => s.replace(/\s/g, '');
    for (const s of spans) expect(squeeze(raw)).toContain(squeeze(s));
  });

  it('returns the whole range when nothing was removed inside it', () => {
    const n = normalizeText('“ 十四五 ” 时期\n\n第二段。');
    expect(quotableSpans(n, 2, n.text.length)).toEqual([[2, n.text.length]]);
  });
});
