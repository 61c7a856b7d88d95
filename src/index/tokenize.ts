import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Jieba } from '@node-rs/jieba';

/**
 * Owner of @node-rs/jieba and of the text folding used for matching. Folding (NFKC,
 * lower case, no whitespace) applies to index keys and queries only, never to quotes.
 */

/** What this module asks of jieba. */
type Segmenter = Pick<Jieba, 'cut' | 'cutForSearch' | 'tag'>;

const require = createRequire(import.meta.url);
/** The addon and its dictionary file, found the way Node finds them. */
const JIEBA = { addon: require.resolve('@node-rs/jieba'), dict: require.resolve('@node-rs/jieba/dict.txt') };

/**
 * jieba with its dictionary, in this thread. Loading the dictionary takes 150–200 ms of
 * CPU: on first use, not at import (nor the addon, nor the package's dict module, which
 * reads two dictionary files, 11 MB, when imported).
 */
function loadHere(): Segmenter {
  const { Jieba } = require(JIEBA.addon) as typeof import('@node-rs/jieba');
  return Jieba.withDict(readFileSync(JIEBA.dict));
}

let jieba: Segmenter | undefined;
function segmenter(): Segmenter {
  jieba ??= loadHere();
  return jieba;
}

/**
 * The dictionary loaded on a second thread while this one does other start-up work
 * (reading the index): for a process that starts, answers and exits (`npm run ask`), the
 * dictionary's load is then off the critical path. Calls are synchronous, as jieba's own
 * are: the request goes over a MessagePort, this thread waits on a shared flag, and takes
 * the reply with receiveMessageOnPort (about 0.05 ms a call; a question makes about ten).
 * The worker's code is a string so that it runs the same from the sources (tsx, vitest)
 * and from dist/. A worker that fails or stops answering is replaced by the in-thread
 * dictionary: segmentation never depends on it.
 */
