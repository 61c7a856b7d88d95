import { appendFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexCorruptError, StateError } from '../../src/errors.ts';
import { BuildWriter } from '../../src/index/build-writer.ts';
import { l2Normalize } from '../../src/index/embedder.ts';
import { currentBuildDir, readManifest, verifyBuildFiles, type StoredChunk } from '../../src/index/index-store.ts';
import { planPartitions } from '../../src/index/vector-partitions.ts';
import { openVectors } from '../../src/index/vector-store.ts';
import { tempDir, testConfig } from '../helpers/test-index.ts';

/** A build of several districts, partitioned with a small minimum so that a few passages make several partitions. */
describe('BuildWriter with vector partitions', () => {
  const stateDir = tempDir();
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const dims = 8;
  const documents = [
    { file: 'a.txt', district: '武清区', chunks: 30 },
    { file: 'b.txt', district: '河北区', chunks: 20 },
    { file: 'c.txt', district: '津南区', chunks: 6 },
    { file: 'd.txt', district: '东丽区', chunks: 6 },
  ];
  const plan = planPartitions(documents, { min: 10 });
  const vector = (i: number) => l2Normalize(Float32Array.from({ length: dims }, (_, d) => Math.sin((i + 1) * (d + 1.7))));
  const chunk = (file: string, i: number): StoredChunk => ({ id: `${file}#${i}`, file, section: ['第一章'], start: i * 10, end: i * 10 + 5, text: `第${i}段`, quote: `第${i}段`, kind: 'text' });

  it('writes one HNSW file per partition, listed and checksummed in the manifest, searchable together', async () => {
    expect(plan.partitions.map((p) => p.districts)).toEqual([['武清区'], ['河北区'], ['东丽区', '津南区']]);
    const writer = await BuildWriter.open(stateDir, { dimensions: dims, plan, vector: { thread: false } });
    // Documents interleaved, as labels do not follow partitions.
    let label = 0;
    for (let i = 0; i < 30; i++) for (const d of documents) if (i < d.chunks) await writer.add(chunk(d.file, i), `${d.district} 第${i}段`, vector(label++));
    await writer.finish({ builtAt: new Date().toISOString(), embedder: { id: 'test', model: 'test', dimensions: dims }, chunking: { chunkSize: 300, chunkOverlap: 0 }, documents: [] });

    const dir = await currentBuildDir(stateDir);
    const manifest = await readManifest(dir);
    expect(manifest.vectorStore).toEqual({
      backend: 'hnswlib',
      partitions: [
        { file: 'hnsw-0.bin', districts: ['武清区'], count: 30 },
        { file: 'hnsw-1.bin', districts: ['河北区'], count: 20 },
        { file: 'hnsw-2.bin', districts: ['东丽区', '津南区'], count: 12 },
      ],
    });
    expect(Object.keys(manifest.checksums ?? {})).toEqual(expect.arrayContaining(['hnsw-0.bin', 'hnsw-1.bin', 'hnsw-2.bin']));
    const vectors = await openVectors(dir, manifest, testConfig(stateDir).index);
    expect(vectors.size).toBe(62);
    for (const l of [0, 3, 41, 61]) {
      expect((await vectors.search(vector(l), 1))[0]!.label).toBe(l);
      expect(await vectors.vectorsOf([l])).toEqual([vector(l)]);
    }
  });

  it('names a damaged partition file', async () => {
    const dir = await currentBuildDir(stateDir);
    appendFileSync(path.join(dir, 'hnsw-2.bin'), 'x');
    const err = await verifyBuildFiles(dir, await readManifest(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexCorruptError);
    expect((err as Error).message).toMatch(/hnsw-2\.bin is damaged/);
  });

  it('refuses a passage of a document the build was not planned for', async () => {
    const writer = await BuildWriter.open(stateDir, { dimensions: dims, plan, vector: { thread: false } });
    await expect(writer.add(chunk('z.txt', 0), 'x', vector(0))).rejects.toBeInstanceOf(StateError);
    await writer.abort();
  });
});
