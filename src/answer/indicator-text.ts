import type { StoredChunk } from '../index/index-store.ts';

type Indicator = NonNullable<StoredChunk['indicator']>;

function withUnit(value: string, unit: string | undefined): string {
  return unit && /^[\d.]+$/.test(value) ? `${value}${unit === '%' ? '%' : unit}` : value;
}

/**
 * An indicator row as a direct answer, target first — "森林覆盖率：2025年目标13%，2020年为
 * 12.07%，约束性指标" — or, for a question about results, the base year's value first
 * ("2020年为12.07%，2025年目标13%"). Values are copied as they are.
 */
export function formatIndicator(ind: Indicator, lead: 'target' | 'base' = 'target'): string {
  const values = ind.values.filter((v) => v.value && !/^[—–-]+$/.test(v.value));
  const yearCols = values.filter((v) => /^\d{4}/.test(v.column));
  const target = yearCols.at(-1) ?? values.at(-1);
  const targetPart = target ? [`${target.column.replace(/年?$/, '年')}目标${withUnit(target.value, ind.unit)}`] : [];
  const others = values.filter((v) => v !== target).map((v) => `${v.column.replace(/年?$/, '年')}为${withUnit(v.value, ind.unit)}`);
  const parts = lead === 'base' ? [...others, ...targetPart] : [...targetPart, ...others];
  if (ind.attribute) parts.push(`${ind.attribute}指标`);
  let text = `${ind.name}${ind.unit ? `（${ind.unit}）` : ''}：${parts.join('，')}`;
  if (ind.notes.length > 0) text += `（注：${ind.notes.join('；')}）`;
  return text;
}
