import { describe, expect, it } from 'vitest';
import { comparisonKey } from '../../src/answer/citation-locator.ts';
import { splitAnswerSentences, verifyCitations } from '../../src/answer/citation-verifier.ts';
import type { DraftAnswer } from '../../src/answer/llm-output.ts';
import type { IndexedChunk } from '../../src/index/plan-index.ts';

const doc = { file: 'plan.txt', title: '某区国民经济和社会发展第十四个五年规划', district: '武清区', year: 2021, years: [2021, 2025], kind: '五年规划', checksum: 'x', chunkCount: 4 };

/** A chunk at `start` in a document whose normalized text is `padding + text`. */
function chunk(text: string, start: number, extra: Partial<IndexedChunk> = {}): IndexedChunk {
  return { id: `plan.txt#${start}`, file: 'plan.txt', section: ['第五章 生态', '第二节 绿化'], start, end: start + text.length, text, quote: text, kind: 'text', ordinal: 0, doc, ...extra };
}

const P1 = chunk('开展绿化造林行动。到2025年，新造林0.3万亩，提升改造1.7万亩，城市道路绿地达标率80%以上。', 1000);
const P2 = chunk('推广绿色生活方式。到2025年,建成大型生活垃圾中转站6座,城镇生活垃圾无害化处理率100%。', 2000);
const ROW = chunk('森林覆盖率(%)：2020年12.07，2025年13，约束性', 3000, {
  kind: 'table-row',
  quote: '13 森林覆盖率(%) 12.07 13 约束性',
  end: 3040,
  indicator: {
    file: 'plan.txt', district: '武清区', table: '主要指标', seq: 13, name: '森林覆盖率', unit: '%',
    values: [{ column: '2020', value: '12.07' }, { column: '2025', value: '13' }],
    attribute: '约束性', notes: [], start: 3000, end: 3040, cells: ['13', '森林覆盖率(%', '12.07', '13', '约束性'],
  },
});
const passages = [P1, P2, ROW];

/** The document text a citation claims to quote, from the chunks we built. */
function docSlice(start: number, end: number): string {
  const c = passages.find((p) => p.start <= start && end <= p.start + p.text.length)!;
  return c.text.slice(start - c.start, end - c.start);
}

const draft = (answer: string, citations: DraftAnswer['citations'], found = true): DraftAnswer => ({ answer, citations, found });

