import path from 'node:path';
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { describe, expect, it, vi } from 'vitest';
import { compileJiebaDictionary } from '../../src/index/jieba-dictionary.ts';
import { tempDir } from '../helpers/test-index.ts';

/**
 * With segmentation on a second thread (as `npm run ask` does), it is the same as jieba's
 * in this thread, call for call: with the compiled dictionary (per-text dictionaries for
 * the first texts, then the full one) and without it.
 */

const TEXTS = [
  '武清区2025年森林覆盖率目标是多少？',
  '津南国展周边交通咋配套',
  '推进京津冀协同发展，建设家庭医生签约服务和治未病中心。',
  '',
  'PM2.5平均浓度下降到 39 微克/立方米',
];

describe('the segmenter on a second thread', () => {
  const here = Jieba.withDict(dict);

  const expectSameAsHere = (tokenize: typeof import('../../src/index/tokenize.ts'), text: string) => {
    const folded = text.normalize('NFKC').toLowerCase();
    expect(tokenize.words(text)).toEqual(here.cut(folded, true).map((w) => w.trim()).filter((w) => w && /[\p{L}\p{N}]/u.test(w)));
    expect(tokenize.searchTokens(text).filter((t) => !t.startsWith('#'))).toEqual(here.cutForSearch(folded, true).map((w) => w.trim()).filter((w) => w && /[\p{L}\p{N}]/u.test(w)));
    expect([...tokenize.nounsOf(text)]).toEqual([...new Set(here.tag(folded, true).filter(({ word, tag }) => /^(?:n|x|eng|j|i)/.test(tag) && /[\p{L}\p{N}]/u.test(word)).map(({ word }) => word.trim()))]);
  };

  it('cuts, cuts for search and tags as jieba does in this thread, per text and then with the full dictionary', async () => {
    const file = path.join(tempDir('plan-qa-segmenter-'), 'jieba-dictionary.bin');
    compileJiebaDictionary(file);
    // A fresh copy of the module: an earlier test file in this worker may have loaded the dictionary here.
    vi.resetModules();
    const tokenize = await import('../../src/index/tokenize.ts');
    tokenize.preloadSegmenter({ dictionary: file });
    for (const text of TEXTS) expectSameAsHere(tokenize, text);
    expect(tokenize.subWords('重点项目')).toEqual(['重点', '项目']);
    expect(tokenize.segmenterThread()).toBe('second thread');
    expect(tokenize.segmenterDictionary()).toBe('per text');
    // Past the per-text budget the thread loads the full dictionary; segmentation stays the same.
    const long = TEXTS.join('。').repeat(50);
    expect(long.length).toBeGreaterThan(2_000);
    expectSameAsHere(tokenize, long);
    expect(tokenize.segmenterDictionary()).toBe('full');
    for (const text of TEXTS) expectSameAsHere(tokenize, text);
  });

  it('loads the full dictionary on that thread when there is no compiled one', async () => {
    vi.resetModules();
    const tokenize = await import('../../src/index/tokenize.ts');
    tokenize.preloadSegmenter({ dictionary: path.join(tempDir('plan-qa-segmenter-'), 'absent.bin') });
    for (const text of TEXTS) expectSameAsHere(tokenize, text);
    expect(tokenize.segmenterThread()).toBe('second thread');
    expect(tokenize.segmenterDictionary()).toBe('full');
  });
});
