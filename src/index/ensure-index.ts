import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { IndexConfig, LlmConfig } from '../config.ts';
import { IndexCorruptError, IndexMissingError } from '../errors.ts';
import type { DocumentMeta, SkippedFile } from '../ingest/corpus.ts';
import type { Logger } from '../logger.ts';
import type { IngestProgress } from './build-index.ts';
import { currentBuildDir, indexRoot, readManifest } from './index-store.ts';
import { currentGeneration } from './index-generations.ts';
import { loadPlanIndex, loadPlanIndexFrom, type PlanIndex } from './plan-index.ts';
import { manifestVectorBackend } from './vector-store.ts';
import type { Postgres } from '../postgres-client.ts';

/**
 * Opens the index for serving, repairing what can be repaired without asking: builds it
 * when missing, rebuilds it when corrupt, updates it when corpus files changed. An
 * embedder mismatch is not repaired silently (re-embedding may cost money): it throws
 * IndexMismatchError telling the user to re-ingest. A change of VECTOR_BACKEND moves the
 * stored vectors into the other backend without re-embedding.
 */
export async function ensureIndex(
  config: { index: IndexConfig; llm: LlmConfig },
  log: Logger,
  onProgress?: (p: IngestProgress) => void,
  postgres?: Postgres,
): Promise<PlanIndex> {
  const build = async (rebuild: boolean, why: string) => {
    log.info({ why }, rebuild ? 'building the index from scratch' : 'updating the index');
    // Building needs the chunker and its text splitter; a process that only serves never loads them.
    const { buildIndex } = await import('./build-index.ts');
    const r = await buildIndex(config, { rebuild, ...(onProgress ? { onProgress } : {}), ...(postgres ? { postgres } : {}) });
    // After a fresh build staleFiles() did not run (or failed): name the skipped files here.
    if (rebuild) for (const s of r.skipped) log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`);
    log.info({ documents: r.documents, chunks: r.chunks, embedded: r.embedded, reused: r.reused, skipped: r.skipped.length, ms: r.ms }, 'index ready');
  };
  try {
    const stale = await staleFilesQuickly(config, (s) => log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`));
    if (stale.length > 0) await build(false, `corpus changed: ${stale.join(', ')}`);
    else {
      // Another VECTOR_BACKEND: the stored vectors are reused, only their searchable form is rebuilt.
      const built = manifestVectorBackend(await readManifest(await currentBuildDir(config.index.stateDir)));
      if (built !== config.index.vectors.backend) await build(false, `vectors move from ${built} to ${config.index.vectors.backend}`);
    }
    return await loadPlanIndex(config.index, config.llm, postgres ? { postgres } : {});
  } catch (err) {
    if (err instanceof IndexMissingError) {
      await build(true, 'no index yet');
      return loadPlanIndex(config.index, config.llm, postgres ? { postgres } : {});
    }
    if (err instanceof IndexCorruptError) {
      log.warn({ err: err.message }, 'index unreadable');
      await build(true, 'index unreadable');
      return loadPlanIndex(config.index, config.llm, postgres ? { postgres } : {});
    }
    throw err;
  }
}

/**
 * The index a process answers from: with INDEX_SHARED_DIR, the generation a fleet's ingest
 * job published there (`generation` names it; nothing is built here, and none published is
 * an IndexMissingError saying to run the ingest); otherwise this process's own, built or
 * repaired on first use (ensureIndex). The bot and the commands open it the same way, so
 * `npm run ask` on a fleet's machine answers from what the fleet serves.
 */
export async function openServingIndex(
  config: { index: IndexConfig; llm: LlmConfig },
  log: Logger,
  onProgress?: (p: IngestProgress) => void,
  postgres?: Postgres,
): Promise<{ index: PlanIndex; generation?: string }> {
  const shared = config.index.sharedDir;
  if (!shared) return { index: await ensureIndex(config, log, onProgress, postgres) };
  const published = await currentGeneration(shared);
  const index = await loadPlanIndexFrom(published.dir, config.index, config.llm, postgres ? { postgres } : {});
  log.info({ generation: published.name }, 'index generation loaded');
  return { index, generation: published.name };
}