describe('verifyCitations', () => {
  it('keeps a verbatim quote and gives its exact document offsets', () => {
    const v = verifyCitations(draft('到2025年新造林0.3万亩[1]。', [{ n: 1, quote: '到2025年，新造林0.3万亩' }]), passages);
    expect(v.answer).toBe('到2025年新造林0.3万亩[1]。');
    expect(v.citations).toHaveLength(1);
    const c = v.citations[0]!;
    expect(c).toMatchObject({ n: 1, file: 'plan.txt', title: doc.title, section: '第五章 生态 › 第二节 绿化', quote: '到2025年，新造林0.3万亩' });
    expect(docSlice(c.start, c.end)).toBe(c.quote);
    expect(v.report).toMatchObject({ verified: 1, repaired: 0, removed: 0 });
  });

  it('compares whitespace- and width-insensitively, and quotes the document, not the model', () => {
    const v = verifyCitations(draft('新造林０.３万亩[1]。', [{ n: 1, quote: '到２０２５年 ,  新造林０.３万亩' }]), passages);
    expect(v.citations[0]!.quote).toBe('到2025年，新造林0.3万亩');
    expect(docSlice(v.citations[0]!.start, v.citations[0]!.end)).toBe(v.citations[0]!.quote);
  });

  it('moves a correct quote cited under the wrong number to its passage', () => {
    const v = verifyCitations(draft('建成大型生活垃圾中转站6座[1]。', [{ n: 1, quote: '建成大型生活垃圾中转站6座' }]), passages);
    expect(v.report).toMatchObject({ verified: 0, repaired: 1 });
    expect(v.citations[0]!.start).toBeGreaterThanOrEqual(2000);
    expect(v.answer).toBe('建成大型生活垃圾中转站6座[1]。');
  });

  it('repairs a citation to a passage number that does not exist, and drops a fabricated one', () => {
    const v = verifyCitations(
      draft('中转站6座[9]。全区建成999个智慧农场[7]。', [
        { n: 9, quote: '建成大型生活垃圾中转站6座' },
        { n: 7, quote: '全区建成999个智慧农场' },
      ]),
      passages,
    );
    expect(v.answer).toBe('中转站6座[1]。');
    expect(v.citations.map((c) => c.quote)).toEqual(['建成大型生活垃圾中转站6座']);
    expect(v.report).toMatchObject({ repaired: 1, removed: 1, sentencesRemoved: 1 });
  });

  it('removes a sentence left with a number that none of its cited passages has', () => {
    const v = verifyCitations(
      draft('新造林0.3万亩[1]。城市道路绿地达标率95%以上[1]。', [{ n: 1, quote: '新造林0.3万亩' }, { n: 1, quote: '城市道路绿地达标率80%以上' }]),
      passages,
    );
    expect(v.answer).toBe('新造林0.3万亩[1]。');
    expect(v.citations).toHaveLength(1);
    expect(v.report.sentencesRemoved).toBe(1);
  });

  it('drops uncited sentences with numbers, keeps uncited connecting text', () => {
    const v = verifyCitations(draft('根据规划：\n全区GDP增长50%。\n新造林0.3万亩[1]。', [{ n: 1, quote: '新造林0.3万亩' }]), passages);
    expect(v.answer).toBe('根据规划：\n新造林0.3万亩[1]。');
    expect(v.citedSentences).toBe(1);
  });

  it('renumbers citations 1..n in order of appearance and reuses a number for the same quote', () => {
    const v = verifyCitations(
      draft('中转站6座[2]。新造林0.3万亩[1]。另外中转站6座[2][2]。', [
        { n: 1, quote: '新造林0.3万亩' },
        { n: 2, quote: '建成大型生活垃圾中转站6座' },
      ]),
      passages,
    );
    expect(v.answer).toBe('中转站6座[1]。新造林0.3万亩[2]。另外中转站6座[1]。');
    expect(v.citations.map((c) => c.n)).toEqual([1, 2]);
    expect(v.citations[0]!.start).toBeGreaterThanOrEqual(2000);
  });

  it('ties a marker without a quote to the passage sentence closest to the claim', () => {
    const v = verifyCitations(draft('城镇生活垃圾无害化处理率将达到100%[2]。', []), passages);
    expect(v.report.derived).toBe(1);
    expect(v.citations[0]!.quote).toContain('城镇生活垃圾无害化处理率100%');
    expect(docSlice(v.citations[0]!.start, v.citations[0]!.end)).toBe(v.citations[0]!.quote);
  });

  it('ties a sentence the model left unmarked to the given quote it clearly rests on', () => {
    const v = verifyCitations(draft('到2025年新造林0.3万亩。全区GDP增长50%。', [{ n: 1, quote: '到2025年，新造林0.3万亩' }]), passages);
    expect(v.answer).toBe('到2025年新造林0.3万亩[1]。');
    expect(v.report).toMatchObject({ attached: 1, sentencesRemoved: 1 });
  });

  it('quotes a rebuilt table row as its original cells, whichever form the model quoted', () => {
    for (const quote of ['2025年13，约束性', '森林覆盖率(%) 12.07 13']) {
      const v = verifyCitations(draft('2025年森林覆盖率目标为13%[3]。', [{ n: 3, quote }]), passages);
      expect(v.citations[0]).toMatchObject({ quote: ROW.quote, start: ROW.start, end: ROW.end });
    }
  });

  it('never lets a quote cross a gap where normalization dropped source text', () => {
    // The source had "**" markers between 行动。 and 到2025年 that normalization removed.
    const gapped = chunk(P1.text, 1000, { spans: [[1000, 1009], [1009, 1000 + P1.text.length]] });
    const v = verifyCitations(draft('开展绿化造林行动，到2025年新造林0.3万亩[1]。', [{ n: 1, quote: '开展绿化造林行动。到2025年，新造林0.3万亩' }]), [gapped]);
    const c = v.citations[0]!;
    expect(c.start >= 1009 || c.end <= 1009).toBe(true);
    expect(c.quote).toBe('到2025年，新造林0.3万亩');
  });

  it('widens a very short quote to its sentence', () => {
    const v = verifyCitations(draft('达标率80%[1]。', [{ n: 1, quote: '80%' }]), passages);
    expect(v.citations[0]!.quote).toBe('到2025年，新造林0.3万亩，提升改造1.7万亩，城市道路绿地达标率80%以上。');
  });

  it('accepts a quote the model elided with an ellipsis, quoting the whole span', () => {
    const v = verifyCitations(draft('到2025年新造林0.3万亩，达标率80%以上[1]。', [{ n: 1, quote: '到2025年，新造林0.3万亩……城市道路绿地达标率80%以上' }]), passages);
    expect(v.citations[0]!.quote).toBe('到2025年，新造林0.3万亩，提升改造1.7万亩，城市道路绿地达标率80%以上');
  });

  it('drops a quote with one character changed', () => {
    const v = verifyCitations(draft('新造林0.4万亩[1]。', [{ n: 1, quote: '到2025年，新造林0.4万亩' }]), passages);
    expect(v.citations).toEqual([]);
    expect(v.answer).toBe('');
    expect(v.report.removed).toBe(1);
  });
});

