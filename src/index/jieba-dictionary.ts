import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Jieba } from '@node-rs/jieba';

/**
 * Owner of @node-rs/jieba's addon and dictionary (tokenize.ts segments with them; its
 * second thread, segmenter-thread.ts, loads them the same way).
 *
 * Loading jieba's full dictionary (349,045 words) takes about 150 ms of CPU, most of the
 * dictionary's share of a cold `npm run ask`, which segments about 70 characters. jieba's
 * segmentation of a text depends only on the dictionary words that occur in that text and
 * on the sum of all words' frequencies (each word's weight is log(freq / total)). So a
 * dictionary of just those words, plus one word that never occurs holding the rest of the
 * total, segments, cuts for search and tags that text exactly as the full dictionary does.
 * The compiled dictionary (written when the project is built) lists jieba's words sorted by
 * their UTF-8 bytes with an offset table, so the words within a text are found by binary
 * search in a few microseconds a character, without building the full dictionary.
 */

const require = createRequire(import.meta.url);
/** The addon and its dictionary file, found the way Node finds them. */
export const JIEBA_FILES = { addon: require.resolve('@node-rs/jieba'), dictionary: require.resolve('@node-rs/jieba/dict.txt') };

/** What tokenize.ts asks of jieba. */
export type Segmenter = Pick<Jieba, 'cut' | 'cutForSearch' | 'tag'>;

/** jieba with the given dictionary text (`word freq tag` lines). The addon loads on first use, not at import. */
export function loadJieba(dictionary: Buffer): Segmenter {
  const { Jieba } = require(JIEBA_FILES.addon) as typeof import('@node-rs/jieba');
  return Jieba.withDict(dictionary);
}

/** jieba with its full dictionary: 150–200 ms of CPU. */
export function loadFullJieba(): Segmenter {
  return loadJieba(readFileSync(JIEBA_FILES.dictionary));
}

const MAGIC = 'plan-qa-bot jieba dictionary 1\n';
/** The word that holds the frequency of every word not in a text: U+FFFF is a noncharacter, absent from real text. */
const REST_WORD = '\uffff\uffff';

interface Header {
  /** The dictionary compiled: its size and its package's version (a different one is not used). */
  source: { bytes: number; version: string };
  words: number;
  /** Sum of all words' frequencies, as jieba computes it. */
  total: number;
  /** Longest word, in characters. */
  longest: number;
}

function sourceIdentity(dictionaryFile: string): Header['source'] {
  const pkg = JSON.parse(readFileSync(path.join(path.dirname(JIEBA_FILES.addon), 'package.json'), 'utf8')) as { version: string };
  return { bytes: statSync(dictionaryFile).size, version: pkg.version };
}

/**
 * Writes the compiled form of jieba's dictionary to `file` (atomically): the magic line,
 * a JSON header line, padding to 4 bytes, the entries' offsets (words + 1, Uint32 little
 * endian, relative to the entries) and the entries (`word freq tag\n`, sorted by word bytes).
 */
