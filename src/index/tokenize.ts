import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

/**
 * Owner of @node-rs/jieba and of the text folding used for matching. Folding (NFKC,
 * lower case, no whitespace) applies to index keys and queries only, never to quotes.
 */

let jieba: Jieba | undefined;
function segmenter(): Jieba {
  // Loading the dictionary takes ~100 ms: do it on first use, not at import.
  jieba ??= Jieba.withDict(dict);
  return jieba;
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
  const folded = text.normalize('NFKC').toLowerCase();
  const out: string[] = [];
  for (const w of segmenter().cutForSearch(folded, true)) {
    const t = w.trim();
    if (t && WORDISH.test(t)) out.push(t);
  }
  for (const run of folded.match(/[\u3400-\u9fff\uf900-\ufaff]{2,}/g) ?? []) {
    for (let i = 0; i + 1 < run.length; i++) out.push('#' + run.slice(i, i + 2));
  }
  return out;
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
