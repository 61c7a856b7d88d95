import type { IndexedDocumentMeta } from '../index/index-store.ts';

/**
 * Reads the scope a question names — districts, years, document kinds — so retrieval can
 * filter instead of guessing. A district or year the corpus does not cover makes the
 * scope empty: the answer is "not found", never a passage from somewhere else.
 */

/** Tianjin's sixteen districts; 河北区 is one of them (not 河北省). */
export const TIANJIN_DISTRICTS = [
  '和平区', '河东区', '河西区', '南开区', '河北区', '红桥区', '东丽区', '西青区',
  '津南区', '北辰区', '武清区', '宝坻区', '宁河区', '静海区', '蓟州区', '滨海新区',
];

/**
 * Short forms that are safe to read as a district. Some are left out or guarded because
 * they are ordinary words or parts of names in the plans: 和平 (peace), 河东/河西
 * (河西务镇), 南开 (南开大学), 河北 (河北省, 京津冀).
 */
const SHORT_FORMS: Array<[RegExp, string]> = [
  [/武清/, '武清区'],
  [/津南/, '津南区'],
  [/东丽/, '东丽区'],
  [/西青/, '西青区'],
  [/北辰/, '北辰区'],
  [/宝坻/, '宝坻区'],
  [/宁河/, '宁河区'],
  [/静海/, '静海区'],
  [/蓟州|蓟县/, '蓟州区'],
  [/红桥/, '红桥区'],
  [/滨海新区|滨海/, '滨海新区'],
  [/河北(?![省])/, '河北区'],
  [/南开(?!大学)/, '南开区'],
  [/河西(?!务)/, '河西区'],
];

/** Regions outside Tianjin's districts that people may name; none is in the corpus. */
const OTHER_REGIONS =
  /河北省|(?:山东|山西|河南|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海)省|北京市(?!场)|上海市(?!场)|重庆市(?!场)/;

const PERIODS: Array<[RegExp, number[]]> = [
  [/十三五/, [2016, 2017, 2018, 2019, 2020]],
  [/十四五/, [2021, 2022, 2023, 2024, 2025]],
  [/十五五/, [2026, 2027, 2028, 2029, 2030]],
];

const KIND_HINTS: Array<[RegExp, string]> = [
  [/政府工作报告/, '政府工作报告'],
  [/计划执行|计划草案|计划报告/, '计划报告'],
];

/** Phrases that frame a question but say nothing about its topic. */
export const QUESTION_FRAMES =
  /是多少|有多少|多少个|多少家|多少|哪些|哪几|什么样|什么|怎么样|怎么|如何|怎样|是啥|啥|吗|呢|么|请问|一下|打算|准备|要达到|达到|目标是|目标|要建|要|这块|那块|方面|具体|分别|各自|主要|有关|相关|情况|说的|上有|有何|规划里|规划中|规划|十四五|十三五|期间|时期|到\d{4}年|\d{4}年/g;

/**
 * The question's topic: scope words (districts, years, periods) and question frames
 * removed. Scope is applied as a filter, so leaving it in the query only adds noise to
 * the ranking.
 */
export function topicText(question: string, scope: QueryScope): string {
  let q = question;
  for (const d of scope.districts) q = q.split(d).join(' ').split(d.replace(/(新区|区)$/, '')).join(' ');
  // Planning periods stay: "十三五" points at the review sections ("“十三五”时期发展成就").
  const periods = q.match(/十三五|十四五|十五五/g) ?? [];
  q = q.replace(/十三五|十四五|十五五/g, ' ');
  // Only the plans' own word is added: every variant would match unrelated passages.
  const lower = q.toLowerCase();
  const expansions = SYNONYM_GROUPS.filter((g) => !lower.includes(g[0]!) && g.some((w) => lower.includes(w))).map((g) => g[0]);
  q = `${q} ${expansions.join(' ')}`;
  return [...periods, q].join(' ').replace(/天津市?/g, ' ').replace(QUESTION_FRAMES, ' ').replace(/[？?！!。，,、]/g, ' ').replace(/\s+/g, ' ').trim() || question;
}

/**
 * Everyday words in questions and the words the plans use for the same thing, the plans'
 * word first. Retrieval adds that first word to the topic when the question has another
 * of the group; relevance counts a question word as present when any word of its group is.
 */
export const SYNONYM_GROUPS: readonly (readonly string[])[] = [
  ['地区生产总值', 'gdp', '生产总值'],
  ['比重', '占比', '之比', '比例'],
  ['累计', '一共', '总共', '合计', '总计'],
  ['下降', '降了', '降低', '减少'],
  ['增长', '涨了', '增加', '提高'],
  ['养老', '老人', '老年人'],
  ['资金', '钱'],
];

export function synonymsOf(word: string): readonly string[] {
  return SYNONYM_GROUPS.find((g) => g.includes(word)) ?? [word];
}

export interface QueryScope {
  /** Districts named (full names), whether or not the corpus covers them. */
  districts: string[];
  /** A named region that is not a Tianjin district (e.g. 河北省). */
  otherRegion?: string;
  /** Years named or implied (十四五 → 2021-2025). */
  years: number[];
  /** Only the years written as numbers (2018年), for splitting comparisons. */
  explicitYears: number[];
  kinds: string[];
}

export function analyzeQuery(question: string, knownDistricts: readonly string[] = []): QueryScope {
  // 京津冀 / 京冀 name the region, not the district 河北区.
  const q = question.replace(/京津冀|京冀|津冀/g, '　');
  const districts = new Set<string>();
  for (const d of [...TIANJIN_DISTRICTS, ...knownDistricts]) if (q.includes(d)) districts.add(d);
  let rest = q;
  for (const d of districts) rest = rest.split(d).join('　');
  for (const [re, d] of SHORT_FORMS) if (re.test(rest)) districts.add(d);
  // Districts of documents added beyond Tianjin's: their short form counts unless a
  // province or city name continues it (X省, X市).
  for (const d of knownDistricts) {
    if (TIANJIN_DISTRICTS.includes(d)) continue;
    const short = d.replace(/(新区|区|县|市)$/, '');
    if (short.length >= 2 && new RegExp(`${short}(?![省市])`).test(rest)) districts.add(d);
  }
  const other = q.match(OTHER_REGIONS)?.[0];

  const explicitYears = [...new Set([...q.matchAll(/(?<!\d)(19[5-9]\d|20\d{2})(?!\d)/g)].map((m) => Number(m[1])))];
  const years = new Set<number>(explicitYears);
  for (const [re, ys] of PERIODS) if (re.test(q)) ys.forEach((y) => years.add(y));

  const kinds = KIND_HINTS.filter(([re]) => re.test(q)).map(([, k]) => k);
  return {
    districts: [...districts],
    ...(other && districts.size === 0 ? { otherRegion: other } : {}),
    years: [...years].sort(),
    explicitYears,
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
  return { documents: docs };
}
