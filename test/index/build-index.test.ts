import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IndexCorruptError, IndexMismatchError, IndexMissingError, StateError } from '../../src/errors.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import { staleFiles } from '../../src/index/ensure-index.ts';
import { ensureIndex } from '../../src/index/ensure-index.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { silentLogger } from '../../src/logger.ts';
import { copyCorpusIndex, tempDir, testConfig } from '../helpers/test-index.ts';

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
    expect(manifest.formatVersion).toBe(4);
    expect(manifest.embedder).toMatchObject({ id: 'local-tfidf', dimensions: 1024 });
    // The local embedder's vectors fold: HNSW over 512 dimensions, the full vectors kept to re-rank, and checksummed.
    expect(manifest.vectorStore.navigation).toEqual({ dimensions: 512, vectors: 'vectors-f16.bin' });
    expect(Object.keys(manifest.checksums)).toContain('vectors-f16.bin');
    expect(manifest.chunking).toEqual({ chunkSize: 300, chunkOverlap: 40 });
    expect(manifest.documents.map((d: { checksum: string }) => d.checksum.length)).toEqual([64, 64, 64, 64, 64]);
  });

  it('re-embeds nothing when nothing changed, and writes the same vectors', async () => {
    const vectorFiles = async () => {
      const dir = await currentBuildDir(state);
      return ['vectors-f16.bin', 'hnsw-0.bin'].map((f) => readFileSync(path.join(dir, f)));
    };
    const before = await vectorFiles();
    const again = await buildIndex(config());
    expect(again.embedded).toBe(0);
    expect(again.reused).toBe(first.chunks);
    // Reused vectors come back from half precision, and are folded from it as new ones are.
    const after = await vectorFiles();
    after.forEach((bytes, i) => expect(bytes.equals(before[i]!)).toBe(true));
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
    expect([...index.chunks].some((c) => c.file === 'test-2024.md' && c.text.includes('智慧停车场'))).toBe(true);
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

  it('a build that fails half-way leaves the current build in use and no partial folder', async () => {
    const before = await currentBuildDir(state);
    const index = await loadPlanIndex(config().index, config().llm);
    let calls = 0;
    const failing = {
      info: index.embedder.info,
      embedDocuments: async (texts: readonly string[]) => {
        if (++calls === 3) throw new Error('embedding service went away');
        return index.embedder.embedDocuments(texts);
      },
      embedQuery: (text: string) => index.embedder.embedQuery(text),
    };
    await expect(buildIndex(config(), { rebuild: true, embedder: failing })).rejects.toThrow('embedding service went away');
    expect(await currentBuildDir(state)).toBe(before);
    expect(readdirSync(path.join(state, 'index')).filter((n) => n.startsWith('build-'))).toEqual([path.basename(before)]);
    expect((await loadPlanIndex(config().index, config().llm)).chunks.length).toBe(index.chunks.length);
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
    writeFileSync(path.join(dir, 'hnsw-0.bin'), 'garbage');
    await expect(loadPlanIndex(config.index, config.llm)).rejects.toThrow(IndexCorruptError);
    const repaired = await ensureIndex(config, silentLogger());
    expect(repaired.chunks.length).toBe(index.chunks.length);

    const dir2 = await currentBuildDir(state);
    writeFileSync(path.join(dir2, 'manifest.json'), '{"formatVersion": 99}');
    await expect(loadPlanIndex(config.index, config.llm)).rejects.toThrow(/format version 99/);
    expect((await ensureIndex(config, silentLogger())).chunks.length).toBe(index.chunks.length);
  });
});

