/**
 * The bench's results as a short table for people (the JSON file keeps everything):
 * one row per measured figure, a percentile triple shown as "p50 · p95 · max", units
 * read off the key's suffix (…Ms, …Mb, …Bytes, …PerSecond).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPercentiles = (v: Json): v is { n: number; p50: number; p95: number; max: number } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.p50 === 'number' && typeof v.p95 === 'number';

function unit(key: string): string {
  if (/Ms$|^ms$/.test(key)) return ' ms';
  if (/Mb$/i.test(key)) return ' MB';
  if (/Bytes$/.test(key)) return ' B';
  if (/PerSecond$|Rate/.test(key)) return ' /s';
  return '';
}

function number(x: number): string {
  return Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { maximumFractionDigits: x < 10 ? 2 : 1 });
}

function rows(prefix: string, value: Json, out: Array<[string, string]>, depth: number): void {
  const key = prefix.split('.').at(-1) ?? prefix;
  if (isPercentiles(value)) {
    const u = unit(key);
    out.push([prefix, `p50 ${number(value.p50)}${u} · p95 ${number(value.p95)}${u} · max ${number(value.max)}${u} (n=${value.n})`]);
  } else if (typeof value === 'number') out.push([prefix, `${number(value)}${unit(key)}`]);
  else if (typeof value === 'string' || typeof value === 'boolean') out.push([prefix, String(value)]);
  else if (Array.isArray(value)) out.push([prefix, `${value.length} items (see JSON)`]);
  else if (value && depth < 3) for (const [k, v] of Object.entries(value)) rows(prefix ? `${prefix}.${k}` : k, v, out, depth + 1);
}

export function renderTable(result: Record<string, unknown>): string {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(result)) rows(k, v as Json, out, 0);
  const width = Math.max(...out.map(([k]) => k.length));
  return out.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
