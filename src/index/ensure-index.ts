import type { IndexConfig, LlmConfig } from '../config.ts';
import { IndexCorruptError, IndexMissingError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { buildIndex, staleFiles, type IngestProgress } from './build-index.ts';
import { currentBuildDir, readManifest } from './index-store.ts';
import { loadPlanIndex, type PlanIndex } from './plan-index.ts';
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
    const r = await buildIndex(config, { rebuild, ...(onProgress ? { onProgress } : {}), ...(postgres ? { postgres } : {}) });
    // After a fresh build staleFiles() did not run (or failed): name the skipped files here.
    if (rebuild) for (const s of r.skipped) log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`);
    log.info({ documents: r.documents, chunks: r.chunks, embedded: r.embedded, reused: r.reused, skipped: r.skipped.length, ms: r.ms }, 'index ready');
  };
  try {
    const stale = await staleFiles(config, (s) => log.warn({ file: s.file }, `skipped ${s.file}: ${s.reason}`));
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
