import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatIndicator } from '../answer/indicator-text.ts';
import { ChartRenderer } from '../chart/chart-renderer.ts';
import { indicatorChartSpec, indicatorTables } from '../chart/indicator-chart.ts';
import { openServingIndex } from '../index/ensure-index.ts';
import { InputError } from '../errors.ts';
import { runCli } from './cli-runtime.ts';
import { matchDistrictName } from '../retrieve/districts.ts';

/**
 * Prints the indicator tables rebuilt at ingest (e.g. 武清区 主要指标), optionally for one
 * district; `--chart FILE.png` draws the district's table as the bot's /targets does
 * (`--svg` writes the SVG instead).
 */
await runCli('targets', async (ctx) => {
  const { values, positionals } = parseArgs({ options: { json: { type: 'boolean', default: false }, chart: { type: 'string' }, svg: { type: 'boolean', default: false } }, allowPositionals: true });
  const { index } = await openServingIndex(ctx.config, ctx.log);
  const wanted = positionals[0]?.trim();
  const districts = [...new Set(index.documents.map((d) => d.district))];
  const district = wanted ? matchDistrictName(wanted, districts) : undefined;
  if (wanted && !district) throw new InputError(`targets: no documents for "${wanted}"; districts in the corpus: ${districts.join('、')}`);
  if (values.chart !== undefined) {
    const tables = indicatorTables(index, district ?? null);
    if (tables.length !== 1) throw new InputError(`targets: --chart needs one indicator table; ${district ?? 'the corpus'} has ${tables.length}${district ? '' : '; name a district'}`);
    const renderer = new ChartRenderer();
    const spec = indicatorChartSpec(tables[0]!);
    const file = path.resolve(values.chart);
    if (values.svg) await writeFile(file, renderer.svg(spec).svg);
    else {
      const chart = await renderer.render(spec);
      await writeFile(file, chart.png);
      ctx.log.info({ width: chart.width, height: chart.height, bytes: chart.png.length }, 'chart written');
    }
    ctx.out(file);
    return;
  }
  const rows = index.chunks.indicatorRows().filter((c) => !district || c.doc.district === district);
  if (values.json) {
    ctx.out(JSON.stringify(rows.map((c) => ({ ...c.indicator!, title: c.doc.title })), null, 2));
    return;
  }
  if (rows.length === 0) {
    ctx.out(`（${district ?? '语料'}没有可导出的指标表）`);
    return;
  }
  let table = '';
  for (const c of rows) {
    const ind = c.indicator!;
    if (ind.table !== table) {
      table = ind.table;
      ctx.out(`\n${c.doc.district} · ${ind.table}（《${c.doc.title}》）`);
    }
    ctx.out(`${ind.seq ?? '-'}. ${formatIndicator(ind)}`);
  }
});
