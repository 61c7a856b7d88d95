import type { IndexedChunk } from '../index/plan-index.ts';
import { PLAN_PERIODS, type PlanPeriod } from '../retrieve/query-language.ts';
import { splitSentences } from '../retrieve/sentences.ts';

/**
 * A number's role: which year or plan period a sentence says it belongs to, or whether it
 * is called a target or a base value. "2025年森林覆盖率目标为12.07%" cites the indicator
 * row "森林覆盖率(% 12.07 13 约束性" correctly as far as the digits go, yet 12.07 is that
 * row's 2020 value, not its 2025 target: a claim passes only if the passage gives the
 * number the role the claim gives it.
 *
 * Where a passage says nothing about a number's role (no year column, no period in its
 * sentence), the claim is not constrained: this check only removes claims the passage
 * contradicts.
 */

type Period = PlanPeriod;

interface Role {
  year?: number;
  period?: Period;
  kind?: 'target' | 'base';
}

const NUMBER = /\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?/g;
const YEAR = /(?<!\d)((?:19|20)\d{2})年/g;
const PERIOD = /十三五|十四五|十五五/g;
const CLAUSE_END = /[，,；;。！？!?\n]/;
const TARGET_WORDS = /目标|预期|达到|力争|提高到|提升到|增加到|增长到|降低到|下降到|控制在|到\d{4}年/;
const BASE_WORDS = /现状|基期|基数|基准|现有|末期|末的|年末|由|从/;

const PERIOD_YEARS = PLAN_PERIODS;

function periodOfYear(year: number): Period | undefined {
  return (Object.keys(PERIOD_YEARS) as Period[]).find((p) => year >= PERIOD_YEARS[p][0] && year <= PERIOD_YEARS[p][1]);
}

function sameNumber(a: string, b: string): boolean {
  return Number(a.replace(/,/g, '')) === Number(b.replace(/,/g, ''));
}

function numbersOf(text: string): string[] {
  return [...text.matchAll(NUMBER)].map((m) => m[0]);
}

/** The clause around `at` (between commas or sentence ends), split at the number. */
function clauseAround(text: string, at: number, length: number): { before: string; after: string } {
  let start = at;
  while (start > 0 && !CLAUSE_END.test(text[start - 1]!)) start--;
  let end = at + length;
  while (end < text.length && !CLAUSE_END.test(text[end]!)) end++;
  return { before: text.slice(start, at), after: text.slice(at + length, end) };
}

/** The role the claim gives the number at `at`: the nearest year or period before it in its clause (else after it), and the nearest target/base word before it. */
function claimedRole(text: string, at: number, length: number): Role {
  const { before, after } = clauseAround(text, at, length);
  const marks = (s: string) =>
    [...[...s.matchAll(YEAR)].map((m) => ({ at: m.index, year: Number(m[1]) })), ...[...s.matchAll(PERIOD)].map((m) => ({ at: m.index, period: m[0] as Period }))].sort((a, b) => a.at - b.at);
  const mark = marks(before).at(-1) ?? marks(after)[0];
  const role: Role = {};
  if (mark && 'year' in mark) role.year = mark.year;
  if (mark && 'period' in mark) role.period = mark.period;
  // The nearest such word before the number decides: "由12.07%提高到13%" — 由 for 12.07, 提高到 for 13.
  const last = (re: RegExp) => Math.max(-1, ...[...before.matchAll(new RegExp(re.source, 'g'))].map((m) => m.index));
  const target = last(TARGET_WORDS);
  const base = last(BASE_WORDS);
  if (target > base) role.kind = 'target';
  else if (base > target) role.kind = 'base';
  return role;
}

/** An indicator row: does the column the claim names hold this number? */
function rowHolds(indicator: NonNullable<IndexedChunk['indicator']>, value: string, role: Role): boolean {
  const columns = indicator.values
    .map((v) => ({ year: Number(/^(\d{4})/.exec(v.column)?.[1] ?? NaN), value: v.value }))
    .filter((c) => Number.isFinite(c.year))
    .sort((a, b) => a.year - b.year);
  if (columns.length === 0) return true;
  const holds = (c: { value: string }) => numbersOf(c.value).some((n) => sameNumber(n, value));
  if (role.year !== undefined) {
    const column = columns.find((c) => c.year === role.year);
    if (column) return holds(column);
  }
  const period = role.period ?? (role.year !== undefined ? periodOfYear(role.year) : undefined);
  if (period) {
    const [from, to] = PERIOD_YEARS[period];
    const inPeriod = columns.filter((c) => c.year >= from && c.year <= to);
    // A period's value in a plan's table is its last year's (十三五 → 2020, 十四五 → 2025).
    if (inPeriod.length > 0) return holds(inPeriod.at(-1)!);
  }
  if (columns.length >= 2 && role.kind === 'target') return holds(columns.at(-1)!);
  if (columns.length >= 2 && role.kind === 'base') return holds(columns[0]!);
  return true;
}

/** The plan periods a passage sentence speaks of (by name or by year). */
function periodsOf(sentence: string): Set<Period> {
  const out = new Set<Period>((sentence.match(PERIOD) ?? []) as Period[]);
  for (const m of sentence.matchAll(YEAR)) {
    const p = periodOfYear(Number(m[1]));
    if (p) out.add(p);
  }
  return out;
}

/**
 * A text passage: is there a sentence with this number that speaks of the claimed year
 * (when it names years) or period (or of neither)?
 */
function textHolds(chunk: IndexedChunk, value: string, role: Role): boolean {
  const period = role.period ?? (role.year !== undefined ? periodOfYear(role.year) : undefined);
  if (!period && role.year === undefined) return true;
  const sentences = splitSentences(chunk.text.normalize('NFKC')).filter((s) => numbersOf(s.text).some((n) => sameNumber(n, value)));
  if (sentences.length === 0) return true;
  return sentences.some((s) => {
    const years = [...s.text.matchAll(YEAR)].map((m) => Number(m[1]));
    if (role.year !== undefined && years.length > 0) return years.includes(role.year);
    const periods = periodsOf(s.text);
    return !period || periods.size === 0 || periods.has(period);
  });
}

/**
 * Whether every number in the claim that the passage holds is given the role the passage
 * gives it. Years written as years ("2025年") are roles, not values, and are skipped.
 */
export function numberRolesHold(claim: string, chunk: IndexedChunk, value: string): boolean {
  const text = claim.normalize('NFKC');
  for (const m of text.matchAll(NUMBER)) {
    if (!sameNumber(m[0], value)) continue;
    if (/^年/.test(text.slice(m.index + m[0].length)) && /^(?:19|20)\d{2}$/.test(m[0])) continue;
    const role = claimedRole(text, m.index, m[0].length);
    const holds = chunk.indicator ? rowHolds(chunk.indicator, value, role) : textHolds(chunk, value, role);
    if (!holds) return false;
  }
  return true;
}
