import { figureValue, type ChartSpec } from './chart-spec.ts';
import { indicatorSeriesAndPanels } from './indicator-chart.ts';

/**
 * The small chart a digest leads with when its items carry indicator figures (rows of a
 * plan's indicator table): each such item's values, labelled with its [n], panels by
 * unit. None when no item has a number to draw.
 */
export interface DigestFigures {
  topic: string;
  scopeLabel?: string;
  items: ReadonlyArray<{ n: number; title: string; indicator?: { name: string; unit?: string; attribute?: string; values: ReadonlyArray<{ column: string; value: string }> } }>;
}

export function digestChartSpec(content: DigestFigures): ChartSpec | undefined {
  const items = content.items.filter((i) => i.indicator && i.indicator.values.some((v) => figureValue(v.value) !== null));
  if (items.length === 0) return undefined;
  const { series, panels } = indicatorSeriesAndPanels(
    items.map((i) => ({ label: `[${i.n}] ${i.indicator!.name}`, ...(i.indicator!.unit ? { unit: i.indicator!.unit } : {}), ...(i.indicator!.attribute ? { attribute: i.indicator!.attribute } : {}), values: i.indicator!.values })),
  );
  const titles = [...new Set(items.map((i) => `《${i.title}》`))];
  return {
    title: `今日指标 · ${content.topic}`,
    subtitle: `${content.scopeLabel ? `${content.scopeLabel} · ` : ''}摘要第 ${items.map((i) => i.n).join('、')} 条里的指标；数字照录原表`,
    series,
    panels,
    footnote: `来源：${titles.join('；')}`,
  };
}
