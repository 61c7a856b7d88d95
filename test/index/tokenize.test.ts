import { describe, expect, it } from 'vitest';
import { bigramToken, searchTokenParts, searchTokens } from '../../src/index/tokenize.ts';

describe('searchTokenParts', () => {
  it('numbers each CJK bigram of the folded text, at the ends of the ideograph ranges too, and bigramToken gives its token', () => {
    // U+3400 and U+4DB5 (extension A), U+9FFF, U+FA0E and U+FA0F (compatibility-block ideographs NFKC keeps), and one NFKC folds (U+F900).
    const text = '㐀㐁 䶵一 鿿﨎﨏 a一b 豈更 武清区森林覆盖率';
    const folded = text.normalize('NFKC').toLowerCase();
    const expected = (folded.match(/[\u3400-\u9fff\uf900-\ufaff]{2,}/g) ?? []).flatMap((run) => Array.from({ length: run.length - 1 }, (_, i) => '#' + run.slice(i, i + 2)));
    const { words, bigrams } = searchTokenParts(text);
    expect(bigrams.map(bigramToken)).toEqual(expected);
    expect(bigrams.every((b) => Number.isInteger(b) && b >= 0 && b < 2 ** 30)).toBe(true);
    expect(new Set(bigrams).size).toBe(new Set(expected).size);
    expect(searchTokens(text)).toEqual([...words, ...expected]);
    expect(words).toEqual(expect.arrayContaining(['武清', '森林']));
  });
});
