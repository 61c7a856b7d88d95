import type { Comparison } from '../answer/comparison.ts';
import { unitKind, type ChartSpec } from './chart-spec.ts';

/** A comparison (one figure per side, one unit) as a one-panel chart, its sources in the footnote. */
export function comparisonChartSpec(c: Comparison, sources: ReadonlyArray<{ n: number; title: string; section: string }>): ChartSpec {
  const sides = c.figures.map((f) => f.side);
  const used = new Set(c.figures.map((f) => f.n));
  const notes = sources.filter((s) => used.has(s.n)).map((s) => `[${s.n}] 《${s.title}》${s.section ? ` ${s.section.split(' › ').at(-1)}` : ''}`);
  return {
    title: `${c.indicator}（${c.unit}）`,
    subtitle: `${sides.join(' 与 ')}对比；数字照录原文`,
    series: sides.map((side) => ({ id: side, label: side, role: 'side' as const })),
    panels: [{ unit: c.unit, kind: unitKind(c.unit), rows: c.figures.map((f) => ({ label: `${f.side} [${f.n}]`, bars: [{ series: f.side, value: f.value, label: f.text }] })) }],
    footnote: `来源：${notes.join('；')}`,
  };
}
