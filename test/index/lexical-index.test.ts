import { describe, expect, it } from 'vitest';
import { IndexCorruptError } from '../../src/errors.ts';
import { LexicalIndex } from '../../src/index/lexical-index.ts';

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

  it('round-trips through JSON and refuses a damaged or mismatched file', () => {
    const json = index.toJSON();
    expect(LexicalIndex.load(json, 3).search('夜市', 1)[0]!.label).toBe(2);
    expect(() => LexicalIndex.load('{oops', 3)).toThrow(IndexCorruptError);
    expect(() => LexicalIndex.load(json, 4)).toThrow(/expected 4 documents, found 3/);
  });
});