describe('damaged index files: found before loading, repaired from the corpus', () => {
  let chunkCount: number;
  const states: string[] = [];
  beforeAll(async () => {
    const state = copyCorpusIndex();
    states.push(state);
    chunkCount = (await loadPlanIndex(testConfig(state).index, testConfig(state).llm)).chunks.length;
  });
  afterAll(() => states.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /**
   * Damages a fresh copy of the index, checks the load refuses it with one line naming the
   * file; with `repair`, also that ensureIndex rebuilds it (one rebuild path serves every
   * IndexCorruptError, so not every case pays for a rebuild).
   */
  async function refusedThenRepaired(damage: (dir: string) => void, message: RegExp, options: { repair?: boolean } = {}): Promise<void> {
    const state = copyCorpusIndex();
    states.push(state);
    const config = testConfig(state);
    const dir = await currentBuildDir(state);
    damage(dir);
    const err = await loadPlanIndex(config.index, config.llm).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IndexCorruptError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
    if (!options.repair) return;
    const repaired = await ensureIndex(config, silentLogger());
    expect(repaired.chunks.length).toBe(chunkCount);
    expect(await currentBuildDir(state)).not.toBe(dir);
  }

  it('65,536 random bytes at offset 1 MiB of hnsw.bin (once a SIGSEGV on every start)', async () => {
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'hnsw-0.bin');
      const fd = openSync(file, 'r+');
      writeSync(fd, randomBytes(65_536), 0, 65_536, 1 << 20);
      closeSync(fd);
    }, /hnsw-0\.bin is damaged/, { repair: true });
  });

  it('16 changed bytes (once served unnoticed)', async () => {
    await refusedThenRepaired((dir) => {
      const fd = openSync(path.join(dir, 'hnsw-0.bin'), 'r+');
      writeSync(fd, Buffer.alloc(16, 0xab), 0, 16, 4096);
      closeSync(fd);
    }, /hnsw-0\.bin is damaged/);
  });

  it('a damaged hnsw header is damage, not an embedder mismatch', async () => {
    await refusedThenRepaired((dir) => {
      const fd = openSync(path.join(dir, 'hnsw-0.bin'), 'r+');
      writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, 16);
      closeSync(fd);
    }, /hnsw-0\.bin is damaged/);
  });

  it('an embedder state cut short in a build without checksums', async () => {
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'manifest.json');
      const { checksums: _, ...manifest } = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify(manifest));
      const state = path.join(dir, 'embedder.bin');
      const bytes = readFileSync(state);
      writeFileSync(state, bytes.subarray(0, bytes.length / 2));
    }, /embedder state \(.*embedder\.bin\) is unreadable; run `npm run ingest -- --rebuild`/);
  });

  it('an embedder state of an earlier build (JSON) of the wrong shape (once a raw ZodError)', async () => {
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'manifest.json');
      const { checksums: _, ...manifest } = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...manifest, files: { ...manifest.files, embedder: 'embedder.json' } }));
      writeFileSync(path.join(dir, 'embedder.json'), JSON.stringify({ model: 'char-ngram-1-3-v2', dimensions: 1024, documents: 3, df: [[1, 2, 3]] }));
    }, /embedder state \(.*embedder\.json\) is unreadable; run `npm run ingest -- --rebuild`/);
  });

  it('a half-precision vector file changed or cut short', async () => {
    await refusedThenRepaired((dir) => {
      const fd = openSync(path.join(dir, 'vectors-f16.bin'), 'r+');
      writeSync(fd, Buffer.alloc(2, 0x7c), 0, 2, 2048);
      closeSync(fd);
    }, /vectors-f16\.bin is damaged/);
    // A build without checksums: its size gives it away.
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'manifest.json');
      const { checksums: _, ...manifest } = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify(manifest));
      const vectors = path.join(dir, 'vectors-f16.bin');
      writeFileSync(vectors, readFileSync(vectors).subarray(0, 4096));
    }, /vectors-f16\.bin holds 4096 bytes, \d+ vectors of 1024 dims are \d+/, { repair: true });
  });

  it('a build of format 3 (float32 vectors in HNSW, one stage) still loads', async () => {
    // 512 dimensions are not folded: the build is one stage, as every build of format 3 was.
    const state = copyCorpusIndex();
    states.push(state);
    const config = testConfig(state, { EMBEDDING_DIMENSIONS: '512' });
    await buildIndex(config, { rebuild: true });
    const dir = await currentBuildDir(state);
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    expect(manifest.vectorStore.navigation).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...manifest, formatVersion: 3 }));
    const index = await loadPlanIndex(config.index, config.llm);
    expect(index.vector.dimensions).toBe(512);
    const hits = await index.vector.search(await index.embedder.embedQuery('森林覆盖率'), 5);
    expect(hits).toHaveLength(5);
    await index.close();
  });

  it('a deleted lexical.bin', async () => {
    await refusedThenRepaired((dir) => rmSync(path.join(dir, 'lexical.bin')), /lexical\.bin is missing/);
  });

  it('one changed byte in the chunk texts', async () => {
    await refusedThenRepaired((dir) => {
      const fd = openSync(path.join(dir, 'texts.bin'), 'r+');
      writeSync(fd, Buffer.from([0x41]), 0, 1, 100);
      closeSync(fd);
    }, /texts\.bin is damaged/);
  });

  it('a build of the previous format (separate vectors, JSON chunk table) is refused with one line (ensureIndex rebuilds it, as any other version)', async () => {
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'manifest.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), formatVersion: 1 }));
    }, /format version 1 in .*, this program reads 3 and 4; run `npm run ingest -- --rebuild`/);
  });

  it('a manifest whose chunk count disagrees with the chunk table', async () => {
    await refusedThenRepaired((dir) => {
      const file = path.join(dir, 'manifest.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      manifest.chunkCount += 1;
      writeFileSync(file, JSON.stringify(manifest));
    }, /lists \d+ chunks, its chunk table has \d+/, { repair: true });
  });

  it('STATE_DIR/index being a file: one line naming it and what to do, the file left alone', async () => {
    const other = tempDir();
    try {
      writeFileSync(path.join(other, 'index'), 'not a folder');
      const err = await ensureIndex(testConfig(other), silentLogger()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateError);
      expect((err as Error).message).toBe(`index: ${path.join(other, 'index')} is not a folder; move that file away (the index is rebuilt there at the next start)`);
      expect(readFileSync(path.join(other, 'index'), 'utf8')).toBe('not a folder');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('a changed embedder together with a changed corpus file', () => {
  it('is refused with the clear message instead of silently re-embedding everything; --rebuild does it', async () => {
    const root = tempDir();
    try {
      const corpus = path.join(root, 'corpus');
      cpSync('data/corpus', corpus, { recursive: true });
      const state = path.join(root, 'var');
      cpSync(inject('corpusIndexStateDir'), state, { recursive: true });
      const before = await currentBuildDir(state);
      const manifest = JSON.parse(readFileSync(path.join(corpus, 'manifest.json'), 'utf8'));
      const file = path.join(corpus, manifest.documents[0].file);
      writeFileSync(file, readFileSync(file, 'utf8') + '\n新增一段文字。\n');
      const base = testConfig(state);
      const other = { ...base, index: { ...base.index, corpusDir: corpus, embedding: { provider: 'local' as const, dimensions: 512 } } };
      await expect(ensureIndex(other, silentLogger())).rejects.toThrow(IndexMismatchError);
      await expect(buildIndex(other)).rejects.toThrow(/re-ingest with `npm run ingest -- --rebuild`/);
      expect(await currentBuildDir(state)).toBe(before);
      const rebuilt = await buildIndex(other, { rebuild: true });
      expect(rebuilt.embedded).toBe(rebuilt.chunks);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