export function compileJiebaDictionary(file: string, dictionaryFile = JIEBA_FILES.dictionary): Header {
  const lines = readFileSync(dictionaryFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const entries = new Map<string, Buffer>();
  let total = 0;
  let longest = 0;
  for (const line of lines) {
    const [word, freq, tag] = line.split(/\s+/);
    const f = Number(freq);
    if (!word || !Number.isInteger(f) || f < 0) throw new Error(`jieba dictionary: unexpected line ${JSON.stringify(line)} in ${dictionaryFile}`);
    // jieba keeps the last entry of a word listed twice.
    const previous = entries.get(word);
    if (previous) total -= Number(previous.toString('utf8').split(' ')[1]);
    entries.set(word, Buffer.from(`${word} ${f}${tag ? ` ${tag}` : ''}\n`));
    total += f;
    longest = Math.max(longest, [...word].length);
  }
  const sorted = [...entries].map(([word, line]) => ({ key: Buffer.from(word), line })).sort((a, b) => Buffer.compare(a.key, b.key));
  const header: Header = { source: sourceIdentity(dictionaryFile), words: sorted.length, total, longest };
  const head = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`);
  const padded = Buffer.concat([head, Buffer.alloc((4 - (head.length % 4)) % 4, 0x20)]);
  const offsets = new Uint32Array(sorted.length + 1);
  let at = 0;
  sorted.forEach(({ line }, i) => {
    offsets[i] = at;
    at += line.length;
  });
  offsets[sorted.length] = at;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat([padded, Buffer.from(offsets.buffer), ...sorted.map((s) => s.line)]));
  renameSync(temp, file);
  return header;
}

/** The compiled dictionary, read whole (6.5 MB, a few milliseconds from the page cache). */
export class CompiledJiebaDictionary {
  private constructor(
    private readonly header: Header,
    private readonly offsets: Uint32Array,
    private readonly entries: Buffer,
  ) {}

  /**
   * The compiled dictionary in `file`, or undefined when it is missing, damaged, or
   * compiled from another dictionary than the installed one (jieba then loads its own).
   */
  static open(file: string, dictionaryFile = JIEBA_FILES.dictionary): CompiledJiebaDictionary | undefined {
    try {
      const bytes = readFileSync(file);
      if (bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
      const end = bytes.indexOf(0x0a, MAGIC.length);
      const header = JSON.parse(bytes.toString('utf8', MAGIC.length, end)) as Header;
      const source = sourceIdentity(dictionaryFile);
      if (header.source?.bytes !== source.bytes || header.source.version !== source.version) return undefined;
      if (!Number.isInteger(header.words) || !Number.isInteger(header.total) || !Number.isInteger(header.longest)) return undefined;
      const start = Math.ceil((end + 1) / 4) * 4;
      const tableBytes = (header.words + 1) * 4;
      if (start + tableBytes > bytes.length) return undefined;
      // A copy aligned for the Uint32Array (the file's buffer may start anywhere in Node's pool).
      const offsets = new Uint32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + tableBytes));
      const entries = bytes.subarray(start + tableBytes);
      if (offsets[header.words] !== entries.length) return undefined;
      return new CompiledJiebaDictionary(header, offsets, entries);
    } catch {
      return undefined;
    }
  }

  /**
   * Compares entry i's word with bytes [from, to) of `text`: negative when the word sorts
   * first, 0 when the word starts with those bytes, positive when it sorts after.
   */
  private comparePrefix(i: number, text: Buffer, from: number, to: number): number {
    let a = this.offsets[i]!;
    for (let b = from; b < to; a++, b++) {
      const c = this.entries[a]!;
      // The word ended (a space follows it) before the bytes did: a shorter word sorts first.
      if (c === 0x20) return -1;
      if (c !== text[b]) return c - text[b]!;
    }
    return 0;
  }

  /** First entry in [lo, hi) not sorting before the prefix text[from, to), and first sorting after it. */
  private range(lo: number, hi: number, text: Buffer, from: number, to: number): [number, number] {
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.comparePrefix(mid, text, from, to) < 0) a = mid + 1;
      else b = mid;
    }
    let c = a;
    b = hi;
    while (c < b) {
      const mid = (c + b) >>> 1;
      if (this.comparePrefix(mid, text, from, to) <= 0) c = mid + 1;
      else b = mid;
    }
    return [a, c];
  }

  /**
   * A dictionary for segmenting `text` as the full one does: the entries of the words that
   * occur in it, and a word that never occurs holding the rest of the total frequency.
   */
  dictionaryFor(text: string): Buffer {
    const bytes = Buffer.from(text);
    const found = new Set<number>();
    let sum = 0;
    for (let from = 0; from < bytes.length; from++) {
      if ((bytes[from]! & 0xc0) === 0x80) continue; // inside a character
      let lo = 0;
      let hi = this.header.words;
      let to = from;
      for (let chars = 0; chars < this.header.longest && to < bytes.length; chars++) {
        do to++;
        while (to < bytes.length && (bytes[to]! & 0xc0) === 0x80);
        [lo, hi] = this.range(lo, hi, bytes, from, to);
        if (lo === hi) break; // no word starts with these characters
        // The word equal to the prefix, if any, sorts first among those that start with it.
        if (this.entries[this.offsets[lo]! + (to - from)] === 0x20 && !found.has(lo)) {
          found.add(lo);
          sum += this.frequency(lo, to - from);
        }
      }
    }
    const parts: Buffer[] = [];
    for (const i of found) parts.push(this.entries.subarray(this.offsets[i], this.offsets[i + 1]));
    parts.push(Buffer.from(`${REST_WORD} ${Math.max(1, this.header.total - sum)} x\n`));
    return Buffer.concat(parts);
  }

  private frequency(i: number, wordBytes: number): number {
    let at = this.offsets[i]! + wordBytes + 1;
    let f = 0;
    for (let c = this.entries[at]!; c >= 0x30 && c <= 0x39; c = this.entries[++at]!) f = f * 10 + (c - 0x30);
    return f;
  }
}
