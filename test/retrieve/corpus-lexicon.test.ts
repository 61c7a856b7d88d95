import { describe, expect, it } from 'vitest';
import { CorpusLexicon } from '../../src/retrieve/corpus-lexicon.ts';

const corpus = [
  { text: '全年固定资产投资增长5%以上。固定资产投资结构持续优化。' },
  { text: '高新技术企业达到500家，新增高新技术企业80家。提高企业创新能力。' },
  { text: '完成老旧小区改造20个，老旧小区提升改造持续推进。' },
  { text: '大力发展夜间经济，打造夜间经济示范街区。户外广告设施规范管理。' },
];

describe('CorpusLexicon', () => {
  const lexicon = new CorpusLexicon(corpus);

  it('resolves a shortened word to the corpus term that holds its characters in order', () => {
    expect(lexicon.expand('固投')).toBe('固定资产投资');
    expect(lexicon.expand('高企')).toBe('高新技术企业');
    expect(lexicon.expand('老小区')).toBe('老旧小区');
    expect(lexicon.expand('夜经济')).toBe('夜间经济');
  });

  it('does not take characters that straddle two words as the word (提高|企业 is not 高企)', () => {
    expect(lexicon.contains('高企')).toBe(false);
    expect(lexicon.contains('户外')).toBe(true);
    expect(lexicon.contains('固定资产投资')).toBe(true);
  });

  it('leaves words alone that the corpus has, or that nothing in it abbreviates', () => {
    expect(lexicon.expand('户外')).toBeUndefined();
    expect(lexicon.expand('票价')).toBeUndefined();
    expect(lexicon.expand('建了')).toBeUndefined();
  });

  it('knows the full term a short form stands for when the corpus mostly writes it out', () => {
    const lex = new CorpusLexicon([
      { text: '推进棚户区改造。完成棚户区改造3000户。棚户区改造任务全面完成。棚改安置房建成。' },
      { text: '人民群众满意度提高，人民群众获得感增强，人民群众安全感提升。重点人群。' },
    ]);
    expect(lex.fullForm('棚改')).toBe('棚户区改造');
    // 人群 is an ordinary word, not a shortening of 人民群众.
    expect(lex.fullForm('人群')).toBeUndefined();
    expect(lex.fullForm('改造')).toBeUndefined();
  });

  it('reads a bounded amount of text', () => {
    const small = new CorpusLexicon([{ text: '固定资产投资' }, { text: '高新技术企业' }], { maxChars: 3 });
    expect(small.contains('固定资产投资')).toBe(true);
    expect(small.contains('高新技术企业')).toBe(false);
  });
});
