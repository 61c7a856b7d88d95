import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { loadFullJieba, type Segmenter } from './jieba-dictionary.ts';
import { DIST_DIR } from '../project-files.ts';
import { startModuleWorker } from './module-worker.ts';

/**
 * Segmentation and the text folding used for matching (jieba-dictionary.ts owns the
 * addon and its dictionary). Folding (NFKC, lower case, no whitespace) applies to index
 * keys and queries only, never to quotes.
 */

let jieba: Segmenter | undefined;
function segmenter(): Segmenter {
  // jieba with its full dictionary, in this thread: on first use, not at import.
  jieba ??= loadFullJieba();
  return jieba;
}

/** What the second thread is asked: a segmentation, or which dictionary it uses. */
type ThreadOp = keyof Segmenter | 'dictionary';

/** Long enough for a loaded machine to finish loading the dictionary; then it is loaded here. */
const THREAD_REPLY_TIMEOUT_MS = 20_000;

/**
 * Segmentation on a second thread (segmenter-thread.ts) while this one does other
 * start-up work (reading the index): for a process that starts, answers and exits (`npm
 * run ask`), the dictionary is then off the critical path. With the compiled dictionary,
 * that thread answers a question's few short texts without loading the full dictionary at
 * all. Calls are synchronous, as jieba's own are: the request goes over a MessagePort,
 * this thread waits on a shared flag, and takes the reply with receiveMessageOnPort (about
 * 0.05 ms a call; a question makes about ten). A thread that fails or stops answering is
 * replaced by the full dictionary in this thread: segmentation never depends on it.
 */
class ThreadSegmenter implements Segmenter {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;

  constructor(dictionary: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = startModuleWorker('segmenter-thread', { workerData: { port: port2, flag: this.flag, dictionary }, transferList: [port2] });
    // Neither keeps the process alive: a command ends when its work does.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => {}); // a failure shows as an error reply or a timeout
  }

  call<T>(op: ThreadOp, text: string, hmm: boolean): T {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ op, text, hmm });
    const waited = Atomics.wait(this.flag, 0, 0, THREAD_REPLY_TIMEOUT_MS);
    const reply = receiveMessageOnPort(this.port)?.message as { result?: T; error?: string } | undefined;
    if (waited === 'timed-out' || !reply || reply.error !== undefined) {
      void this.worker.terminate();
      jieba = loadFullJieba();
      if (op === 'dictionary') return 'full' as T;
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

  tag(text: string, hmm?: boolean | null): ReturnType<Segmenter['tag']> {
    return this.call('tag', text, hmm ?? false);
  }
}

/**
 * Starts segmentation on a second thread now, for a process about to do other start-up
 * work before its first segmentation. No effect once segmentation has started.
 * `dictionary`: the compiled dictionary to use (by default the build's, dist/jieba-dictionary.bin).
 */
export function preloadSegmenter(options: { dictionary?: string } = {}): void {
  jieba ??= new ThreadSegmenter(options.dictionary ?? path.join(DIST_DIR, 'jieba-dictionary.bin'));
}

/**
 * The dictionary segmentation uses now: per text (from the compiled dictionary, on the
 * second thread), the full one, or none yet.
 */
export function segmenterDictionary(): 'per text' | 'full' | 'not loaded' {
  if (jieba instanceof ThreadSegmenter) return jieba.call<'per text' | 'full'>('dictionary', '', false);
  return jieba ? 'full' : 'not loaded';
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
