import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndexCorruptError } from '../../src/errors.ts';
import { SectionFile, writeSectionFile } from '../../src/index/binary-file.ts';
import { LexicalIndex } from '../../src/index/lexical-index.ts';
import { searchTokens } from '../../src/index/tokenize.ts';

const texts = [
  '武清区 森林覆盖率达到13%，建成区绿化覆盖率稳步提高。',
  '河北区 完善河北区信用信息共享交换平台，打造特色“信易+”场景应用，开展“诚信示范街区”建设。',
  '津南区 以老三街夜市、辛庄镇月星家居夜市为示范发展夜间经济。',
];

describe('LexicalIndex', () => {
  const index = LexicalIndex.build(texts);

  it('ranks the passage with the question words first', () => {
    expect(index.search('诚信建设有哪些做法', 3)[0]!.label).toBe(1);
    expect(index.search('夜间经济示范', 3)[0]!.label).toBe(2);
  });

  it('matches words that jieba splits differently through character bigrams', () => {
    expect(index.search('覆盖率', 3)[0]!.label).toBe(0);
  });

  it('returns nothing for a question of only question words', () => {
    expect(index.search('是多少？', 3)).toEqual([]);
  });

  it('returns only allowed documents', () => {
    expect(index.search('示范', 3).some((h) => h.label === 2)).toBe(true);
    expect(index.search('示范', 3, Uint8Array.from([1, 1, 0])).every((h) => h.label !== 2)).toBe(true);
  });

  it('round-trips through its file and refuses a damaged or mismatched one', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lexical-'));
    try {
      const file = path.join(dir, 'lexical.bin');
      index.write(file);
      const bytes = readFileSync(file);
      const loaded = LexicalIndex.load(bytes, 3);
      for (const q of ['夜市', '诚信建设有哪些做法', '覆盖率', '示范']) expect(loaded.search(q, 3)).toEqual(index.search(q, 3));
      expect(loaded.documentFrequency('示范')).toBe(index.documentFrequency('示范'));
      expect(() => LexicalIndex.load(Buffer.from('{oops'), 3)).toThrow(IndexCorruptError);
      expect(() => LexicalIndex.load(bytes.subarray(0, bytes.length - 9), 3)).toThrow(IndexCorruptError);
      expect(() => LexicalIndex.load(bytes, 4)).toThrow(/expected 4 documents, found 3/);

      // The file carries the term table; a file of an earlier build, without it, loads the same.
      const parsed = SectionFile.parse(bytes, bytes.toString('latin1', 0, 8));
      expect(parsed.has('termSlots')).toBe(true);
      const older = path.join(dir, 'older.bin');
      const names = ['termStarts', 'termText', 'dfs', 'starts', 'postings', 'lengths'] as const;
      writeSectionFile(older, bytes.toString('latin1', 0, 8), parsed.meta, names.map((name) => ({ name, data: parsed.section(name, Uint8Array) })));
      const fromOlder = LexicalIndex.load(readFileSync(older), 3);
      for (const q of ['夜市', '诚信建设有哪些做法', '覆盖率', '示范']) expect(fromOlder.search(q, 3)).toEqual(index.search(q, 3));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the scores of postings whose passage numbers need several bytes', () => {
    // Gaps past 127 and 16,383 take two and three bytes.
    const many = Array.from({ length: 30_000 }, (_, i) => (i === 0 || i === 200 || i === 29_999 ? '湿地公园保护修复' : `道路${i}`));
    const big = LexicalIndex.build(many);
    expect(big.search('湿地公园', 5).map((h) => h.label)).toEqual([0, 200, 29_999]);
    expect(big.documentFrequency('湿地')).toBe(3);
  });

  it('bounds the postings one search reads, leaving out the commonest terms first', () => {
    const docs = Array.from({ length: 30 }, (_, i) => (i < 12 ? `发展${i}` : i === 20 || i === 25 ? '湿地' : `道路${i}`));
    const small = LexicalIndex.build(docs);
    expect(small.search('发展湿地', 5).some((h) => h.label < 12)).toBe(true);
    small.postingsBudget = 10;
    expect(small.search('发展湿地', 5).map((h) => h.label).sort()).toEqual([20, 25]);
  });

  it('counts every token of every passage under its own term, whatever its kind', () => {
    // Words of one and two ideographs and CJK bigrams are looked up by number, the rest by
    // string: ideographs at both ends of U+3400–U+9FFF, compatibility ideographs, Latin, digits.
    const passages = [
      ...texts,
      '㐀㐁和鿿鿾都是字，豈更車也是，PM2.5浓度下降了5个百分点。',
      '水、电、气、路，一张蓝图绘到底；5G基站、ｗｉｆｉ全覆盖。',
      '电力电网电气化，气候气象，路网道路，水利水务水系。',
      '一二三四五，上下左右，东西南北中。',
      // Past a thousand bigrams: the tables grow.
      Array.from({ length: 1_500 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7_919) % 20_000))).join(''),
    ];
    const index = LexicalIndex.build(passages);
    const expected = new Map<string, number>();
    for (const p of passages) for (const t of new Set(searchTokens(p))) expected.set(t, (expected.get(t) ?? 0) + 1);
    expect(expected.size).toBeGreaterThan(1_500);
    for (const [token, df] of expected) expect([token, index.documentFrequency(token)]).toEqual([token, df]);
  });
});
