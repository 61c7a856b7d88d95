/**
 * What a chart shows, independent of how it is drawn: panels of horizontal bars, one
 * value axis per panel, and every panel in exactly one unit — so 万元 and % never share
 * an axis. Values are parsed from the document's text, and each bar's label is that text
 * verbatim ("12.07", "近30%", "〔15〕"); a cell with no number ("完成市级下达任务目标",
 * "——") is shown as its words, without a bar.
 */

export type UnitKind = 'percent' | 'amount' | 'count' | 'other';

export interface ChartBar {
  /** The series it belongs to (a legend entry): '2020', '2025', '河北区' … */
  series: string;
  /** The number drawn, or null when the cell holds no number. */
  value: number | null;
  /** The figure as the document writes it. */
  label: string;
}

export interface ChartRow {
  label: string;
  /** 约束性 / 预期性: drawn as a tag and in the target bar's colour. */
  attribute?: '约束性' | '预期性';
  bars: ChartBar[];
}

export interface ChartPanel {
  unit: string;
  kind: UnitKind;
  rows: ChartRow[];
}

export interface ChartSeries {
  id: string;
  label: string;
  role: 'base' | 'target' | 'side';
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  series: ChartSeries[];
  panels: ChartPanel[];
  /** Small print under the chart: the source. */
  footnote?: string;
}

const PERCENT = /^(%|％|‰|个百分点)$/;
const AMOUNT = /元/;
const COUNT = /^(万|亿|千|百)?(家|个|人|件|所|张|项|户|座|辆|套|处|名|次|台|条|栋|吨|亩|公里|平方米|千米|米|床|位|块|片|人次|人\/万人|件\/万人|个\/万人|张\/千人|人\/千人)$/;

export function unitKind(unit: string): UnitKind {
  if (PERCENT.test(unit)) return 'percent';
  if (AMOUNT.test(unit)) return 'amount';
  if (COUNT.test(unit)) return 'count';
  return 'other';
}

export const UNIT_KIND_LABEL: Record<UnitKind, string> = { percent: '百分比', amount: '金额', count: '数量', other: '其他' };

/**
 * The number a cell states, or null: "12.07" → 12.07, "〔15〕" → 15, "≥95" → 95, "近30%" → 30,
 * "6以上" → 6. Ranges ("1至2"), dashes and words → null: nothing is drawn that the text
 * does not state as one number.
 */
export function figureValue(text: string): number | null {
  const t = text.trim().replace(/[,，](?=\d{3})/g, '');
  const m = /^(?:〔)?(?:[<>≤≥＜＞]|不低于|不少于|不超过|达到|超过|近|约|力争)?\s*([-+]?\d+(?:\.\d+)?)\s*(?:%|％|‰)?(?:〕)?(?:以上|以内|以下|左右)?$/.exec(t);
  if (!m) return null;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : null;
}

/** Panels ordered percent, amount, count, other; within a kind by size (bigger first). */
export function orderPanels(panels: ChartPanel[]): ChartPanel[] {
  const rank: Record<UnitKind, number> = { percent: 0, amount: 1, count: 2, other: 3 };
  return [...panels].sort((a, b) => rank[a.kind] - rank[b.kind] || b.rows.length - a.rows.length);
}
