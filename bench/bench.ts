import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
import { InputError } from '../src/errors.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { sentencesOf } from './synthetic-corpus.ts';
import { benchBot } from './bench-bot.ts';
import { benchChart } from './bench-chart.ts';
import { benchDigest } from './bench-digest.ts';
import { benchFleet } from './bench-fleet.ts';
import { benchLlmPipeline } from './bench-llm.ts';
import { BENCH_QUESTIONS as QUESTIONS } from './bench-questions.ts';
import { renderTable } from './bench-report.ts';
import { benchScale } from './bench-scale.ts';
import { benchStart } from './bench-start.ts';
import { benchTempDir } from './bench-temp.ts';
import { benchVector } from './bench-vector.ts';
import { percentiles } from './bench-stats.ts';
import { runCli } from '../src/cli/cli-runtime.ts';

/**
 * `npm run bench [-- --scale N | --million] [--ef-construction N] [--sections core,start,chart,llm,bot,digest,fleet,scale,vector]`:
 * core: ingest time, warm search and ask latency in process, peak memory; start: a cold
 * `ask` process and the console's first answer, on the compiled entry points; chart: a chart drawn from scratch (SVG, PNG) p50/p95, PNG size, memory, event
 * loop held while charts render; llm: answer-pipeline overhead without the model's time; bot: 1,000 questions
 * from 100 chats through the Bot API emulator; digest: one day's fan-out to 10,000
 * subscriptions; fleet: 1-3 instances on PostgreSQL behind a load balancer; scale: index
 * build and hybrid search on synthetic chunks (bench-scale.ts; the HNSW build's
 * efConstruction, default 100); vector: the
 * same chunks searched by hnswlib and by pgvector (bench-vector.ts).
 * Prints a table of the results and writes them as JSON to <STATE_DIR>/bench/ after every
 * section, so a section that fails (its error is recorded) or an interrupted run keeps
 * what was measured before it. Temporary folders are removed even on Ctrl-C.
 *
 * Benchmarks live here, outside src/: the product never imports them, and they may use
 * the test servers (the bot and digest sections drive test/helpers' Bot API emulator).
 */

const SECTIONS = ['core', 'start', 'chart', 'llm', 'bot', 'digest', 'fleet', 'scale', 'vector'] as const;

await runCli('bench', async (ctx) => {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '100000' },
      million: { type: 'boolean', default: false },
      'ef-construction': { type: 'string', default: '100' },
      sections: { type: 'string', default: SECTIONS.join(',') },
      'skip-scale': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const sections = new Set(values.sections.split(',').map((x) => x.trim()));
  for (const x of sections) if (!(SECTIONS as readonly string[]).includes(x)) throw new InputError(`bench: unknown section "${x}"; sections: ${SECTIONS.join(', ')}`);
  if (values['skip-scale']) sections.delete('scale');
  const scaleN = values.million ? 1_000_000 : Number(values.scale);
  if (!Number.isInteger(scaleN) || scaleN < 100) throw new InputError(`bench: --scale must be an integer ≥ 100, got "${values.scale}"`);
  const say = (msg: string) => process.stderr.write(msg + '\n');
  const state = benchTempDir('plan-qa-bench-');
  const config = { ...ctx.config, index: { ...ctx.config.index, stateDir: state.path } };
  const result: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, sections: [...sections].join(',') };
  const dir = path.join(ctx.config.index.stateDir, 'bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const save = () => writeFileSync(file, JSON.stringify(result, null, 2));
  /** Runs one section; its failure is recorded and the run goes on. */
  const section = async (name: string, run: () => Promise<unknown>) => {
    const t0 = performance.now();
    try {
      const value = await run();
      if (value !== undefined) result[name] = value;
    } catch (err) {
      result[name] = { error: (err as Error).message.split('\n')[0] };
      say(`${name}: FAILED: ${(err as Error).message.split('\n')[0]}`);
    }
    say(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    save();
  };
  try {
    say('ingest: building the corpus index from scratch…');
    const t0 = performance.now();
    const built = await buildIndex(config, { rebuild: true });
    result.ingest = { ms: Math.round(performance.now() - t0), documents: built.documents, chunks: built.chunks, embedder: built.embedder };
    const index = await loadPlanIndex(config.index, config.llm);
    if (sections.has('core'))
      await section('warm', async () => {
        const answerer = new QuestionAnswerer(index);
        const search: number[] = [];
        const ask: number[] = [];
        for (let round = 0; round < 6; round++) {
          for (const q of QUESTIONS) {
            let s = performance.now();
            await answerer.retrieve(q);
            const searchMs = performance.now() - s;
            s = performance.now();
            await answerer.answer(q);
            const askMs = performance.now() - s;
            if (round > 0) {
              search.push(searchMs);
              ask.push(askMs);
            }
          }
        }
        say(`warm: search p50 ${percentiles(search).p50} ms, ask p50 ${percentiles(ask).p50} ms`);
        result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
        return { searchMs: percentiles(search), askMs: percentiles(ask) };
      });
    if (sections.has('start'))
      await section('start', async () => {
        say('start: cold `ask` and the console\'s first answer, compiled, 5 rounds…');
        return benchStart(state.path, QUESTIONS);
      });
    if (sections.has('chart'))
      await section('chart', async () => {
        say('chart: the 武清区 indicator chart, drawn from scratch…');
        const chart = await benchChart(index);
        say(`chart: render p50 ${chart.targets.renderMs.p50} ms (p95 ${chart.targets.renderMs.p95}), PNG ${Math.round(chart.targets.pngBytes / 1024)} KB, ${chart.targets.pixels}`);
        return chart;
      });
    if (sections.has('llm'))
      await section('llm', async () => {
        say('llm: answer pipeline overhead…');
        return benchLlmPipeline();
      });
    if (sections.has('bot'))
      await section('bot', async () => {
        say('bot: 1,000 questions from 100 chats through the emulator…');
        return benchBot();
      });
    if (sections.has('digest'))
      await section('digest', async () => {
        say('digest: one day of 10,000 subscriptions through the emulator…');
        return benchDigest();
      });
    if (sections.has('fleet'))
      await section('fleet', async () => {
        say('fleet: 1-3 instances on PostgreSQL behind a load balancer (answers with a slow model, generation switch, 2,000 digests with a kill -9)…');
        return benchFleet();
      });
    if (sections.has('scale'))
      await section('scale', async () => {
        const sentences = sentencesOf(index);
        say(`scale: ${scaleN} synthetic chunks…`);
        const scale = await benchScale(sentences, scaleN, say, { resultDir: path.join(ctx.config.index.stateDir, 'bench'), efConstruction: Number(values['ef-construction']) });
        result.peakRssMbWithScale = Math.round(process.resourceUsage().maxRSS / 1024);
        return scale;
      });
    if (sections.has('vector'))
      await section('vector', async () => {
        say('vector: the corpus chunks searched by hnswlib and by pgvector…');
        return benchVector(config, index, QUESTIONS, say);
      });
  } finally {
    state.remove();
    save();
  }
  ctx.out(values.json ? JSON.stringify(result, null, 2) : renderTable(result));
  say(`written to ${file}`);
});
// The run is over: a section that failed half-way must not keep the process alive with a
// server or a child it left behind (the exit handlers still remove temporary folders).
process.exit();
