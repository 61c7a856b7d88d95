import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexMismatchError, IndexMissingError } from '../../src/errors.ts';
import { buildIndex, staleFiles } from '../../src/index/build-index.ts';
import { ensureIndex } from '../../src/index/ensure-index.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { silentLogger } from '../../src/logger.ts';
import { tempDir, testConfig } from '../helpers/test-index.ts';

describe('buildIndex', () => {
  const root = tempDir();
  const corpus = path.join(root, 'corpus');
  const state = path.join(root, 'var');
  const config = () => ({ ...testConfig(state), index: { ...testConfig(state).index, corpusDir: corpus } });
  let first: Awaited<ReturnType<typeof buildIndex>>;

  beforeAll(async () => {
    cpSync('data/corpus', corpus, { recursive: true });
    first = await buildIndex(config());
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('indexes every document of the manifest and records what built it', async () => {
    expect(first.documents).toBe(5);
    expect(first.embedded).toBe(first.chunks);
    const dir = await currentBuildDir(state);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.formatVersion).toBe(1);
    expect(manifest.embedder).toMatchObject({ id: 'local-tfidf', dimensions: 1024 });
    expect(manifest.chunking).toEqual({ chunkSize: 300, chunkOverlap: 40 });
    expect(manifest.documents.map((d: { checksum: string }) => d.checksum.length)).toEqual([64, 64, 64, 64, 64]);
  });

  it('re-embeds nothing when nothing changed', async () => {
    const again = await buildIndex(config());
    expect(again.embedded).toBe(0);
    expect(again.reused).toBe(first.chunks);
  });

  it('embeds only a newly added document', async () => {
    const text = '# 测试区2024年政府工作报告\n\n一、主要任务\n\n测试区将建设100个智慧停车场，推进老旧小区改造。';
    writeFileSync(path.join(corpus, 'test-2024.md'), text);
    const manifest = JSON.parse(readFileSync(path.join(corpus, 'manifest.json'), 'utf8'));
    manifest.documents.push({ file: 'test-2024.md', title: '测试区2024年政府工作报告', district: '测试区', year: 2024, years: [2024], kind: '政府工作报告' });
    writeFileSync(path.join(corpus, 'manifest.json'), JSON.stringify(manifest));
    expect(await staleFiles(config())).toEqual(['test-2024.md']);
    const r = await buildIndex(config());
    expect(r.documents).toBe(6);
    expect(r.embedded).toBeGreaterThan(0);
    expect(r.embedded).toBeLessThan(5);
    const index = await loadPlanIndex(config().index, config().llm);
    expect(index.chunks.some((c) => c.file === 'test-2024.md' && c.text.includes('智慧停车场'))).toBe(true);
    expect(await staleFiles(config())).toEqual([]);
  });

  it('keeps using the last complete build when a later one was cut off', async () => {
    const before = await currentBuildDir(state);
    // A build folder without a manifest is what a crash mid-ingest leaves behind.
    mkdirSync(path.join(state, 'index', 'build-0-crashed'));
    writeFileSync(path.join(state, 'index', 'build-0-crashed', 'chunks.json'), '[');
    expect(await currentBuildDir(state)).toBe(before);
    await loadPlanIndex(config().index, config().llm);
    await buildIndex(config());
    expect(readdirSync(path.join(state, 'index')).filter((n) => n.startsWith('build-'))).toHaveLength(1);
  });

  it('tells the user to re-ingest when the configured embedder differs from the index', async () => {
    const other = { ...config(), index: { ...config().index, embedding: { provider: 'local' as const, dimensions: 512 } } };
    await expect(loadPlanIndex(other.index, other.llm)).rejects.toThrow(IndexMismatchError);
    await expect(loadPlanIndex(other.index, other.llm)).rejects.toThrow(/re-ingest with `npm run ingest -- --rebuild`/);
  });
});

describe('ensureIndex', () => {
  const state = tempDir();
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('builds a missing index, and rebuilds a corrupt one', async () => {
    const config = testConfig(state);
    await expect(loadPlanIndex(config.index, config.llm)).rejects.toThrow(IndexMissingError);
    const index = await ensureIndex(config, silentLogger());
    expect(index.chunks.length).toBeGreaterThan(500);

    const dir = await currentBuildDir(state);
    writeFileSync(path.join(dir, 'hnsw.bin'), 'garbage');
    await expect(loadPlanIndex(config.index, config.llm)).rejects.toThrow(/vector-index: cannot read/);
    const repaired = await ensureIndex(config, silentLogger());
    expect(repaired.chunks.length).toBe(index.chunks.length);

    const dir2 = await currentBuildDir(state);
    writeFileSync(path.join(dir2, 'manifest.json'), '{"formatVersion": 99}');
    await expect(loadPlanIndex(config.index, config.llm)).rejects.toThrow(/format version 99/);
    expect((await ensureIndex(config, silentLogger())).chunks.length).toBe(index.chunks.length);
  });
});
