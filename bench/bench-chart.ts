import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { barChartSvg } from '../src/chart/bar-chart-svg.ts';
import { loadChartFont } from '../src/chart/chart-font.ts';
import { ChartRenderer } from '../src/chart/chart-renderer.ts';
import type { ChartSpec } from '../src/chart/chart-spec.ts';
import { indicatorChartSpec, indicatorTables } from '../src/chart/indicator-chart.ts';
import type { PlanIndex } from '../src/index/plan-index.ts';
import { rasterize } from '../src/chart/rasterize.ts';
import { percentiles, type Percentiles } from './bench-stats.ts';
import { benchTempDir } from './bench-temp.ts';

/**
 * Charts: the font's load, a chart drawn from scratch (SVG, then PNG) p50/p95, a cache
 * hit, the PNG's size, memory, and how long the event loop is held while charts render
 * (rasterizing runs on the thread pool, so other chats' answers keep flowing).
 */

export interface ChartBench {
  fontLoadMs: number;
  targets: { svgMs: Percentiles; rasterMs: Percentiles; renderMs: Percentiles; cachedMs: Percentiles; pngBytes: number; pixels: string };
  small: { renderMs: Percentiles; pngBytes: number; pixels: string };
  concurrent: { charts: number; wallMs: number; eventLoopMaxMs: number; eventLoopP99Ms: number };
  /** Measured in a fresh process that only draws charts. */
  memory: Record<string, number>;
}

const TSX = path.resolve('node_modules/.bin/tsx');

function memoryInFreshProcess(spec: ChartSpec): Record<string, number> {
  const temp = benchTempDir('plan-qa-chart-');
  const dir = temp.path;
  try {
    const file = path.join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = spawnSync(TSX, ['bench/bench-chart-memory.ts', file], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
    if (r.status !== 0) throw new Error(`bench-chart: memory run failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, number>;
  } finally {
    temp.remove();
  }
}
const RUNS = 30;

function smallSpec(i: number): ChartSpec {
  return {
    title: `PM2.5平均浓度下降 · 河北区与津南区 ${i}`,
    series: [{ id: '河北区', label: '河北区', role: 'side' }, { id: '津南区', label: '津南区', role: 'side' }],
    panels: [{ unit: '%', kind: 'percent', rows: [{ label: '河北区', bars: [{ series: '河北区', value: 37.8, label: '37.8%' }] }, { label: '津南区', bars: [{ series: '津南区', value: 30, label: '近30%' }] }] }],
    footnote: '[1] 《天津市河北区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》 第一节 发展基础',
  };
}

export async function benchChart(index: PlanIndex): Promise<ChartBench> {
  let t = performance.now();
  const font = loadChartFont();
  const fontLoadMs = Math.round(performance.now() - t);
  const table = indicatorTables(index, '武清区')[0];
  if (!table) throw new Error('bench-chart: no indicator table for 武清区 in the corpus');
  const base = indicatorChartSpec(table);
  // A new title each run defeats the cache: every run draws from scratch.
  const fresh = (i: number): ChartSpec => ({ ...base, title: `${base.title} ${i}` });

  const svgMs: number[] = [];
  const rasterMs: number[] = [];
  const renderMs: number[] = [];
  let pngBytes = 0;
  let pixels = '';
  for (let i = 0; i < RUNS + 2; i++) {
    t = performance.now();
    const { svg } = barChartSvg(fresh(i), font);
    const s = performance.now() - t;
    t = performance.now();
    const png = await rasterize(svg, { zoom: 1.5 });
    const r = performance.now() - t;
    if (i >= 2) {
      svgMs.push(s);
      rasterMs.push(r);
    }
    pngBytes = png.png.length;
    pixels = `${png.width}×${png.height}`;
  }
  const renderer = new ChartRenderer();
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await renderer.render(fresh(1000 + i));
    renderMs.push(performance.now() - t);
  }
  const cachedMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await renderer.render(fresh(1000));
    cachedMs.push(performance.now() - t);
  }
  const smallMs: number[] = [];
  let small = { pngBytes: 0, pixels: '' };
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    const c = await renderer.render(smallSpec(i));
    smallMs.push(performance.now() - t);
    small = { pngBytes: c.png.length, pixels: `${c.width}×${c.height}` };
  }

  // Eight different charts at once, while the event loop's delay is sampled.
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const concurrentRenderer = new ChartRenderer();
  histogram.enable();
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, (_, i) => concurrentRenderer.render(fresh(2000 + i))));
  const wallMs = Math.round(performance.now() - t);
  histogram.disable();
  return {
    fontLoadMs,
    targets: { svgMs: percentiles(svgMs), rasterMs: percentiles(rasterMs), renderMs: percentiles(renderMs), cachedMs: percentiles(cachedMs), pngBytes, pixels },
    small: { renderMs: percentiles(smallMs), ...small },
    concurrent: { charts: 8, wallMs, eventLoopMaxMs: Math.round(histogram.max / 1e6), eventLoopP99Ms: Math.round(histogram.percentile(99) / 1e6) },
    memory: memoryInFreshProcess(base),
  };
}
