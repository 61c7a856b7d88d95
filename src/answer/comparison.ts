/**
 * A comparison an answer holds: one figure per side — two or more districts or years —
 * for the same indicator and unit, each figure taken from a cited quote exactly as it is
 * written ("下降近30%" gives "近30%", value 30). Nothing is inferred: when a side has no
 * such figure, or two that fit equally well, or the units differ, there is no comparison.
 * Sides are separate citations: a single indicator-table row (2020 and 2025 of one
 * indicator) is not offered here — /targets draws whole tables.
 */

/** What the answer cites, as it is stored with the answer (so a button can find it again). */
export interface CitedPassage {
  n: number;
  /** The cited text, verbatim. */
  quote: string;
  district: string;
  /** The document's year. */
  year?: number;
  title: string;
  section: string;
}

export interface ComparisonFigure {
  side: string;
  /** The figure as written in the quote: '近30%', '3.6万人以上', '12.07'. */
  text: string;
  value: number;
  /** The citation it comes from. */
  n: number;
}

export interface Comparison {
  /** What is compared, in the documents' words: '新增就业', '森林覆盖率'. */
  indicator: string;
  unit: string;
  figures: ComparisonFigure[];
}

const QUALIFIER = '(?:近|约|超过|不低于|不少于|不超过|达到|力争|逾)?';
const MEASURE = '(?:人次|人|元|个|家|所|张|项|户|座|辆|套|处|名|次|台|条|栋|吨|亩|公里|千米|平方米|平方公里|立方米|米|床|件|批|块|片|公顷|标准箱|千瓦|兆瓦|岁|天)';
const FIGURE = new RegExp(`${QUALIFIER}(\\d+(?:\\.\\d+)?)\\s*(%|‰|个百分点|(?:万|亿|千)?${MEASURE})(?:以上|以下|左右)?`, 'g');
const CLAUSE_END = /[，,。；;：:、！？\n]/;
const MAX_SIDES = 6;
const MIN_SHARED = 3;

interface Candidate {
  text: string;
  value: number;
  unit: string;
  /** The words before the figure in its clause (spaces removed). */
  context: string;
}

function candidates(quote: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of quote.matchAll(FIGURE)) {
    const start = m.index;
    // A year ("2015年") is not a figure; neither is the end of a range ("1至2所") or a number glued to digits before it.
    const before = quote.slice(Math.max(0, start - 2), start);
    if (/^(19|20)\d{2}$/.test(m[1]!) || /[\d.]$|\d[至到~～—–-]$/.test(before) || /^[至到~～—–-]\d/.test(quote.slice(start + m[0].length))) continue;
    let from = start;
    while (from > 0 && !CLAUSE_END.test(quote[from - 1]!) && start - from < 24) from--;
    out.push({ text: m[0], value: Number(m[1]), unit: m[2]!, context: quote.slice(from, start).replace(/\s+/g, '') });
  }
  return out;
}

/** Longest common substring length. */
function shared(a: string, b: string): { length: number; text: string } {
  let best = { length: 0, text: '' };
  const dp = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = b.length; j >= 1; j--) {
      dp[j] = a[i - 1] === b[j - 1] ? dp[j - 1]! + 1 : 0;
      if (dp[j]! > best.length) best = { length: dp[j]!, text: a.slice(i - dp[j]!, i) };
    }
  }
  return best;
}

/**
 * What the figures measure, in the quotes' own words: the wording before every figure
 * that all sides share at its start and at its end ('PM2.5平均浓度较2015年下降' and
 * 'PM2.5平均浓度较“十二五”末下降' → 'PM2.5平均浓度较…下降'), else the longest shared run.
 */
function commonWording(contexts: readonly string[], fallback: string): string {
  const first = contexts[0]!;
  const shortest = Math.min(...contexts.map((c) => c.length));
  let p = 0;
  while (p < shortest && contexts.every((c) => c[p] === first[p])) p++;
  let q = 0;
  while (q < shortest - p && contexts.every((c) => c[c.length - 1 - q] === first[first.length - 1 - q])) q++;
  const prefix = first.slice(0, p);
  const suffix = first.slice(first.length - q);
  const clean = (t: string) => t.replace(/^[的和与及]+/, '');
  if (contexts.every((c) => c === first)) return clean(first);
  if (prefix.length >= 2 && suffix.length >= 2) return clean(`${prefix}…${suffix}`);
  const one = clean(prefix.length >= suffix.length ? prefix : suffix).replace(/较$/, '');
  return one.length >= MIN_SHARED ? one : clean(fallback).replace(/较$/, '');
}

/** The side a citation speaks for: the answer's own label for its line ("2018年：…[1]"), else the district, else the document's year. */
function sideLabels(answerText: string, cited: readonly CitedPassage[]): string[] | undefined {
  const lineLabel = (n: number) => {
    const line = answerText.split('\n').find((l) => l.includes(`[${n}]`));
    const label = line ? /^([^：:\n]{1,12})[：:]/.exec(line.trim())?.[1]?.trim() : undefined;
    return label && /((19|20)\d{2}年|区|县|市|十[三四五]五)$/.test(label) ? label : undefined;
  };
  const districts = new Set(cited.map((c) => c.district));
  const labels = cited.map((c) => lineLabel(c.n) ?? (districts.size > 1 ? c.district : c.year !== undefined ? `${c.year}年` : undefined));
  if (labels.some((l) => l === undefined)) return undefined;
  return labels as string[];
}

export function findComparison(answerText: string, cited: readonly CitedPassage[]): Comparison | undefined {
  if (cited.length < 2 || cited.length > MAX_SIDES) return undefined;
  const labels = sideLabels(answerText, cited);
  if (!labels || new Set(labels).size !== labels.length) return undefined;
  const sides = cited.map((c, i) => ({ label: labels[i]!, n: c.n, options: candidates(c.quote) }));
  if (sides.some((s) => s.options.length === 0)) return undefined;

  // For each figure of the first side: its best match on every other side (same unit,
  // longest shared wording before the figure). The comparison is the first-side figure
  // whose weakest match is strongest — and every choice must be unambiguous.
  let best: { score: number; picks: Candidate[]; indicator: string; tied: boolean } | undefined;
  for (const first of sides[0]!.options) {
    const picks: Candidate[] = [first];
    let score = Infinity;
    let indicator = first.context;
    let ambiguous = false;
    for (const side of sides.slice(1)) {
      const scored = side.options.filter((o) => o.unit === first.unit).map((o) => ({ o, s: shared(first.context, o.context) }));
      if (scored.length === 0) {
        score = 0;
        break;
      }
      scored.sort((a, b) => b.s.length - a.s.length);
      if (scored[1] && scored[1].s.length === scored[0]!.s.length) ambiguous = true;
      picks.push(scored[0]!.o);
      if (scored[0]!.s.length < score) [score, indicator] = [scored[0]!.s.length, scored[0]!.s.text];
    }
    if (score < MIN_SHARED || score === Infinity) continue;
    if (!best || score > best.score) best = { score, picks, indicator, tied: ambiguous };
    else if (score === best.score) best.tied = true;
  }
  if (!best || best.tied) return undefined;
  return {
    indicator: commonWording(best.picks.map((p) => p.context), best.indicator),
    unit: best.picks[0]!.unit,
    figures: best.picks.map((p, i) => ({ side: sides[i]!.label, text: p.text, value: p.value, n: sides[i]!.n })),
  };
}
