import type { IndexedDocumentMeta } from '../index/index-store.ts';
import { findPlaces, withoutDistricts, type PlaceMentions } from './districts.ts';
import { FRAME_PHRASES, normalizeQuestion, PLAN_PERIODS } from './query-language.ts';
import type { QuestionTerms } from './relevance.ts';

/**
 * Reads the scope a question names — districts, years, document kinds — so retrieval can
 * filter instead of guessing. A district or year the corpus does not cover makes the
 * scope empty: the answer is "not found", never a passage from somewhere else.
 */


const KIND_HINTS: Array<[RegExp, string]> = [
  [/政府工作报告/, '政府工作报告'],
  [/计划执行|计划草案|计划报告/, '计划报告'],
];

/**
 * The question's topic for ranking: scope words (districts, years) and question frames
 * removed, and the corpus's own word added for each everyday or shortened one (固投 →
 * 固定资产投资): the passages use the corpus's word. Scope is applied as a filter, so
 * leaving it in the query only adds noise to the ranking.
 */
export function topicText(question: string, scope: QueryScope, terms?: QuestionTerms): string {
  let q = withoutDistricts(normalizeQuestion(question), scope.districts);
  // Planning periods stay: "十三五" points at the review sections ("“十三五”时期发展成就").
  const periods = q.match(/十三五|十四五|十五五/g) ?? [];
  q = q.replace(/十三五|十四五|十五五/g, ' ');
  const expansions: string[] = [];
  if (terms) for (const [t, forms] of terms.forms) if (forms[0] !== t) expansions.push(forms[0]!);
  q = `${q} ${expansions.join(' ')}`;
  return [...periods, q].join(' ').replace(/天津市?/g, ' ').replace(FRAME_PHRASES, ' ').replace(/[？?！!。，,、]/g, ' ').replace(/\s+/g, ' ').trim() || question;
}

export interface QueryScope extends PlaceMentions {
  /** Years named or implied (十四五 → 2021-2025). */
  years: number[];
  /** Only the years written as numbers (2018年), for splitting comparisons. */
  explicitYears: number[];
  /** Planning periods named (十四五). */
  periods: string[];
  kinds: string[];
}

export function analyzeQuery(question: string, knownDistricts: readonly string[] = []): QueryScope {
  const q = normalizeQuestion(question);
  const places = findPlaces(q, knownDistricts);
  const explicitYears = [...new Set([...q.matchAll(/(?<!\d)(19[5-9]\d|20\d{2})(?!\d)/g)].map((m) => Number(m[1])))];
  const years = new Set<number>(explicitYears);
  const periods: string[] = [];
  for (const [period, [from, to]] of Object.entries(PLAN_PERIODS))
    if (q.includes(period)) {
      for (let y = from; y <= to; y++) years.add(y);
      periods.push(period);
    }

  const kinds = KIND_HINTS.filter(([re]) => re.test(q)).map(([, k]) => k);
  return {
    ...places,
    years: [...years].sort(),
    explicitYears,
    periods,
    kinds,
  };
}

export interface ScopeResult {
  documents: IndexedDocumentMeta[];
  /** Why the scope is empty, in the user's terms (for the not-found message). */
  uncovered?: string;
}

/** The documents a scope allows. Years are only a filter when they name documents' own years. */
export function documentsInScope(scope: QueryScope, documents: readonly IndexedDocumentMeta[]): ScopeResult {
  if (scope.otherRegion) return { documents: [], uncovered: scope.otherRegion };
  let docs = [...documents];
  if (scope.districts.length > 0) {
    const missing = scope.districts.filter((d) => !documents.some((doc) => doc.district === d));
    docs = docs.filter((d) => scope.districts.includes(d.district));
    if (docs.length === 0) return { documents: [], uncovered: missing.join('、') };
  }
  if (scope.kinds.length > 0) {
    const byKind = docs.filter((d) => scope.kinds.includes(d.kind));
    if (byKind.length > 0) docs = byKind;
  }
  if (scope.years.length > 0) {
    const byYear = docs.filter((d) => d.years.some((y) => scope.years.includes(y)));
    if (byYear.length === 0) return { documents: [], uncovered: scope.years.map((y) => `${y}年`).join('、') };
    docs = byYear;
  }
  // A question about a planning period as a whole (十四五要改造多少…) is answered by the
  // five-year plans, not by one year's report that falls within it.
  if (scope.periods.length > 0 && scope.explicitYears.length === 0 && scope.kinds.length === 0) {
    const plans = docs.filter((d) => d.kind === '五年规划');
    if (plans.length > 0) docs = plans;
  }
  return { documents: docs };
}