describe('number roles', () => {
  const row = (answer: string) => verifyCitations(draft(answer, [{ n: 3, quote: '森林覆盖率(%) 12.07 13 约束性' }]), passages).answer;

  it("removes a claim that gives an indicator row's base value the target year's role, or the reverse", () => {
    expect(row('2025年森林覆盖率目标为12.07%[3]。')).toBe('');
    expect(row('2020年森林覆盖率为13%[3]。')).toBe('');
    expect(row('森林覆盖率目标为12.07%[3]。')).toBe('');
    expect(row('森林覆盖率由13%提高到12.07%[3]。')).toBe('');
    expect(row('“十四五”末森林覆盖率达到12.07%[3]。')).toBe('');
  });

  it('keeps claims that give each value its own role', () => {
    for (const ok of [
      '2025年森林覆盖率目标为13%[3]。',
      '森林覆盖率2020年为12.07%，2025年目标13%[3]。',
      '森林覆盖率由12.07%提高到13%[3]。',
      '森林覆盖率从2020年的12.07%提高到2025年的13%[3]。',
      '森林覆盖率目标为13%，是约束性指标[3]。',
      '“十三五”末森林覆盖率为12.07%[3]。',
    ])
      expect(row(ok)).toBe(ok.replace('[3]', '[1]'));
  });

  it('removes a number a text passage gives to 十三五 when the claim gives it to 十四五', () => {
    const past = chunk('“十三五”时期，全区新建公园5个，改造提升绿地120公顷。', 4000);
    const claim = (answer: string) => verifyCitations(draft(answer, [{ n: 1, quote: '全区新建公园5个' }]), [past]).answer;
    expect(claim('“十四五”期间全区新建公园5个[1]。')).toBe('');
    expect(claim('到2025年全区新建公园5个[1]。')).toBe('');
    expect(claim('“十三五”时期全区新建公园5个[1]。')).toBe('“十三五”时期全区新建公园5个[1]。');
    expect(claim('全区新建公园5个[1]。')).toBe('全区新建公园5个[1]。');
  });

  it("removes a number a text passage gives to one year when the claim gives it to another", () => {
    const report = chunk('2022年，全区新建口袋公园12个，完成绿化面积80公顷。', 5000);
    const claim = (answer: string) => verifyCitations(draft(answer, [{ n: 1, quote: '全区新建口袋公园12个' }]), [report]).answer;
    expect(claim('2023年全区新建口袋公园12个[1]。')).toBe('');
    expect(claim('2022年全区新建口袋公园12个[1]。')).toBe('2022年全区新建口袋公园12个[1]。');
    expect(claim('十四五期间全区新建口袋公园12个[1]。')).toBe('十四五期间全区新建口袋公园12个[1]。');
  });
});

describe('splitAnswerSentences', () => {
  it('keeps markers after the full stop with their sentence, and list numbers and decimals intact', () => {
    expect(splitAnswerSentences('A是12.07[1]。B。[2]C')).toEqual(['A是12.07[1]。', 'B。[2]', 'C']);
    expect(splitAnswerSentences('1. 第一项[1]\n2. 第二项[2]')).toEqual(['1. 第一项[1]\n', '2. 第二项[2]']);
    expect(splitAnswerSentences('The target is 13%. [1] Next.')).toEqual(['The target is 13%. [1] ', 'Next.']);
  });
});

describe('comparisonKey', () => {
  it('folds width and drops whitespace', () => {
    expect(comparisonKey('ＰＭ２.５ 浓度\n下降')).toBe('PM2.5浓度下降');
  });
});
