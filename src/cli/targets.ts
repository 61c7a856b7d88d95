import { parseArgs } from 'node:util';
import { formatIndicator } from '../answer/indicator-text.ts';
import { ensureIndex } from '../index/ensure-index.ts';
import { InputError } from '../errors.ts';
import { runCli } from './cli-runtime.ts';
import { matchDistrictName } from '../retrieve/districts.ts';

/** Prints the indicator tables rebuilt at ingest (e.g. 武清区 主要指标), optionally for one district. */
await runCli('targets', async (ctx) => {
  const { values, positionals } = parseArgs({ options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  const index = await ensureIndex(ctx.config, ctx.log);
  const wanted = positionals[0]?.trim();
  const districts = [...new Set(index.documents.map((d) => d.district))];
  const district = wanted ? matchDistrictName(wanted, districts) : undefined;
  if (wanted && !district) throw new InputError(`targets: no documents for "${wanted}"; districts in the corpus: ${districts.join('、')}`);
  const rows = index.chunks.filter((c) => c.indicator && (!district || c.doc.district === district));
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
