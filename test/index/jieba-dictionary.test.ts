import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompiledJiebaDictionary, compileJiebaDictionary, JIEBA_FILES, loadFullJieba, loadJieba, type Segmenter } from '../../src/index/jieba-dictionary.ts';
import { tempDir } from '../helpers/test-index.ts';

/**
 * A text's own dictionary (its words from the compiled dictionary, plus the rest of the
 * total frequency) segments it exactly as jieba's full dictionary does: checked on
 * questions typed formally and casually, on lines of every corpus document, and on odd input.
 */

const CORPUS_DIR = path.resolve(import.meta.dirname, '../../data/corpus');

function texts(): string[] {
  const out = [
    '',
    '武清区2025年森林覆盖率目标是多少？',
    '津南国展周边交通咋配套',
    '😀武清固投 PM2.5 下降到 39 微克/立方米，GDP增长6%！',
    'ＡＢＣ１２３　全角和\t制表符\n换行',
    '4s店和4S店',
  ];
  // Questions as people type them, formally and casually.
  out.push(
    '河北区十四五期间新增就业目标是多少？',
    '津南区2025年城镇化率要到多少',
    '武清区规上工业增加值年均增长多少？',
    '河北区老旧小区改造打算改多少个',
    '津南咋搞海河教育园区',
    '武清高企数量2025年多少家',
    '那河北区呢?',
    '十三五期间PM2.5浓度下降了多少',
    '津南区绿色生态屏障建设有啥进展',
    '武清京津冀协同发展有哪些重点项目？',
    '河北区意式风情区文旅咋发展',
    '武清23年固投预计涨多少',
    '人均可支配收入增长跟经济增长同步吗',
    '津南国展周边交通咋配套',
    '河北区中医治未病服务覆盖率目标',
    '武清区农村人居环境整治三年行动',
  );
  for (const file of readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.txt'))) {
    const lines = readFileSync(path.join(CORPUS_DIR, file), 'utf8').split('\n').filter((l) => l.trim());
    // Every third line of each document: all kinds of passage, in a second or so.
    out.push(...lines.filter((_, i) => i % 3 === 0));
  }
  return out;
}

function sameSegmentation(expected: Segmenter, actual: Segmenter, text: string): void {
  for (const hmm of [true, false]) {
    expect(actual.cut(text, hmm), text).toEqual(expected.cut(text, hmm));
    expect(actual.cutForSearch(text, hmm), text).toEqual(expected.cutForSearch(text, hmm));
    expect(actual.tag(text, hmm), text).toEqual(expected.tag(text, hmm));
  }
}

describe('the compiled jieba dictionary', () => {
  const dir = tempDir('plan-qa-jieba-');
  const file = path.join(dir, 'jieba-dictionary.bin');
  const header = compileJiebaDictionary(file);
  const compiled = CompiledJiebaDictionary.open(file)!;
  const full = loadFullJieba();

  it('gives each text a dictionary that segments, cuts for search and tags it as the full one does', () => {
    expect(header.words).toBe(349_045);
    expect(compiled).toBeDefined();
    const all = texts();
    expect(all.length).toBeGreaterThan(250);
    for (const text of all) sameSegmentation(full, loadJieba(compiled.dictionaryFor(text)), text);
    // Folded text, as tokenize.ts sends it.
    for (const text of all.slice(0, 100)) {
      const folded = text.normalize('NFKC').toLowerCase();
      sameSegmentation(full, loadJieba(compiled.dictionaryFor(folded)), folded);
    }
  });

  it('holds just the words of the text and the rest of the total', () => {
    const lines = compiled.dictionaryFor('森林覆盖率').toString('utf8').trim().split('\n');
    const words = lines.map((l) => l.split(' ')[0]);
    expect(words).toEqual(expect.arrayContaining(['森', '林', '森林', '覆盖', '覆盖率', '森林覆盖率'.slice(0, 2)]));
    expect(words.every((w) => '森林覆盖率'.includes(w!) || w === '\uffff\uffff')).toBe(true);
    const total = lines.reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
    expect(total).toBe(header.total);
  });

  it('keeps the last entry of a word listed twice, as jieba does', () => {
    const source = path.join(dir, 'small-dict.txt');
    const dictionary = '武清 50 ns\n武清区 20 ns\n区 300 n\n目标 100 n\n武清 5 ns\n森林 40 n\n覆盖率 30 n\n覆盖 60 v\n率 90 n\n';
    writeFileSync(source, dictionary);
    const small = path.join(dir, 'small.bin');
    compileJiebaDictionary(small, source);
    const scoped = CompiledJiebaDictionary.open(small, source)!;
    const jieba = loadJieba(Buffer.from(dictionary));
    for (const text of ['武清区森林覆盖率目标', '武清森林', '区目标率']) sameSegmentation(jieba, loadJieba(scoped.dictionaryFor(text)), text);
  });

  it('is not used when compiled from another dictionary, damaged or missing', () => {
    const other = path.join(dir, 'other-dict.txt');
    writeFileSync(other, '武清 50 ns\n');
    const fromOther = path.join(dir, 'other.bin');
    compileJiebaDictionary(fromOther, other);
    expect(CompiledJiebaDictionary.open(fromOther, JIEBA_FILES.dictionary)).toBeUndefined();

    const bytes = readFileSync(file);
    const truncated = path.join(dir, 'truncated.bin');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 10));
    expect(CompiledJiebaDictionary.open(truncated)).toBeUndefined();
    const garbled = path.join(dir, 'garbled.bin');
    writeFileSync(garbled, Buffer.concat([Buffer.from('not a dictionary\n'), bytes.subarray(17)]));
    expect(CompiledJiebaDictionary.open(garbled)).toBeUndefined();
    expect(CompiledJiebaDictionary.open(path.join(dir, 'absent.bin'))).toBeUndefined();
  });
});
