import type { IndexedChunk, PlanIndex } from '../index/plan-index.ts';
import { foldForMatch, nounsOf, subWords, words } from '../index/tokenize.ts';
import { CorpusLexicon } from './corpus-lexicon.ts';
import { districtForms, findPlaces } from './districts.ts';
import { FRAME_PHRASES, FRAME_WORDS, FUNCTION_CHARS, holdsQuantity, normalizeQuestion, namedYears, questionIntent, sentenceTense, synonymsOf, type QuestionIntent, type Tense } from './query-language.ts';

/**
 * How well a piece of text covers a question: the IDF-weighted share of the question's
 * topic words (jieba) that occur in the text. Used to pick answer sentences and to
 * decide that the documents do not answer. Presence is tested as a substring of the
 * folded text, so it does not depend on how jieba segments the passage.
 */

export interface QuestionTerms {
  /** term → weight (IDF). */
  terms: Map<string, number>;
  /** For compound terms: their dictionary sub-words (会展经济 → 会展, 经济). */
  parts: Map<string, string[]>;
  total: number;
  /** The question asks for a quantity (多少, 几, 比例 …). */
  numeric: boolean;
  /** The question asks for a list or a description (哪些, 有啥政策, 怎么做 …). */
  list: boolean;
  /** Years the question names (2025年): a sentence naming them is more likely the answer. */
  years: string[];
  /** Per term: the forms that count as the term being present (its synonyms, what it abbreviates). */
  forms: Map<string, readonly string[]>;
  /** Question words the corpus never uses and nothing resolves: not demanded as evidence. */
  unknown: string[];
  /**
   * The weight of the unknown nouns (IDF of a word no passage has), beside `total`: the
   * found decision discounts an answer by how much of the question's subject the corpus
   * has no words for (地铁票价). Unknown verbs and chat words (吃饭, 闹矛盾) are how people
   * talk about a topic, not the topic, and are not counted.
   */
  unknownWeight: number;
  /** The terms that are nouns, in question order: what the question is about (学校 in "新建几所学校"). */
  nounTerms: string[];
  intent: QuestionIntent;
}

/**
 * Whether a candidate speaks of one of the years asked about: it names the year, its
 * section is about it, its report is about it, or — in a five-year plan — the year is the
 * plan's target year and the sentence states a plan (or the reviewed period's last year
 * and it states a result). A five-year total does not answer a question about one year.
 */
export function speaksOfYears(chunk: IndexedChunk, text: string, tense: Tense | undefined, years: readonly number[]): boolean {
  if (years.length === 0) return true;
  const hit = (ys: readonly number[]) => ys.some((y) => years.includes(y));
  if (hit(namedYears(text))) return true;
  if (chunk.indicator) return hit(chunk.indicator.values.flatMap((v) => namedYears(v.column)));
  const headingYears = namedYears(chunk.section.join(' '));
  if (headingYears.length > 0) return hit(headingYears);
  const doc = chunk.doc;
  if (doc.kind !== '五年规划') return hit(doc.years);
  const planEnd = Math.max(...doc.years.filter((y) => doc.years.includes(y - 1)));
  if (years.includes(planEnd) && tense !== 'achievement') return true;
  return years.includes(planEnd - 5) && tense === 'achievement';
}

/** How strongly a sentence's tense (plan or result) agreeing with the question's moves its score. */
const TENSE_FIT = { match: 1.15, mismatch: 0.7 };

export class TermWeights {
  private readonly scopeWords: string[];
  readonly lexicon: CorpusLexicon;
  private readonly termCache = new Map<string, QuestionTerms>();

  constructor(private readonly index: PlanIndex) {
    this.scopeWords = [...new Set(index.documents.flatMap((d) => districtForms(d.district)))].sort((a, b) => b.length - a.length);
    this.lexicon = new CorpusLexicon(index.chunks, {}, () => index.corpusWords());
  }

  idf(term: string): number {
    const n = this.index.lexical.size;
    return Math.log((n + 1) / (this.index.lexical.documentFrequency(term) + 1)) + 1;
  }

  /**
   * The forms in which a question word can be evidence: itself and its synonyms when the
   * corpus uses them, else the corpus term it abbreviates; empty when the corpus has none
   * (a word the documents never use cannot be demanded of them).
   */
  private evidenceForms(word: string): string[] {
    const forms = synonymsOf(word).filter((w) => w === word || this.lexicon.contains(w));
    if (this.lexicon.contains(word)) {
      const full = this.lexicon.fullForm(word);
      return full ? [...forms, full] : forms;
    }
    const expanded = this.lexicon.expand(word);
    if (expanded) return [expanded, ...forms.filter((f) => f !== word)];
    return forms.filter((f) => f !== word);
  }

  /**
   * The question's topic words, with scope (districts, years) and question frames removed.
   * Retrieval, re-ranking and composing each ask for the same question: the last few are kept.
   */
  questionTerms(question: string): QuestionTerms {
    const cached = this.termCache.get(question);
    if (cached) return cached;
    const terms = this.readQuestion(question);
    if (this.termCache.size >= 256) this.termCache.delete(this.termCache.keys().next().value!);
    this.termCache.set(question, terms);
    return terms;
  }

