import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { describe, expect, it, vi } from 'vitest';

/**
 * With the dictionary preloaded on a second thread (as `npm run ask` does), segmentation
 * is the same as jieba's in this thread, call for call.
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

  it('cuts, cuts for search and tags as jieba does in this thread', async () => {
    // A fresh copy of the module: an earlier test file in this worker may have loaded the dictionary here.
    vi.resetModules();
    const { nounsOf, preloadSegmenter, searchTokens, segmenterThread, subWords, words } = await import('../../src/index/tokenize.ts');
    preloadSegmenter();
    for (const text of TEXTS) {
      const folded = text.normalize('NFKC').toLowerCase();
      expect(words(text)).toEqual(here.cut(folded, true).map((w) => w.trim()).filter((w) => w && /[\p{L}\p{N}]/u.test(w)));
      expect(searchTokens(text).filter((t) => !t.startsWith('#'))).toEqual(here.cutForSearch(folded, true).map((w) => w.trim()).filter((w) => w && /[\p{L}\p{N}]/u.test(w)));
      expect([...nounsOf(text)]).toEqual([...new Set(here.tag(folded, true).filter(({ word, tag }) => /^(?:n|x|eng|j|i)/.test(tag) && /[\p{L}\p{N}]/u.test(word)).map(({ word }) => word.trim()))]);
    }
    expect(subWords('重点项目')).toEqual(['重点', '项目']);
    expect(segmenterThread()).toBe('second thread');
  });
});
