import { describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/answer.ts';
import { decodeAction, encodeAction, type ButtonAction } from '../../src/bot/callback-data.ts';
import { answerHtml, inlineAnswerHtml, moreResultsHtml, partialHtml, shortSection, sourceHtml } from '../../src/bot/format.ts';
import { answerKeyboard } from '../../src/bot/keyboards.ts';
import { parseHtml } from '../helpers/bot-api-emulator-html.ts';

const parse = (html: string) => parseHtml(html, { strictEntities: true });

const answer: Pick<Answer, 'answer' | 'citations' | 'found'> = {
  found: true,
  answer: '研发投入<强度>达到2.3% & 更高[1]\n建设3个R&D中心[2]\n其它[3]',
  citations: [
    { n: 1, file: 'a.txt', title: '武清区“十四五”规划', section: '第二章 目标 › 第三节 主要指标', quote: '研发投入<强度>达到2.3%', start: 0, end: 10 },
    { n: 2, file: 'a.txt', title: '武清区“十四五”规划', section: '第二章 目标 › 第三节 主要指标', quote: '建设3个R&D中心', start: 20, end: 30 },
    { n: 3, file: 'b.txt', title: '计划报告', section: '', quote: '其它', start: 0, end: 2 },
  ],
};

describe('answer formatting', () => {
  it('escapes everything and lists each source once, compactly', () => {
    const { text, entities } = parse(answerHtml(answer));
    expect(text).toBe('研发投入<强度>达到2.3% & 更高[1]\n建设3个R&D中心[2]\n其它[3]\n\n来源\n[1][2] 《武清区“十四五”规划》 第三节 主要指标\n[3] 《计划报告》');
    expect(entities.map((e) => e.type)).toEqual(['bold', 'italic']);
  });

  it('shows a not-found answer as it is, and a streaming preview as plain text', () => {
    expect(parse(answerHtml({ found: false, answer: '资料中没有<找到>', citations: [] })).text).toBe('资料中没有<找到>');
    // A labelled nearest fact keeps its source, so its [1] points somewhere.
    const near = { found: false, answer: '资料中没有2024年的这项内容。最相近的是武清区（2025年）：其它[1]', citations: [{ ...answer.citations[2]!, n: 1 }] };
    expect(parse(answerHtml(near)).text).toBe(`${near.answer}\n\n来源\n[1] 《计划报告》`);
    expect(parse(partialHtml('一句<b>话')).text).toBe('一句<b>话 …');
    expect(parse(partialHtml('长'.repeat(5000))).text.length).toBeLessThan(4096);
  });

  it('shows an excerpt with its document, section and the quote in bold, in an expandable blockquote', () => {
    const html = sourceHtml({ n: 2, chunkId: 'x', file: 'a.txt', title: '规划<一>', district: '武清区', section: '第一章 › 第二节', excerpt: '前文。森林覆盖率达到13%。后文&', quote: [3, 14] });
    const { text, entities } = parse(html);
    expect(text).toBe('[2] 《规划<一>》\n武清区 · 第一章 › 第二节\n前文。森林覆盖率达到13%。后文&');
    expect(entities.find((e) => e.type === 'expandable_blockquote')).toBeDefined();
    const bold = entities.filter((e) => e.type === 'bold').at(-1)!;
    expect(text.slice(bold.offset, bold.offset + bold.length)).toBe('森林覆盖率达到13%。');
    expect(parse(moreResultsHtml('问题', [])).text).toMatch(/没有更多/);
  });

  it('keeps an inline answer within one message, dropping quotes that do not fit', () => {
    const long = { ...answer, citations: answer.citations.map((c) => ({ ...c, quote: c.quote.repeat(300) })) };
    const { text } = parse(inlineAnswerHtml(long));
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(parse(inlineAnswerHtml(answer)).text).toContain('[1] 研发投入<强度>达到2.3%');
  });

  it('shortens long section paths to their last heading', () => {
    expect(shortSection('第一章 › 第二节 很长'.padEnd(80, '长'))).toHaveLength(40);
  });
});

describe('buttons', () => {
  it('encode within 64 bytes and decode back', () => {
    const actions: ButtonAction[] = [
      { kind: 'source', answerId: 2 ** 40, n: 12 },
      { kind: 'more', answerId: 5 },
      { kind: 'feedback', answerId: 9, value: -1 },
      { kind: 'example', index: 3 },
      { kind: 'targets', district: '滨海新区', page: 2 },
      { kind: 'targets', district: null, page: 0 },
    ];
    for (const a of actions) {
      const data = encodeAction(a);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeAction(data)).toEqual(a);
    }
    expect(decodeAction('zz:1')).toBeUndefined();
  });

  it('puts one button per source, then 更多结果 and feedback with counts', () => {
    const kb = answerKeyboard(7, [1, 2, 3, 4, 5, 6], { more: true, feedback: { up: 2, down: 0 } });
    expect(kb.inline_keyboard.map((row) => row.map((b) => b.text))).toEqual([
      ['来源1', '来源2', '来源3', '来源4', '来源5'],
      ['来源6'],
      ['更多结果', '👍 2', '👎'],
    ]);
  });
});
