import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorpusWordsBuilder, readCorpusWords, writeCorpusWords, type CorpusWords } from '../../src/index/corpus-words.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { foldForMatch, words } from '../../src/index/tokenize.ts';
import { CorpusLexicon } from '../../src/retrieve/corpus-lexicon.ts';
import { buildTestIndex, tempDir } from '../helpers/test-index.ts';

/** The corpus' word sequence as the build writes it into the index, and as the lexicon reads it. */

const asWords = ({ ids, vocabulary }: CorpusWords) => Array.from(ids, (id) => vocabulary[id]);

describe('the corpus word sequence', () => {
  it('is each passage\'s folded words and a line break, up to the character bound, and reads back as written', () => {
    const texts = ['到2025年，森林覆盖率达到13%。', '推进 固定资产投资 稳定增长', '高新技术企业 数量 翻番', '这一段超出了界限'];
    const builder = new CorpusWordsBuilder(25);
    for (const t of texts) builder.add(t);
    expect(builder.complete).toBe(true);
    const sequence = builder.finish();
    // The passage that crosses the bound (18 + 12 folded characters) is in; the next is not.
    const expected = texts.slice(0, 2).flatMap((t) => [...words(foldForMatch(t)), '\n']);
    expect(asWords(sequence)).toEqual(expected);
    expect(new Set(sequence.vocabulary).size).toBe(sequence.vocabulary.length);

    const file = path.join(tempDir('plan-qa-words-'), 'corpus-words.bin');
    writeCorpusWords(file, sequence, 25);
    const read = readCorpusWords(readFileSync(file));
    expect(read.maxChars).toBe(25);
    expect(asWords(read.sequence)).toEqual(expected);

    const bytes = readFileSync(file);
    expect(() => readCorpusWords(bytes.subarray(0, bytes.length - 4))).toThrow();
    // A word number outside the vocabulary.
    const damaged = Buffer.from(bytes);
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(8))) as { sections: Array<{ name: string; offset: number }> };
    damaged.writeInt32LE(1 << 30, header.sections.find((x) => x.name === 'ids')!.offset);
    expect(() => readCorpusWords(damaged)).toThrow(/outside the vocabulary/);
    writeFileSync(file, 'not a word file');
    expect(() => readCorpusWords(readFileSync(file))).toThrow();
  });

  it('keeps word numbers past 16 bits when the vocabulary needs them', () => {
    const vocabulary = Array.from({ length: 70_000 }, (_, i) => `词${i}`);
    const ids = Int32Array.from([0, 65_535, 65_536, 69_999, 1]);
    const file = path.join(tempDir('plan-qa-words-'), 'corpus-words.bin');
    writeCorpusWords(file, { ids, vocabulary });
    const read = readCorpusWords(readFileSync(file)).sequence;
    expect(Array.from(read.ids)).toEqual(Array.from(ids));
    expect(read.vocabulary[69_999]).toBe('词69999');
  });

  describe('in the index of the shipped corpus', () => {
    const loaded = buildTestIndex();
    afterAll(async () => (await loaded).cleanup());

    it('is what the lexicon would make from the passages, and the lexicon expands the same with it', async () => {
      const { index } = await loaded;
      const stored = index.corpusWords();
      expect(stored).toBeDefined();
      const builder = new CorpusWordsBuilder();
      for (const chunk of index.chunks) builder.add(chunk.text);
      expect(asWords(stored!.sequence)).toEqual(asWords(builder.finish()));

      let reads = 0;
      const withStored = new CorpusLexicon(index.chunks, {}, () => (reads++, index.corpusWords()));
      const own = new CorpusLexicon(index.chunks);
      for (const w of ['固投', '高企', '老小区', '夜经济', '国展', '棚改', '森林']) {
        expect(withStored.expand(w)).toBe(own.expand(w));
        expect(withStored.fullForm(w)).toBe(own.fullForm(w));
      }
      expect(withStored.expand('固投')).toBe('固定资产投资');
      expect(reads).toBe(1);
    });

    it('is read when first asked for, and not used when the file changed after the index was opened', async () => {
      const { config } = await loaded;
      const dir = await currentBuildDir(config.index.stateDir);
      const changed = await loadPlanIndex(config.index, config.llm);
      const file = path.join(dir, 'corpus-words.bin');
      const bytes = readFileSync(file);
      try {
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
        writeFileSync(file, bytes);
        expect(changed.corpusWords()).toBeUndefined();
        // The lexicon then makes the sequence itself.
        expect(new CorpusLexicon(changed.chunks, {}, () => changed.corpusWords()).expand('固投')).toBe('固定资产投资');
      } finally {
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
        writeFileSync(file, bytes);
        await changed.close();
      }
    });
  });
});
