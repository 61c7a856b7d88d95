import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import type { Embedder } from '../../src/index/embedder.ts';
import { ensureIndex } from '../../src/index/ensure-index.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { DocumentLibrary, safeFileName } from '../../src/ingest/document-library.ts';
import { silentLogger } from '../../src/logger.ts';
import { JINGHAI_MARKDOWN } from '../helpers/format-fixtures.ts';
import { tempDir, testConfig } from '../helpers/test-index.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const OWNER = { chatId: 7001, userId: 7001 };
const KEPT = 'wuqing-2018-government-work-report.txt';

describe('DocumentLibrary', () => {
  let dir: string;
  let config: Config;
  let library: DocumentLibrary;

  beforeEach(async () => {
    dir = tempDir('library-');
    // One shipped document (with its manifest entry) keeps each build short.
    const corpus = path.join(dir, 'corpus');
    await mkdir(corpus);
    await cp(path.join(REPO, 'data/corpus', KEPT), path.join(corpus, KEPT));
    const shipped = JSON.parse(await readFile(path.join(REPO, 'data/corpus/manifest.json'), 'utf8')) as { documents: Array<{ file: string }> };
    await writeFile(path.join(corpus, 'manifest.json'), JSON.stringify({ version: 1, documents: shipped.documents.filter((d) => d.file === KEPT) }));
    config = testConfig(path.join(dir, 'state'), { CORPUS_DIR: corpus });
    library = new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking);
    await buildIndex(config);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stages an upload with what its text says, kept on disk for a later process', async () => {
    const upload = await library.stage(Buffer.from(JINGHAI_MARKDOWN), '静海 规划/../x.md', OWNER);
    expect(upload.meta).toMatchObject({ district: '静海区', kind: '五年规划', title: '天津市静海区国民经济和社会发展第十四个五年规划纲要' });
    expect(upload.counts).toMatchObject({ tables: 1, indicators: 3 });
    const again = new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking);
    expect(await again.get(upload.id)).toEqual(upload);
    expect(await again.get('../../etc')).toBeUndefined();
    expect(safeFileName('静海 规划/../x.md')).toBe('x.md');
    expect(safeFileName('../../a b?.PDF')).toBe('a-b.pdf');
  });

  it('an ingest cut short by a crash is finished by the next start, and the upload marked done', async () => {
    const upload = await library.stage(Buffer.from(JINGHAI_MARKDOWN), 'jinghai.md', OWNER);
    upload.state = 'ingesting';
    upload.corpusFile = await library.addToCorpus(upload);
    await library.save(upload);
    // The process dies here, before the index is updated. The next start:
    const index = await ensureIndex(config, silentLogger());
    expect(index.documents.map((d) => d.district)).toContain('静海区');
    const settled = await new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking).settleInterrupted(new Set(index.documents.map((d) => d.file)));
    expect(settled.map((u) => [u.id, u.state])).toEqual([[upload.id, 'done']]);
    const manifest = JSON.parse(await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8')) as { documents: Array<{ file: string; added?: string }> };
    expect(manifest.documents.at(-1)).toMatchObject({ file: 'jinghai.md', added: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
  });

  it('a build that fails leaves the last good index serving; the upload is taken back out of the corpus', async () => {
    const before = await loadPlanIndex(config.index, config.llm);
    const corpusBefore = (await readdir(config.index.corpusDir)).sort();
    const manifestBefore = await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8');
    const upload = await library.stage(Buffer.from(JINGHAI_MARKDOWN), 'jinghai.md', OWNER);
    upload.corpusFile = await library.addToCorpus(upload);
    // The embedder fails part-way, as a full disk or a dead embeddings server would.
    const failing: Embedder = { info: before.embedder.info, embedQuery: (t) => before.embedder.embedQuery(t), embedDocuments: () => Promise.reject(new Error('embeddings: out of memory')) };
    await expect(buildIndex(config, { embedder: failing })).rejects.toThrow(/out of memory/);
    const after = await loadPlanIndex(config.index, config.llm);
    expect(after.manifest.builtAt).toBe(before.manifest.builtAt);
    expect(after.documents.map((d) => d.file)).toEqual(before.documents.map((d) => d.file));
    await library.withdraw(upload);
    expect((await readdir(config.index.corpusDir)).sort()).toEqual(corpusBefore);
    expect(JSON.parse(await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8'))).toEqual(JSON.parse(manifestBefore));
  });

  it('removing a document moves its file out of the corpus and drops its manifest entry, undoably', async () => {
    const manifestBefore = await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8');
    const restore = await library.removeFromCorpus(KEPT);
    expect(await readdir(config.index.corpusDir)).not.toContain(KEPT);
    const removed = await readdir(path.join(config.index.stateDir, 'removed'));
    expect(removed).toEqual([expect.stringMatching(/-wuqing-2018-government-work-report\.txt$/)]);
    const manifest = JSON.parse(await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8')) as { documents: Array<{ file: string }> };
    expect(manifest.documents.map((d) => d.file)).not.toContain(KEPT);
    await expect(library.removeFromCorpus('../secret')).rejects.toThrow(/not a corpus document/);
    // When the index cannot follow, the removal is undone.
    await restore();
    expect(await readdir(config.index.corpusDir)).toContain(KEPT);
    expect(JSON.parse(await readFile(path.join(config.index.corpusDir, 'manifest.json'), 'utf8'))).toEqual(JSON.parse(manifestBefore));
  });
});
