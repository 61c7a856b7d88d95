import type { StoredChunk } from '../index/index-store.ts';

type Indicator = NonNullable<StoredChunk['indicator']>;

function withUnit(value: string, unit: string | undefined): string {
  return unit && /^[\d.]+$/.test(value) ? `${value}${unit === '%' ? '%' : unit}` : value;
}

/**
 * An indicator row as a direct answer, target first:
 * "森林覆盖率：2025年目标13%，2020年为12.07%，约束性指标". Values are copied as they are.
 */
export function formatIndicator(ind: Indicator): string {
  const values = ind.values.filter((v) => v.value && !/^[—–-]+$/.test(v.value));
  const yearCols = values.filter((v) => /^\d{4}/.test(v.column));
  const target = yearCols.at(-1) ?? values.at(-1);
  const parts: string[] = [];
  if (target) parts.push(`${target.column.replace(/年?$/, '年')}目标${withUnit(target.value, ind.unit)}`);
  for (const v of values) if (v !== target) parts.push(`${v.column.replace(/年?$/, '年')}为${withUnit(v.value, ind.unit)}`);
  if (ind.attribute) parts.push(`${ind.attribute}指标`);
  let text = `${ind.name}${ind.unit ? `（${ind.unit}）` : ''}：${parts.join('，')}`;
  if (ind.notes.length > 0) text += `（注：${ind.notes.join('；')}）`;
  return text;
}
