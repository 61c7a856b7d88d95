import { parseArgs } from 'node:util';
import { buildIndex } from '../index/build-index.ts';
import { publishGeneration } from '../index/index-generations.ts';
import { runCli } from './cli-runtime.ts';

await runCli('ingest', async (ctx) => {
  const { values } = parseArgs({ options: { rebuild: { type: 'boolean', default: false } } });
  const r = await buildIndex(ctx.config, {
    rebuild: values.rebuild,
    onProgress: (p) => {
      if (p.phase === 'document') ctx.log.info({ file: p.file, chunks: p.chunks, unchanged: p.reused }, `document ${p.done}/${p.total}`);
      else if (p.phase === 'embed') ctx.log.info(`embedded ${p.done}/${p.total} chunks`);
      else if (p.phase === 'load') ctx.log.info(`corpus: ${p.documents} documents`);
      else if (p.phase === 'skip') ctx.out(`skipped ${p.file}: ${p.reason}`);
    },
  });
  ctx.out(`indexed ${r.documents} documents, ${r.chunks} chunks (${r.embedded} embedded, ${r.reused} unchanged) with ${r.embedder} in ${r.ms} ms`);
  const shared = ctx.config.index.sharedDir;
  if (shared) {
    // The fleet's instances switch to it within a second or two (see index-generations.ts).
    const g = await publishGeneration(r.dir, shared);
    ctx.out(`published index generation ${g.name} in ${shared}${g.removed.length > 0 ? ` (removed ${g.removed.length} old)` : ''}`);
  }
});
