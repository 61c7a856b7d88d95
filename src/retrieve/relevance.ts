import type { PlanIndex } from '../index/plan-index.ts';
import { foldForMatch, subWords, words } from '../index/tokenize.ts';
import { synonymsOf } from './query-analysis.ts';

/**
 * How well a piece of text covers a question: the IDF-weighted share of the question's
 * topic words (jieba) that occur in the text. Used to pick answer sentences and to
 * decide that the documents do not answer. Presence is tested as a substring of the
 * folded text, so it does not depend on how jieba segments the passage.
 */

/** Words that frame a question (what, how many, plan to …) but say nothing about its topic. */
const FRAME_WORDS = new Set([
  '多少', '哪些', '哪几', '哪个', '哪几个', '什么', '什么样', '怎么', '怎么样', '如何', '怎样', '啥', '有啥', '是', '吗', '呢', '么', '请问', '一下', '打算', '准备',
  '要', '达到', '目标', '目标值', '要求', '计划', '规划', '这块', '那块', '方面', '具体', '分别', '各自', '主要', '有关', '相关', '情况', '说', '说的', '有', '有何',
  '里', '中', '几个', '几家', '几', '搞', '搞了', '主打', '做法', '政策', '措施', '举措', '内容', '提出', '期间', '时期', '十四五', '十三五', '十五五',
  '那', '那么', '这', '这个', '那个', '还有', '以及', '和', '与', '及', '的', '了', '在', '上', '对', '给', '把', '被', '让', '年', '到', '定', '定的', '各', '降',
  '成', '建成', '打造', '样', '地方', '工作', '项目', '重点', '区里', '全区', '我区', '天津', '天津市',
]);

/** Frame phrases cut out before segmentation, so they cannot glue onto topic words (三轴是, 镇要). */
const FRAME_PHRASES = /十三五|十四五|十五五|要求|是多少|有多少|多少|是什么|什么样|什么|哪几个|哪几|哪些|是啥|有啥|啥|怎么样|怎么|如何|打算|准备|要达到|说的|这块|那块|具体|分别|各自|呢|吗|要|个|了|各/g;

/** Characters that are grammar, not topic; other single characters (券, 房, 水) count. */
const FUNCTION_CHARS = /^[的了是在和与及有把被让给对从向到为以等个发建做搞各成上中里那这其之而或也都就还又再将已很最更多少几年末]$/;

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
}

export class TermWeights {
  private readonly scopeWords: string[];

  constructor(private readonly index: PlanIndex) {
    this.scopeWords = [...new Set(index.documents.flatMap((d) => [d.district, d.district.replace(/(新区|区)$/, '')]))].sort((a, b) => b.length - a.length);
  }

  idf(term: string): number {
    const n = this.index.lexical.size;
    return Math.log((n + 1) / (this.index.lexical.documentFrequency(term) + 1)) + 1;
  }

  /** The question's topic words, with scope (districts, years) and question frames removed. */
  questionTerms(question: string): QuestionTerms {
    let q = foldForMatch(question);
    const numeric = /多少|几[个家所项条万亿座名人]|比例|比重|占比|率|增长|数量|规模|面积|金额|投资|多大|多高|多长/.test(q);
    const list = /哪些|哪几|有啥|有什么|什么样|做法|政策|措施|举措|怎么|如何|规划|内容|要求/.test(q) && !numeric;
    const years = q.match(/(?<!\d)(?:19|20)\d{2}年/g) ?? [];
    for (const d of this.scopeWords) q = q.split(d).join('，');
    q = q.replace(/(?<!\d)(19|20)\d{2}年?/g, '，').replace(FRAME_PHRASES, '，');
    const terms = new Map<string, number>();
    for (const w of words(q)) {
      if (FRAME_WORDS.has(w) || FUNCTION_CHARS.test(w)) continue;
      terms.set(w, this.idf(w));
    }
    let total = 0;
    for (const w of terms.values()) total += w;
    const parts = new Map<string, string[]>();
    for (const t of terms.keys()) if (t.length >= 3 && /^[\u3400-\u9fff]+$/.test(t)) parts.set(t, subWords(t));
    return { terms, parts, total, numeric, list, years };
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
      if (synonymsOf(t).some((s) => folded.includes(s))) hit += w;
      else if (t.length >= 3 && /^[\u3400-\u9fff]+$/.test(t)) {
        const sub = q.parts.get(t) ?? [];
        const subShare = sub.length > 0 ? sub.filter((p) => synonymsOf(p).some((s) => folded.includes(s))).length / sub.length : 0;
        let found = 0;
        for (let i = 0; i + 1 < t.length; i++) if (folded.includes(t.slice(i, i + 2))) found++;
        hit += w * Math.max(0.8 * subShare, 0.5 * (found / (t.length - 1)));
      }
    }
    return hit / q.total;
  }

  /**
   * How likely `sentence` (under `heading`) is the answer: its coverage, favouring a
   * sentence with a number when the question asks for a quantity and one that names a
   * year the question names.
   */
  sentenceScore(q: QuestionTerms, heading: string, sentence: string): number {
    let score = this.coverage(q, `${heading} ${sentence}`);
    if (q.numeric) score *= /\d/.test(sentence) ? 1.15 : 0.85;
    if (q.years.some((y) => sentence.includes(y))) score *= 1.15;
    return score;
  }
}