const DESCRIBING: Array<keyof DocumentMeta> = ['title', 'district', 'year', 'kind', 'issuer'];

/** Files whose checksum or description differs from the index (added, changed, removed): the index is stale when non-empty. */
export async function staleFiles(config: { index: IndexConfig }, onSkipped?: (s: SkippedFile) => void): Promise<string[]> {
  const dir = await currentBuildDir(config.index.stateDir);
  const manifest = await readManifest(dir);
  // Reading the corpus (and its extractors) is needed only when a corpus file changed since the last check.
  const [{ readCorpus }, { extractedDir }] = await Promise.all([import('../ingest/corpus.ts'), import('../ingest/extracted-store.ts')]);
  const { documents: sources, skipped } = await readCorpus(config.index.corpusDir, { extractedDir: extractedDir(config.index.stateDir) });
  const indexed = new Map(manifest.documents.map((d) => [d.file, d]));
  const changed = sources
    .filter((s) => {
      const d = indexed.get(s.meta.file);
      return d?.checksum !== s.checksum || DESCRIBING.some((k) => d[k] !== s.meta[k]) || d.years.join() !== s.meta.years.join();
    })
    .map((s) => s.meta.file);
  for (const s of skipped) onSkipped?.(s);
  const removed = manifest.documents.filter((d) => !sources.some((s) => s.meta.file === d.file)).map((d) => d.file);
  return [...changed, ...removed];
}

/**
 * What the corpus folder looked like when it last matched the index: every file's size and
 * modification time, the build they matched, and the files skipped then. Reading and
 * hashing every document at each start grows with the corpus (seconds for a province's
 * plans); a `stat` of each file does not.
 */
const corpusCheckSchema = z.object({
  build: z.string(),
  files: z.record(z.string(), z.tuple([z.number(), z.number()])),
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
});
type CorpusCheck = z.infer<typeof corpusCheckSchema>;

function corpusCheckFile(stateDir: string): string {
  return path.join(indexRoot(stateDir), 'corpus-check.json');
}

async function statCorpus(dir: string): Promise<CorpusCheck['files'] | undefined> {
  try {
    const names = (await fs.readdir(dir)).sort();
    const stats = await Promise.all(names.map((n) => fs.stat(path.join(dir, n))));
    return Object.fromEntries(names.map((n, i) => [n, [stats[i]!.size, stats[i]!.mtimeMs] as [number, number]]));
  } catch {
    return undefined; // readCorpus says what is wrong with the folder
  }
}

/**
 * staleFiles, skipped when no corpus file changed size or modification time since the
 * last time the corpus matched the current build (the skipped files are told again).
 */
export async function staleFilesQuickly(config: { index: IndexConfig }, onSkipped?: (s: SkippedFile) => void): Promise<string[]> {
  const build = path.basename(await currentBuildDir(config.index.stateDir));
  const file = corpusCheckFile(config.index.stateDir);
  const files = await statCorpus(config.index.corpusDir);
  const last = await fs
    .readFile(file, 'utf8')
    .then((text) => corpusCheckSchema.parse(JSON.parse(text)))
    .catch(() => undefined);
  if (files && last && last.build === build && JSON.stringify(last.files) === JSON.stringify(files)) {
    for (const s of last.skipped) onSkipped?.(s);
    return [];
  }
  const skipped: SkippedFile[] = [];
  const stale = await staleFiles(config, (s) => {
    skipped.push(s);
    onSkipped?.(s);
  });
  if (stale.length === 0 && files) {
    const record: CorpusCheck = { build, files, skipped };
    // Best effort: without the record the next start checks the corpus in full again.
    await fs.writeFile(`${file}.tmp-${process.pid}`, JSON.stringify(record)).then(() => fs.rename(`${file}.tmp-${process.pid}`, file)).catch(() => {});
  }
  return stale;
}