  private readQuestion(question: string): QuestionTerms {
    const normalized = normalizeQuestion(question);
    const intent = questionIntent(normalized);
    // Spaces separate words in chat ("咋治 有啥招"): keep them apart, folding would join them.
    let q = foldForMatch(normalized.replace(/\s+/g, '，'));
    const years = q.match(/(?<!\d)(?:19|20)\d{2}年/g) ?? [];
    // Every district named goes, covered or not (东丽区 is scope, not topic).
    for (const d of [...findPlaces(q).districts.flatMap(districtForms), ...this.scopeWords].sort((a, b) => b.length - a.length)) q = q.split(d).join('，');
    q = q.replace(/天津市?/g, '，').replace(/(?<!\d)(19|20)\d{2}年?/g, '，').replace(FRAME_PHRASES, '，');
    // A single character jieba leaves beside a word may be part of a shortened term (老|小区 → 老旧小区).
    const segmented = words(q);
    const merged: string[] = [];
    for (let i = 0; i < segmented.length; i++) {
      const w = segmented[i]!;
      const next = segmented[i + 1];
      if (next && (w.length === 1 || next.length === 1) && !FUNCTION_CHARS.test(w) && !FUNCTION_CHARS.test(next) && /^[\u3400-\u9fff]+$/.test(w + next)) {
        const joined = w + next;
        if (!this.lexicon.contains(joined) && this.lexicon.expand(joined)) {
          merged.push(joined);
          i++;
          continue;
        }
      }
      merged.push(w);
    }
    const terms = new Map<string, number>();
    const forms = new Map<string, readonly string[]>();
    const unknown: string[] = [];
    const nouns = nounsOf(q);
    for (const w of merged) {
      if (FRAME_WORDS.has(w) || FUNCTION_CHARS.test(w) || terms.has(w)) continue;
      const f = this.evidenceForms(w);
      if (f.length > 0) {
        terms.set(w, Math.max(...f.map((x) => this.idf(x))));
        forms.set(w, f);
        continue;
      }
      // A compound noun the corpus never uses may still be made of words it does (空气污染 →
      // 空气 → 大气, 污染); a verb phrase (想做到) is how people ask, not what about.
      let resolved = false;
      for (const part of w.length >= 3 && nouns.has(w) ? subWords(w) : []) {
        const pf = this.evidenceForms(part);
        if (pf.length === 0 || terms.has(part)) continue;
        terms.set(part, Math.max(...pf.map((x) => this.idf(x))));
        forms.set(part, pf);
        resolved = true;
      }
      if (!resolved) unknown.push(w);
    }
    let total = 0;
    for (const w of terms.values()) total += w;
    const unknownWeight = unknown.filter((w) => nouns.has(w)).length * this.idf('\u0000');
    const parts = new Map<string, string[]>();
    for (const [t, f] of forms) if (f[0]!.length >= 3 && /^[\u3400-\u9fff]+$/.test(f[0]!)) parts.set(t, subWords(f[0]!));
    const nounTerms = [...terms.keys()].filter((t) => nouns.has(t));
    return { terms, parts, total, numeric: intent.numeric, list: intent.list, years, forms, unknown, unknownWeight, nounTerms, intent };
  }

  /** Whether `text` has the term in one of its forms. */
  mentions(q: QuestionTerms, term: string, text: string): boolean {
    const folded = foldForMatch(text);
    return (q.forms.get(term) ?? [term]).some((f) => folded.includes(f));
  }

  /**
   * Share of the question's term weight found in `text` (0..1). A compound that is not
   * found whole gets partial credit: for the share of its dictionary sub-words that are
   * (重点项目 vs "重点推进…项目"), else half credit for the share of its bigrams.
   */
  coverage(q: QuestionTerms, text: string): number {
    if (q.total === 0) return 0;
    const folded = foldForMatch(text);
    let hit = 0;
    for (const [t, w] of q.terms) {
      const forms = q.forms.get(t) ?? [t];
      if (forms.some((s) => folded.includes(s))) hit += w;
      else if (forms[0]!.length >= 3 && /^[\u3400-\u9fff]+$/.test(forms[0]!)) {
        const main = forms[0]!;
        const sub = q.parts.get(t) ?? [];
        const subShare = sub.length > 0 ? sub.filter((p) => synonymsOf(p).some((s) => folded.includes(s))).length / sub.length : 0;
        let found = 0;
        for (let i = 0; i + 1 < main.length; i++) if (folded.includes(main.slice(i, i + 2))) found++;
        hit += w * Math.max(0.8 * subShare, 0.5 * (found / (main.length - 1)));
      }
    }
    return hit / q.total;
  }

  /**
   * How likely `sentence` (under `heading`) is the answer: its coverage, favouring a
   * sentence with a number when the question asks for a quantity and one that names a
   * year the question names.
   */
  sentenceScore(q: QuestionTerms, section: readonly string[], sentence: string, isIndicator = false): number {
    let score = this.coverage(q, `${section.at(-1) ?? ''} ${sentence}`);
    // A plan sentence answers a target question, a review sentence an achievement question;
    // an indicator row holds both the base value and the target.
    const tense = isIndicator ? q.intent.tense : sentenceTense(sentence, section);
    if (q.intent.tense && tense) score *= tense === q.intent.tense ? TENSE_FIT.match : TENSE_FIT.mismatch;
    // An indicator row holds its values under a unit written in the table header.
    if (q.numeric) score *= isIndicator || holdsQuantity(sentence, q.intent.quantity) ? 1.15 : 0.85;
    if (q.years.some((y) => sentence.includes(y))) score *= 1.15;
    // "什么时候建好" is answered by a sentence that says when.
    if (q.intent.when) score *= namedYears(sentence).length > 0 || /年底|年内|近期|当年|期间/.test(sentence) ? 1.15 : 0.85;
    return score;
  }
}
