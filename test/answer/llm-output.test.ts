import { describe, expect, it } from 'vitest';
import { normalizeMarkers, parseDraftAnswer, partialAnswerText } from '../../src/answer/llm-output.ts';
import { UpstreamMalformedError } from '../../src/errors.ts';

describe('parseDraftAnswer', () => {
  it('reads the JSON answer, fenced or not, with lenient passage numbers', () => {
    const json = '{"answer":"目标为13%【1】。","citations":[{"n":"1","quote":"“2025年13”"}],"found":true}';
    for (const content of [json, '```json\n' + json + '\n```']) {
      expect(parseDraftAnswer(content)).toEqual({ answer: '目标为13%[1]。', citations: [{ n: 1, quote: '2025年13' }], found: true });
    }
  });

  it('infers found from the markers when a json_object reply omits it', () => {
    expect(parseDraftAnswer('{"answer":"A[1]","citations":[]}').found).toBe(true);
    expect(parseDraftAnswer('{"answer":"资料中没有找到相关内容。"}').found).toBe(false);
  });

  it('reads plain text with [n] markers and an 引用 list', () => {
    const d = parseDraftAnswer('到2025年森林覆盖率13%[1]，新造林0.3万亩[1,2]。\n\n引用：\n[1] “2025年13，约束性”\n[2] 新造林0.3万亩');
    expect(d.answer).toBe('到2025年森林覆盖率13%[1]，新造林0.3万亩[1][2]。');
    expect(d.citations).toEqual([
      { n: 1, quote: '2025年13，约束性' },
      { n: 2, quote: '新造林0.3万亩' },
    ]);
    expect(d.found).toBe(true);
  });

  it('takes plain text without markers as "not found"', () => {
    expect(parseDraftAnswer('资料中没有找到相关内容。').found).toBe(false);
  });

  it('refuses truncated or malformed JSON and JSON of another shape, never showing it as text', () => {
    expect(() => parseDraftAnswer('{"answer":"目标为13%[1]。","citations":[{"n":1,')).toThrow(UpstreamMalformedError);
    expect(() => parseDraftAnswer('{"answer":"目标为13%[1]。","citations":[{"n":1,')).toThrow(/invalid JSON/);
    expect(() => parseDraftAnswer('{"text":"hi"}')).toThrow(/wrong shape/);
    expect(() => parseDraftAnswer('  ')).toThrow(/empty answer/);
  });
});

describe('normalizeMarkers', () => {
  it('turns the usual variants into [n]', () => {
    expect(normalizeMarkers('a【1】b［2］c[^3]d[1, 2]e[1、3]f[2-4]')).toBe('a[1]b[2]c[3]d[1][2]e[1][3]f[2][3][4]');
  });
});

describe('partialAnswerText', () => {
  it('shows the answer field of a JSON reply as it streams, decoding escapes and stopping at a cut', () => {
    const full = JSON.stringify({ answer: '第一句“引号”[1]。\n第二句\\反斜杠[2]。', citations: [], found: true });
    const seen: string[] = [];
    for (let i = 1; i <= full.length; i++) seen.push(partialAnswerText(full.slice(0, i)));
    expect(seen.at(-1)).toBe('第一句“引号”[1]。\n第二句\\反斜杠[2]。');
    for (const s of seen) {
      expect('第一句“引号”[1]。\n第二句\\反斜杠[2]。'.startsWith(s)).toBe(true);
      expect(s).not.toContain('{');
    }
  });

  it('shows a plain-text reply up to its 引用 list', () => {
    expect(partialAnswerText('目标13%[1]。\n引用：\n[1] 2025年13')).toBe('目标13%[1]。');
    expect(partialAnswerText('目标13')).toBe('目标13');
  });
});
