import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { IndexCorruptError, IndexMismatchError } from '../../src/errors.ts';
import { l2Normalize } from '../../src/index/embedder.ts';
import { createVectorIndexWriter } from '../../src/index/vector-index-writer.ts';
import { HnswVectorIndex } from '../../src/index/vector-index.ts';
import { tempDir } from '../helpers/test-index.ts';

function randomVectors(n: number, dims: number, seed = 1): Float32Array[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: n }, () => l2Normalize(Float32Array.from({ length: dims }, rnd)));
}

describe('HnswVectorIndex', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const vectors = randomVectors(300, 16);
  const index = HnswVectorIndex.build(vectors, 16);

  it('finds a stored vector first, with cosine score 1', () => {
    const hits = index.search(vectors[42]!, 3);
    expect(hits[0]!.label).toBe(42);
    expect(hits[0]!.score).toBeCloseTo(1, 4);
  });

  it('clamps k to the index size and honours a filter', () => {
    const small = HnswVectorIndex.build(vectors.slice(0, 5), 16);
    expect(small.search(vectors[0]!, 50)).toHaveLength(5);
    const even = index.search(vectors[43]!, 10, (label) => label % 2 === 0);
    expect(even.length).toBeGreaterThan(0);
    expect(even.every((h) => h.label % 2 === 0)).toBe(true);
  });

  it('returns more than the default ef when asked for many results', () => {
    expect(index.search(vectors[0]!, 200)).toHaveLength(200);
  });

  it('saves and loads, restoring the search ef that readIndex resets', async () => {
    const file = path.join(dir, 'hnsw.bin');
    await index.save(file);
    const loaded = await HnswVectorIndex.load(file, 16, 300);
    expect(loaded.search(vectors[7]!, 100).map((h) => h.label)).toContain(7);
    expect(loaded.search(vectors[7]!, 100)).toHaveLength(100);
  });

  it('checks dimensions and counts that hnswlib does not', async () => {
    const file = path.join(dir, 'hnsw2.bin');
    await index.save(file);
    await expect(HnswVectorIndex.load(file, 32, 300)).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(HnswVectorIndex.load(file, 16, 299)).rejects.toBeInstanceOf(IndexCorruptError);
    expect(() => index.search(new Float32Array(8), 3)).toThrow(/expected 16 dims, got 8/);
  });

  it('reports a damaged file as corrupt', async () => {
    const file = path.join(dir, 'broken.bin');
    writeFileSync(file, 'not an index');
    await expect(HnswVectorIndex.load(file, 16, 300)).rejects.toBeInstanceOf(IndexCorruptError);
  });
});

describe('VectorIndexWriter', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const vectors = randomVectors(700, 16, 7);

  it('builds in a worker thread the same index as on the main thread, past its capacity and a partial batch', async () => {
    const written: Record<string, string> = {};
    for (const thread of [false, true]) {
      const writer = createVectorIndexWriter(16, 100, { thread });
      for (const v of vectors) await writer.add(v);
      written[String(thread)] = path.join(dir, `hnsw-${thread}.bin`);
      await writer.save(written[String(thread)]!);
    }
    const inProcess = await HnswVectorIndex.load(written.false!, 16, 700);
    const threaded = await HnswVectorIndex.load(written.true!, 16, 700);
    for (const q of [0, 99, 100, 640, 699]) expect(threaded.search(vectors[q]!, 10)).toEqual(inProcess.search(vectors[q]!, 10));
    expect(threaded.vectorOf(640)).toEqual(vectors[640]);
  });

  it('reports a failure in the worker thread instead of hanging', async () => {
    const writer = createVectorIndexWriter(16, 10, { thread: true });
    await writer.add(vectors[0]!);
    await expect(writer.save(path.join(dir, 'missing-folder', 'hnsw.bin'))).rejects.toThrow(/vector-index: cannot write .*missing-folder/);
    await writer.close();
  });
});
