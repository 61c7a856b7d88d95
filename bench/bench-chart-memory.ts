import { readFileSync } from 'node:fs';
import { loadChartFont } from '../src/chart/chart-font.ts';
import { ChartRenderer } from '../src/chart/chart-renderer.ts';
import type { ChartSpec } from '../src/chart/chart-spec.ts';

/**
 * Run by bench-chart.ts in a fresh process: what charts cost in memory, apart from the
 * index the bot also holds. Reads a chart spec (JSON) and prints resident memory after
 * start, after the font loads, after the first chart and after 30 more different charts (CHARTS=n to change).
 */
const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChartSpec;
const mb = (n: number) => Math.round(n / 1048576);
const rss = () => mb(process.memoryUsage().rss);
const out: Record<string, number> = { rssStartMb: rss() };
loadChartFont();
out.rssAfterFontMb = rss();
const renderer = new ChartRenderer();
await renderer.render(spec);
out.rssAfterFirstChartMb = rss();
for (let i = 0; i < Number(process.env.CHARTS ?? 30); i++) await renderer.render({ ...spec, title: `${spec.title} ${i}` });
out.rssAfterManyChartsMb = rss();
out.charts = 1 + Number(process.env.CHARTS ?? 30);
out.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
out.heapUsedMb = mb(process.memoryUsage().heapUsed);
out.cacheMb = mb(renderer.cached.bytes);
process.stdout.write(JSON.stringify(out));
