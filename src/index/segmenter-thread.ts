import { workerData, type MessagePort } from 'node:worker_threads';
import { CompiledJiebaDictionary, loadFullJieba, loadJieba, type Segmenter } from './jieba-dictionary.ts';

/**
 * tokenize.ts's second thread: segments the texts it is sent (`{ op, text, hmm }`, answered
 * `{ result }` or `{ error }`, then the shared flag is raised).
 *
 * With the compiled dictionary it starts answering at once: each of the first texts is
 * segmented with a dictionary of just its own words (exactly as the full dictionary
 * would; see jieba-dictionary.ts), which a question's handful of short texts needs.
 * Past SCOPED_CHARS characters in all, the full dictionary is loaded (150 ms), which a
 * long run of texts amortizes. Without the compiled dictionary, the full one loads at start.
 */

/**
 * Characters segmented with per-text dictionaries before the full one is loaded. Finding
 * a text's words costs up to 10 µs a character on a cold thread; a question's own texts
 * are 50 to 200 characters (the dev questions: median 120), while a question that makes
 * the corpus lexicon segment the whole corpus needs the full dictionary anyway, and should
 * spend little before loading it.
 */
const SCOPED_CHARS = 2_000;

const { port, flag, dictionary: dictionaryFile } = workerData as { port: MessagePort; flag: Int32Array; dictionary?: string };

let full: Segmenter | undefined;
let failure: string | undefined;
let scopedChars = 0;
const compiled = dictionaryFile ? CompiledJiebaDictionary.open(dictionaryFile) : undefined;

function loadFull(): Segmenter | undefined {
  if (full || failure) return full;
  try {
    full = loadFullJieba();
  } catch (err) {
    failure = String((err as Error)?.message ?? err);
  }
  return full;
}

if (!compiled) loadFull();
else {
  // Load the addon now, while the main thread still loads the index: the first question's
  // text then waits for its words only (the addon's load was 15–20 ms of a cold `ask`).
  try {
    loadJieba(compiled.dictionaryFor('规划'));
  } catch {
    // the first request reports it
  }
}

function segmenterFor(text: string): Segmenter | undefined {
  if (full || failure || !compiled || scopedChars + text.length > SCOPED_CHARS) return loadFull();
  scopedChars += text.length;
  return loadJieba(compiled.dictionaryFor(text));
}

port.on('message', ({ op, text, hmm }: { op: keyof Segmenter | 'dictionary'; text: string; hmm: boolean }) => {
  let reply;
  try {
    if (op === 'dictionary') reply = failure ? { error: failure } : { result: full || !compiled ? 'full' : 'per text' };
    else {
      const jieba = segmenterFor(text);
      reply = jieba ? { result: (jieba[op] as (t: string, h: boolean) => unknown)(text, hmm) } : { error: failure };
    }
  } catch (err) {
    reply = { error: String((err as Error)?.message ?? err) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
