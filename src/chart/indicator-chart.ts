import type { IndexedChunk, PlanIndex } from '../index/plan-index.ts';
import { figureValue, orderPanels, unitKind, type ChartPanel, type ChartSpec } from './chart-spec.ts';

/**
 * A plan's indicator table (rebuilt at ingest, one chunk per row) as a chart: per
 * indicator the base-year value and the target side by side, panels by unit, 约束性 and
 * 预期性 told apart. Values are the table's cells as written.
 */

type Indicator = NonNullable<IndexedChunk['indicator']>;

export interface IndicatorTable {
  district: string;
  file: string;
  /** The document's title. */
  title: string;
  /** The table's title as printed ('十四五”时期经济社会发展主要指标'). */
  table: string;
  /** The section path the table sits in. */
  section: string[];
  rows: Indicator[];
}

/** The indicator tables of a district's documents, in document order. */
export function indicatorTables(index: PlanIndex, district: string | null): IndicatorTable[] {
  const tables = new Map<string, IndicatorTable>();
  for (const c of index.chunks.indicatorRows()) {
    if (!c.indicator || (district !== null && c.doc.district !== district)) continue;
    const key = `${c.file}\u0000${c.indicator.table}`;
    let t = tables.get(key);
    if (!t) {
      t = { district: c.doc.district, file: c.file, title: c.doc.title, table: c.indicator.table, section: c.section, rows: [] };
      tables.set(key, t);
    }
    t.rows.push(c.indicator);
  }
  return [...tables.values()];
}

/** The table's title without the stray quote extraction leaves ('十四五”时期…' → '“十四五”时期…'). */
export function tableLabel(table: string): string {
  const t = table.trim() || '主要指标';
  return /^[^“”]*”/.test(t) ? `“${t}` : t;
}

/** The section path without the table's own title at its end. */
export function sourceSection(t: Pick<IndicatorTable, 'section' | 'table'>): string {
  const path = t.section.at(-1) === t.table ? t.section.slice(0, -1) : t.section;
  return path.join(' › ');
}

const yearLabel = (column: string) => column.replace(/年?$/, '年');

/** An indicator row as a chart draws it (a table row, or a digest item's). */
export interface IndicatorFigures {
  label: string;
  unit?: string;
  attribute?: string;
  values: ReadonlyArray<{ column: string; value: string }>;
}

/** Series (the columns: earlier ones base values, the last the target) and panels by unit. */
export function indicatorSeriesAndPanels(rows: readonly IndicatorFigures[]): Pick<ChartSpec, 'series' | 'panels'> {
  const columns = [...new Set(rows.flatMap((r) => r.values.map((v) => v.column)))];
  const target = columns.at(-1);
  const series = columns.map((c) => ({ id: c, label: c === target ? `${yearLabel(c)}目标` : yearLabel(c), role: c === target ? ('target' as const) : ('base' as const) }));
  const panels = new Map<string, ChartPanel>();
  for (const row of rows) {
    const unit = row.unit?.trim() || '无单位';
    let panel = panels.get(unit);
    if (!panel) {
      panel = { unit, kind: unitKind(unit), rows: [] };
      panels.set(unit, panel);
    }
    panel.rows.push({
      label: row.label,
      ...(row.attribute === '约束性' || row.attribute === '预期性' ? { attribute: row.attribute } : {}),
      bars: columns.map((column) => {
        const label = row.values.find((v) => v.column === column)?.value ?? '';
        return { series: column, value: figureValue(label), label: label || '—' };
      }),
    });
  }
  return { series, panels: orderPanels([...panels.values()]) };
}

export function indicatorChartSpec(t: IndicatorTable): ChartSpec {
  const { series, panels } = indicatorSeriesAndPanels(t.rows.map((r) => ({ label: r.name, ...(r.unit ? { unit: r.unit } : {}), ...(r.attribute ? { attribute: r.attribute } : {}), values: r.values })));
  const section = sourceSection(t);
  return {
    title: `${t.district} · ${tableLabel(t.table)}`,
    subtitle: `${series.map((s) => s.label).join(' 与 ')}，按单位分组；数字照录原表`,
    series,
    panels,
    footnote: `来源：《${t.title}》${section ? ` ${section}` : ''}`,
  };
}
