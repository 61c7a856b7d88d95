import type { IndexConfig, LlmConfig } from '../config.ts';
import { IndexCorruptError, IndexMissingError } from '../errors.ts';
import { readCorpus, type DocumentMeta, type SkippedFile } from '../ingest/corpus.ts';
import { extractedDir } from '../ingest/extracted-store.ts';
import type { Logger } from '../logger.ts';
import type { IngestProgress } from './build-index.ts';
import { currentBuildDir, readManifest } from './index-store.ts';
import { loadPlanIndex, type PlanIndex } from './plan-index.ts';

/**
 * Opens the index for serving, repairing what can be repaired without asking: builds it
 * when missing, rebuilds it when corrupt, updates it when corpus files changed. An
 * embedder mismatch is not repaired silently (re-embedding may cost money): it throws
 * IndexMismatchError telling the user to re-ingest.
 */
export async function ensureIndex(
  config: { index: IndexConfig; llm: LlmConfig },
  log: Logger,
  onProgress?: (p: IngestProgress) => void,
): Promise<PlanIndex> {
  const build = async (rebuild: boolean, why: string) => {
    log.info({ why }, rebuild ? 'building the index from scratch' : 'updating the index');
    // Building needs the chunker and its text splitter; a process that only serves never loads them.
    const { buildIndex } = await import('./build-index.ts');
    const r = await buildIndex(config, { rebuild, ...(onProgress ? { onProgress } : {}) });
    // After a fresh build staleFiles() did not run (or failed): name the skipped files here.
    if (rebuild) for (const s of r.skipped) log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`);
    log.info({ documents: r.documents, chunks: r.chunks, embedded: r.embedded, reused: r.reused, skipped: r.skipped.length, ms: r.ms }, 'index ready');
  };
  try {
    const stale = await staleFiles(config, (s) => log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`));
    if (stale.length > 0) await build(false, `corpus changed: ${stale.join(', ')}`);
    return await loadPlanIndex(config.index, config.llm);
  } catch (err) {
    if (err instanceof IndexMissingError) {
      await build(true, 'no index yet');
      return loadPlanIndex(config.index, config.llm);
    }
    if (err instanceof IndexCorruptError) {
      log.warn({ err: err.message }, 'index unreadable');
      await build(true, 'index unreadable');
      return loadPlanIndex(config.index, config.llm);
    }
    throw err;
  }
}

const DESCRIBING: Array<keyof DocumentMeta> = ['title', 'district', 'year', 'kind', 'issuer'];

/** Files whose checksum or description differs from the index (added, changed, removed): the index is stale when non-empty. */
export async function staleFiles(config: { index: IndexConfig }, onSkipped?: (s: SkippedFile) => void): Promise<string[]> {
  const dir = await currentBuildDir(config.index.stateDir);
  const manifest = await readManifest(dir);
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