const SEGMENTER_THREAD = `
const { workerData } = require('node:worker_threads');
const { port, flag, jiebaPath, dictPath } = workerData;
let jieba, failure;
try {
  const { Jieba } = require(jiebaPath);
  jieba = Jieba.withDict(require('node:fs').readFileSync(dictPath));
} catch (err) {
  failure = String(err && err.message || err);
}
port.on('message', ({ op, text, hmm }) => {
  let reply;
  try {
    reply = failure ? { error: failure } : { result: jieba[op](text, hmm) };
  } catch (err) {
    reply = { error: String(err && err.message || err) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/** Long enough for a loaded machine to finish loading the dictionary; then it is loaded here. */
const THREAD_REPLY_TIMEOUT_MS = 20_000;

class ThreadSegmenter implements Segmenter {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(SEGMENTER_THREAD, {
      eval: true,
      workerData: { port: port2, flag: this.flag, jiebaPath: JIEBA.addon, dictPath: JIEBA.dict },
      transferList: [port2],
    });
    // Neither keeps the process alive: a command ends when its work does.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => {}); // a failure shows as an error reply or a timeout
  }

  private call<T>(op: keyof Segmenter, text: string, hmm: boolean): T {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ op, text, hmm });
    const waited = Atomics.wait(this.flag, 0, 0, THREAD_REPLY_TIMEOUT_MS);
    const reply = receiveMessageOnPort(this.port)?.message as { result?: T; error?: string } | undefined;
    if (waited === 'timed-out' || !reply || reply.error !== undefined) {
      void this.worker.terminate();
      jieba = loadHere();
      return (jieba[op] as (t: string, h: boolean) => T)(text, hmm);
    }
    return reply.result as T;
  }

  cut(text: string, hmm?: boolean | null): string[] {
    return this.call('cut', text, hmm ?? false);
  }

  cutForSearch(text: string, hmm?: boolean | null): string[] {
    return this.call('cutForSearch', text, hmm ?? false);
  }

  tag(text: string, hmm?: boolean | null): ReturnType<Jieba['tag']> {
    return this.call('tag', text, hmm ?? false);
  }
}

/**
 * Starts loading the dictionary on a second thread now, for a process about to do other
 * start-up work before its first segmentation. No effect once the dictionary is loaded.
 */
export function preloadSegmenter(): void {
  jieba ??= new ThreadSegmenter();
}

/** Where segmentation runs now (a worker that failed has been replaced by this thread's dictionary). */
export function segmenterThread(): 'second thread' | 'this thread' | 'not loaded' {
  return jieba instanceof ThreadSegmenter ? 'second thread' : jieba ? 'this thread' : 'not loaded';
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const WORDISH = /[\p{L}\p{N}]/u;

/** NFKC, lower-cased, whitespace removed: the form in which strings are compared. */
export function foldForMatch(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

export function isCjk(ch: string): boolean {
  return CJK.test(ch);
}

/**
 * Search tokens: jieba's search-mode words (which include the sub-words of long words,
 * so 家庭医生 also yields 家庭, 医生) plus character bigrams of CJK runs, which catch
 * words jieba splits differently in question and passage (治未病 vs 中 医治 未病).
 */
export function searchTokens(text: string): string[] {
  const { words, bigrams } = searchTokenParts(text);
  for (const code of bigrams) words.push(bigramToken(code));
  return words;
}

/** CJK code units (U+3400–U+9FFF, U+F900–U+FAFF) numbered 0–28,159: a bigram of two is a small integer. */
const CJK_MAIN_END = 0x9fff;
const CJK_MAIN_COUNT = CJK_MAIN_END - 0x3400 + 1;
const CJK_COUNT = CJK_MAIN_COUNT + (0xfaff - 0xf900 + 1);

function cjkIndex(c: number): number {
  if (c >= 0x3400 && c <= CJK_MAIN_END) return c - 0x3400;
  if (c >= 0xf900 && c <= 0xfaff) return c - 0xf900 + CJK_MAIN_COUNT;
  return -1;
}

const cjkChar = (i: number) => (i < CJK_MAIN_COUNT ? 0x3400 + i : 0xf900 + i - CJK_MAIN_COUNT);

/**
 * searchTokens in two parts, for an index builder: the words, and the CJK bigrams as
 * numbers below 2^30 (which V8 keeps unboxed), in searchTokens' order. A builder keys
 * most of a passage's tokens by number this way, instead of making and hashing a string
 * per bigram; `bigramToken` gives a bigram's token.
 */
export function searchTokenParts(text: string): { words: string[]; bigrams: number[] } {
  const folded = text.normalize('NFKC').toLowerCase();
  const words: string[] = [];
  for (const w of segmenter().cutForSearch(folded, true)) {
    // A word that starts with a common ideograph (most) came from a run of them: nothing to trim, a word.
    const c = w.charCodeAt(0);
    if (c >= 0x4e00 && c <= 0x9fff) {
      words.push(w);
      continue;
    }
    const t = w.trim();
    if (t && WORDISH.test(t)) words.push(t);
  }
  const bigrams: number[] = [];
  let previous = -1;
  for (let i = 0; i < folded.length; i++) {
    const current = cjkIndex(folded.charCodeAt(i));
    if (previous >= 0 && current >= 0) bigrams.push(previous * CJK_COUNT + current);
    previous = current;
  }
  return { words, bigrams };
}

/** The search token of a bigram numbered by searchTokenParts. */
export function bigramToken(code: number): string {
  return '#' + String.fromCharCode(cjkChar(Math.floor(code / CJK_COUNT)), cjkChar(code % CJK_COUNT));
}

/** Plain jieba words (precise mode), folded; punctuation dropped. */
export function words(text: string): string[] {
  return segmenter()
    .cut(text.normalize('NFKC').toLowerCase(), true)
    .map((w) => w.trim())
    .filter((w) => w && WORDISH.test(w));
}

/** Nouns among the words of a text (jieba tags n*, abbreviations j, set phrases i, and words it does not know). */
export function nounsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const { word, tag } of segmenter().tag(text.normalize('NFKC').toLowerCase(), true)) if (/^(?:n|x|eng|j|i)/.test(tag) && /[\p{L}\p{N}]/u.test(word)) out.add(word.trim());
  return out;
}

/**
 * Whether jieba's dictionary holds the word as an ordinary word of its own (not an
 * abbreviation, tag j): 人群, 完全, 审核 — but not 棚改 or 科创, which it splits.
 */
export function isOrdinaryWord(word: string): boolean {
  const tagged = segmenter().tag(word.normalize('NFKC').toLowerCase(), false);
  return tagged.length === 1 && tagged[0]!.tag !== 'j';
}

/**
 * The dictionary words inside a compound (重点项目 → 重点, 项目), from jieba's search mode;
 * empty when it has none shorter than itself.
 */
export function subWords(word: string): string[] {
  const w = word.normalize('NFKC').toLowerCase();
  return [...new Set(segmenter().cutForSearch(w, false).filter((p) => p.length >= 2 && p.length < w.length))];
}
