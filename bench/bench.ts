import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
import { InputError } from '../src/errors.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { splitSentences } from '../src/retrieve/sentences.ts';
import { benchBot } from './bench-bot.ts';
import { benchChart } from './bench-chart.ts';
import { benchDigest } from './bench-digest.ts';
import { benchLlmPipeline } from './bench-llm.ts';
import { BENCH_QUESTIONS as QUESTIONS } from './bench-questions.ts';
import { benchScale } from './bench-scale.ts';
import { percentiles } from './bench-stats.ts';
import { runCli } from '../src/cli/cli-runtime.ts';

/**
 * `npm run bench [-- --scale N | --million] [--ef-construction N] [--sections core,chart,llm,bot,digest,scale]`:
 * core: ingest time, warm search and ask latency in process, cold start of `ask`, peak
 * memory; chart: a chart drawn from scratch (SVG, PNG) p50/p95, PNG size, memory, event
 * loop held while charts render; llm: answer-pipeline overhead without the model's time; bot: 1,000 questions
 * from 100 chats through the Bot API emulator; digest: one day's fan-out to 10,000
 * subscriptions; scale: index build and hybrid search on synthetic chunks (bench-scale.ts; the
 * HNSW build's efConstruction, default 100).
 * Prints the results and writes JSON to <STATE_DIR>/bench/.
 *
 * Benchmarks live here, outside src/: the product never imports them, and they may use
 * the test servers (the bot and digest sections drive test/helpers' Bot API emulator).
 */

const SECTIONS = ['core', 'chart', 'llm', 'bot', 'digest', 'scale'] as const;


const TSX = path.resolve('node_modules/.bin/tsx');

await runCli('bench', async (ctx) => {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '100000' },
      million: { type: 'boolean', default: false },
      'ef-construction': { type: 'string', default: '100' },
      sections: { type: 'string', default: SECTIONS.join(',') },
      'skip-scale': { type: 'boolean', default: false },
    },
  });
  const sections = new Set(values.sections.split(',').map((x) => x.trim()));
  for (const x of sections) if (!(SECTIONS as readonly string[]).includes(x)) throw new InputError(`bench: unknown section "${x}"; sections: ${SECTIONS.join(', ')}`);
  if (values['skip-scale']) sections.delete('scale');
  const scaleN = values.million ? 1_000_000 : Number(values.scale);
  if (!Number.isInteger(scaleN) || scaleN < 100) throw new InputError(`bench: --scale must be an integer ≥ 100, got "${values.scale}"`);
  const say = (msg: string) => process.stderr.write(msg + '\n');
  const state = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-bench-'));
  const config = { ...ctx.config, index: { ...ctx.config.index, stateDir: state } };
  const result: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length };
  try {
    say('ingest: building the corpus index from scratch…');
    const t0 = performance.now();
    const built = await buildIndex(config, { rebuild: true });
    result.ingest = { ms: Math.round(performance.now() - t0), documents: built.documents, chunks: built.chunks, embedder: built.embedder };

    const index = await loadPlanIndex(config.index, config.llm);
    if (sections.has('core')) {
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
      result.warm = { searchMs: percentiles(search), askMs: percentiles(ask) };
      say(`warm: search p50 ${percentiles(search).p50} ms, ask p50 ${percentiles(ask).p50} ms`);

      const cold: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        const r = spawnSync(TSX, ['src/cli/ask.ts', QUESTIONS[i]!], { env: { ...process.env, STATE_DIR: state, LOG_LEVEL: 'silent' }, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`bench: cold ask failed: ${r.stderr}`);
        cold.push(performance.now() - s);
      }
      result.coldAskMs = percentiles(cold);
      say(`cold ask (process start to answer): p50 ${percentiles(cold).p50} ms`);
    }
    result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    if (sections.has('chart')) {
      say('chart: the 武清区 indicator chart, drawn from scratch…');
      const chart = await benchChart(index);
      result.chart = chart;
      say(`chart: render p50 ${chart.targets.renderMs.p50} ms (p95 ${chart.targets.renderMs.p95}), PNG ${Math.round(chart.targets.pngBytes / 1024)} KB, ${chart.targets.pixels}`);
    }
    if (sections.has('llm')) {
      say('llm: answer pipeline overhead…');
      result.llm = await benchLlmPipeline();
    }
    if (sections.has('bot')) {
      say('bot: 1,000 questions from 100 chats through the emulator…');
      result.bot = await benchBot();
    }
    if (sections.has('digest')) {
      say('digest: one day of 10,000 subscriptions through the emulator…');
      result.digest = await benchDigest();
    }

    if (sections.has('scale')) {
      const sentences = [...index.chunks].flatMap((c) => splitSentences(c.text).map((u) => u.text)).filter((s) => s.length >= 8);
      say(`scale: ${scaleN} synthetic chunks…`);
      result.scale = await benchScale(sentences, scaleN, say, { resultDir: path.join(ctx.config.index.stateDir, 'bench'), efConstruction: Number(values['ef-construction']) });
      result.peakRssMbWithScale = Math.round(process.resourceUsage().maxRSS / 1024);
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
  const dir = path.join(ctx.config.index.stateDir, 'bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  ctx.out(JSON.stringify(result, null, 2));
  say(`written to ${file}`);
});
