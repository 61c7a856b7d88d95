import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BuildWriter } from '../src/index/build-writer.ts';
import type { StoredChunk } from '../src/index/index-store.ts';
import { LocalEmbedder } from '../src/index/local-embedder.ts';
import { planPartitions } from '../src/index/vector-partitions.ts';
import { navigationDimensions } from '../src/index/vector-store.ts';
import { benchTempDir } from './bench-temp.ts';
import { SYNTHETIC_DOCUMENTS, syntheticChunks } from './synthetic-corpus.ts';
import type { ScaleServeResult } from './bench-scale-serve.ts';

/**
 * Scale run: an index of N synthetic chunks made by recombining the corpus' sentences
 * across invented districts, built with the product's own build writer (chunks streamed:
 * generated, embedded and added a batch at a time, so memory during the build is that of
 * the index, not of every chunk's intermediates), written to a temporary folder, then
 * opened and searched in a fresh process (bench-scale-serve.ts) so resident memory is
 * that of serving the index, not what the build left behind. Each phase's figures are
 * written to `<resultDir>/scale-….json` as soon as it ends: a later failure loses nothing.
 */

export interface ScaleResult {
  chunks: number;
  dimensions: number;
  /** The dimensions HNSW searches in a two-stage build (the full vectors re-rank); absent: one stage. */
  navigationDimensions?: number | undefined;
  efConstruction: number;
  /** HNSW partitions (one per district here: each is a tenth of the chunks). */
  partitions?: number;
  /** Time per phase of the build; HNSW insertion runs in a worker thread beside the rest. */
  build?: {
    ms: number;
    ratePerSecond: number;
    fitMs: number;
    generateMs: number;
    embedMs: number;
    chunkTableMs: number;
    lexicalMs: number;
    /** Main thread waiting for the HNSW threads (their insertion time not hidden behind the rest). */
    vectorWaitMs: number;
    /** Writing and checksumming the files after the last chunk (includes the HNSW thread finishing). */
    finishMs: number;
    peakRssMb: number;
    /** CPU seconds the build used (both threads): on a shared machine, the rate one idle core pair would see is about chunks / (cpuSeconds / 2). */
    cpuSeconds: number;
    /**
     * CPU seconds per thread of this process from the start of the build up to the last chunk added (before the files
     * are written): the main thread, and the others (the HNSW insertion threads, and
     * V8's and libuv's helpers) by thread id. Linux only (from /proc); absent elsewhere.
     */
    cpuSecondsByThread?: { main: number; others: Record<string, number> };
  };
  /** Bytes per index file. */
  files?: Record<string, number>;
  serve?: ScaleServeResult;
  error?: string;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

export async function benchScale(
  sentences: readonly string[],
  n: number,
  log: (msg: string) => void,
  options: { resultDir?: string; efConstruction?: number } = {},
): Promise<ScaleResult> {
  const efConstruction = options.efConstruction ?? 100;
  const result: ScaleResult = { chunks: n, dimensions: 0, efConstruction };
  const resultFile = options.resultDir ? path.join(options.resultDir, `scale-${n}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`) : undefined;
  const save = () => {
    if (!resultFile) return;
    mkdirSync(path.dirname(resultFile), { recursive: true });
    writeFileSync(resultFile, JSON.stringify(result, null, 2));
  };
  const temp = benchTempDir('plan-qa-scale-');
  try {
    let t = performance.now();
    // The local embedder's document frequencies, fitted on the first 20,000 chunks.
    const fitTexts: string[] = [];
    for (const { context } of syntheticChunks(sentences, Math.min(n, 20_000))) fitTexts.push(context);
    const embedder = LocalEmbedder.fit(fitTexts);
    fitTexts.length = 0;
    const fitMs = performance.now() - t;
    result.dimensions = embedder.info.dimensions;
    log(`scale: embedder fitted in ${Math.round(fitMs)} ms; building ${n} chunks…`);

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const mainCpu0 = threadCpuSeconds()?.main ?? 0;
    // Chunk i is of document i % 10 (syntheticChunks).
    const plan = planPartitions(SYNTHETIC_DOCUMENTS.map((d, i) => ({ file: d.file, district: d.district, chunks: Math.floor(n / SYNTHETIC_DOCUMENTS.length) + (i < n % SYNTHETIC_DOCUMENTS.length ? 1 : 0) })));
    result.partitions = plan.partitions.length;
    const navigation = navigationDimensions(embedder);
    result.navigationDimensions = navigation;
    const writer = await BuildWriter.open(temp.path, { dimensions: embedder.info.dimensions, plan, vector: { efConstruction, ...(navigation ? { navigation } : {}) } });
    let generateMs = 0;
    let embedMs = 0;
    let peakRss = 0;
    let lastReport = performance.now();
    const batch: Array<{ chunk: StoredChunk; context: string }> = [];
    const flush = async () => {
      let s = performance.now();
      const vectors = await embedder.embedDocuments(batch.map((b) => b.context));
      embedMs += performance.now() - s;
      for (const [i, { chunk, context }] of batch.entries()) await writer.add(chunk, context, vectors[i]!);
      batch.length = 0;
      s = performance.now();
      if (s - lastReport > 10_000 || writer.count === n) {
        lastReport = s;
        const rss = process.memoryUsage().rss;
        peakRss = Math.max(peakRss, rss);
        const elapsed = (s - t0) / 1000;
        log(`scale: built ${writer.count}/${n} (${Math.round((100 * writer.count) / n)}%), ${Math.round(writer.count / elapsed)} chunks/s, rss ${mb(rss)} MB`);
      }
    };
    try {
      let s = performance.now();
      for (const item of syntheticChunks(sentences, n)) {
        batch.push(item);
        if (batch.length === 256) {
          generateMs += performance.now() - s;
          await flush();
          s = performance.now();
        }
      }
      generateMs += performance.now() - s;
      if (batch.length > 0) await flush();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const cpuSecondsByThread = threadCpuSeconds();
    if (cpuSecondsByThread) cpuSecondsByThread.main = Math.round((cpuSecondsByThread.main - mainCpu0) * 10) / 10;
    log('scale: writing the index files…');
    await writer.finish({ builtAt: new Date().toISOString(), embedder: embedder.info, chunking: { chunkSize: 300, chunkOverlap: 0 }, documents: SYNTHETIC_DOCUMENTS }, embedder);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const { timings } = writer;
    result.build = {
      ms: Math.round(ms),
      ratePerSecond: Math.round(n / (ms / 1000)),
      fitMs: Math.round(fitMs),
      generateMs: Math.round(generateMs),
      embedMs: Math.round(embedMs),
      chunkTableMs: Math.round(timings.chunkTableMs),
      lexicalMs: Math.round(timings.lexicalMs),
      vectorWaitMs: Math.round(timings.vectorMs),
      finishMs: Math.round(timings.finishMs),
      peakRssMb: mb(peakRss),
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      ...(cpuSecondsByThread ? { cpuSecondsByThread } : {}),
    };
    result.files = Object.fromEntries(readdirSync(writer.dir).map((f) => [f, statSync(path.join(writer.dir, f)).size]));
    save();
    log(`scale: built ${n} chunks in ${Math.round(ms / 1000)} s (${result.build.ratePerSecond} chunks/s, ${result.build.cpuSeconds} CPU s), build rss peak ${result.build.peakRssMb} MB`);
    if (cpuSecondsByThread) log(`scale: CPU s up to the last chunk: main thread ${cpuSecondsByThread.main}, others ${JSON.stringify(cpuSecondsByThread.others)}`);

    log('scale: opening and searching the index in a fresh process…');
    result.serve = await serveInChild(temp.path, log);
    save();
    log(
      `scale: load ${result.serve.loadMs} ms, resident ${result.serve.residentPerChunkBytes} bytes/chunk (${result.serve.residentAboveEmptyMb} MB above the empty process), ` +
        `hybrid search p50 ${result.serve.searchMs.p50} ms p95 ${result.serve.searchMs.p95} ms (without a district: p50 ${result.serve.unscopedSearchMs.p50} ms p95 ${result.serve.unscopedSearchMs.p95} ms)`,
    );
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
    save();
    log(`scale: failed: ${result.error}`);
  } finally {
    temp.remove();
  }
  return result;
}

/** CPU seconds of each thread of this process so far (user + system, from /proc; 10 ms ticks), threads under 0.1 s left out. */
function threadCpuSeconds(): { main: number; others: Record<string, number> } | undefined {
  try {
    const seconds = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    const others: Record<string, number> = {};
    for (const tid of readdirSync('/proc/self/task')) {
      if (tid === String(process.pid)) continue;
      const s = seconds(tid);
      if (s >= 0.1) others[tid] = Math.round(s * 10) / 10;
    }
    return { main: Math.round(seconds(String(process.pid)) * 10) / 10, others };
  } catch {
    return undefined;
  }
}

/** Runs bench-scale-serve in a new Node process (the same loader as this one: tsx or compiled). */
function serveInChild(stateDir: string, log: (msg: string) => void): Promise<ScaleServeResult> {
  const script = new URL(`./bench-scale-serve${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', script.pathname, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench: the serving process exited with code ${code}`));
      try {
        resolve(JSON.parse(out) as ScaleServeResult);
      } catch (err) {
        reject(new Error(`bench: the serving process printed no result (${(err as Error).message})`));
      }
    });
  });
}
