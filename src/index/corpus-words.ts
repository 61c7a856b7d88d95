import * as z from 'zod';
import { SectionFile, writeSectionFile } from './binary-file.ts';
import { foldForMatch, words } from './tokenize.ts';

/**
 * The corpus as one sequence of jieba words: each passage's words (precise mode, folded
 * text), then a line break, for the passages up to the first CORPUS_WORDS_MAX_CHARS
 * characters. The corpus lexicon (retrieve/corpus-lexicon.ts) reads abbreviations off it.
 * Segmenting the corpus takes about 0.3 s a million characters and needs jieba's full
 * dictionary, so the build writes the sequence into the index (corpus-words.bin) and a
 * question never waits for it.
 */

/** Corpus characters the sequence covers (work is bounded for very large corpora). */
export const CORPUS_WORDS_MAX_CHARS = 4_000_000;

/** The sequence as numbers into its vocabulary: a few bytes a word instead of a string each. */
export interface CorpusWords {
  ids: Int32Array | Uint16Array;
  vocabulary: string[];
}

export class CorpusWordsBuilder {
  private readonly numbers = new Map<string, number>();
  private readonly vocabulary: string[] = [];
  private ids = new Int32Array(1 << 12);
  private count = 0;
  /** Folded characters read so far. */
  private chars = 0;

  constructor(private readonly maxChars = CORPUS_WORDS_MAX_CHARS) {}

  /** Whether the sequence covers maxChars characters: later passages are not added. */
  get complete(): boolean {
    return this.chars >= this.maxChars;
  }

  /** Adds the next passage's text, unless the sequence is complete. */
  add(text: string): void {
    if (this.complete) return;
    const folded = foldForMatch(text);
    this.chars += folded.length;
    for (const w of words(folded)) this.push(w);
    this.push('\n');
  }

  private push(word: string): void {
    let id = this.numbers.get(word);
    if (id === undefined) {
      id = this.vocabulary.push(word) - 1;
      this.numbers.set(word, id);
    }
    if (this.count === this.ids.length) {
      const grown = new Int32Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.count++] = id;
  }

  finish(): CorpusWords {
    return { ids: this.ids.slice(0, this.count), vocabulary: this.vocabulary };
  }
}

const MAGIC = 'PQAWORD1';
const metaSchema = z.object({
  maxChars: z.number().int().positive(),
  words: z.number().int().nonnegative(),
  vocabulary: z.number().int().nonnegative(),
  /** Bytes a word number takes: 2 when the vocabulary fits in 16 bits. */
  idBytes: z.union([z.literal(2), z.literal(4)]).default(4),
});

/** Writes the sequence to `file` (binary-file.ts): word numbers, and the vocabulary as UTF-8 with offsets. */
export function writeCorpusWords(file: string, sequence: CorpusWords, maxChars = CORPUS_WORDS_MAX_CHARS): void {
  const encoded = sequence.vocabulary.map((w) => Buffer.from(w, 'utf8'));
  const starts = new Uint32Array(encoded.length + 1);
  encoded.forEach((b, i) => (starts[i + 1] = starts[i]! + b.length));
  // Word numbers fit in 16 bits when the vocabulary does (the synthetic 100,000-passage bench: 7,207 words).
  const ids = encoded.length <= 0xffff ? Uint16Array.from(sequence.ids) : sequence.ids;
  writeSectionFile(file, MAGIC, { maxChars, words: sequence.ids.length, vocabulary: encoded.length, idBytes: ids.BYTES_PER_ELEMENT }, [
    { name: 'ids', data: ids },
    { name: 'vocabularyStarts', data: starts },
    { name: 'vocabularyText', data: Buffer.concat(encoded) },
  ]);
}

/** Reads what writeCorpusWords wrote; a plain Error saying what is wrong otherwise. */
export function readCorpusWords(bytes: Uint8Array): { maxChars: number; sequence: CorpusWords } {
  const file = SectionFile.parse(bytes, MAGIC);
  const meta = metaSchema.parse(file.meta);
  const ids = meta.idBytes === 2 ? file.section('ids', Uint16Array, meta.words) : file.section('ids', Int32Array, meta.words);
  const starts = file.section('vocabularyStarts', Uint32Array, meta.vocabulary + 1);
  const text = file.section('vocabularyText', Uint8Array);
  if (starts[meta.vocabulary] !== text.length) throw new Error('the vocabulary does not match its offsets');
  const buffer = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  const vocabulary = Array.from({ length: meta.vocabulary }, (_, i) => buffer.toString('utf8', starts[i], starts[i + 1]));
  for (const id of ids) if (id < 0 || id >= vocabulary.length) throw new Error(`word number ${id} is outside the vocabulary`);
  return { maxChars: meta.maxChars, sequence: { ids, vocabulary } };
}
