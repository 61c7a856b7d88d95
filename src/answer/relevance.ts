import type { PlanIndex } from '../index/plan-index.ts';
import { foldForMatch } from '../index/tokenize.ts';

/**
 * How well a piece of text covers a question: the IDF-weighted share of the question's
 * content bigrams (CJK) and number/Latin tokens that occur in the text. Used to pick
 * answer sentences and to decide that the documents do not answer.
 */

/** Phrases that frame a question but say nothing about its topic. */
const QUESTION_FRAMES =
  /是多少|有多少|多少个|多少家|多少|哪些|哪几|什么样|什么|怎么样|怎么|如何|怎样|是啥|啥|吗|呢|么|请问|一下|打算|准备|要达到|达到|目标是|目标|要建|要|这块|那块|方面|具体|分别|各自|主要|有关|相关|情况|说的|上有|有何|规划里|规划中|规划|十四五|十三五|期间|时期|到\d{4}年|\d{4}年/g;

export interface QuestionTerms {
  /** term → weight (IDF). */
  terms: Map<string, number>;
  total: number;
  /** The question asks for a quantity (多少, 几, 比例 …). */
  numeric: boolean;
}

function bigrams(folded: string): string[] {
  const out: string[] = [];
  for (const run of folded.match(/[\u3400-\u9fff]+/g) ?? []) {
    if (run.length === 1) out.push(run);
    for (let i = 0; i + 1 < run.length; i++) out.push(run.slice(i, i + 2));
  }
  return out;
}

function latinTokens(folded: string): string[] {
  return (folded.match(/[a-z][a-z0-9.+]*|\d+(?:\.\d+)?/g) ?? []).filter((t) => !/^(19|20)\d\d$/.test(t));
}

export class TermWeights {
  private readonly df = new Map<string, number>();
  private readonly n: number;
  private readonly districtWords: string[];

  constructor(index: PlanIndex) {
    this.n = index.chunks.length;
    for (const c of index.chunks) {
      const folded = foldForMatch(c.text);
      for (const t of new Set([...bigrams(folded), ...latinTokens(folded)])) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    }
    this.districtWords = [...new Set(index.documents.flatMap((d) => [d.district, d.district.replace(/(新区|区)$/, '')]))].sort((a, b) => b.length - a.length);
  }

  idf(term: string): number {
    return Math.log((this.n + 1) / ((this.df.get(term) ?? 0) + 1)) + 1;
  }

  /** The question's topic terms, with scope words (district, year) and question frames removed. */
  questionTerms(question: string): QuestionTerms {
    let q = foldForMatch(question);
    const numeric = /多少|几[个家所项条万亿座]|比例|比重|占比|率|目标|增长|数量|规模|面积|金额|投资/.test(q);
    for (const d of this.districtWords) q = q.split(d).join('|');
    q = q.replace(/天津市?|京津冀/g, (m) => (m === '京津冀' ? m : '|')).replace(QUESTION_FRAMES, '|');
    const terms = new Map<string, number>();
    for (const t of [...bigrams(q), ...latinTokens(q)]) terms.set(t, this.idf(t));
    let total = 0;
    for (const w of terms.values()) total += w;
    return { terms, total, numeric };
  }

  /** Share of the question's term weight found in `text` (0..1). */
  coverage(q: QuestionTerms, text: string): number {
    if (q.total === 0) return 0;
    const folded = foldForMatch(text);
    let hit = 0;
    for (const [t, w] of q.terms) if (folded.includes(t)) hit += w;
    return hit / q.total;
  }
}
