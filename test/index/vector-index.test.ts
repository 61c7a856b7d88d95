import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { IndexCorruptError, IndexMismatchError } from '../../src/errors.ts';
import { foldVector, l2Normalize } from '../../src/index/embedder.ts';
import { HalfVectors } from '../../src/index/half-vectors.ts';
import { hnswVectorSink } from '../../src/index/vector-store.ts';
import { createVectorIndexWriter, threadOfPartition } from '../../src/index/vector-index-writer.ts';
import { HnswVectorIndex } from '../../src/index/vector-index.ts';
import { HnswVectorSearch } from '../../src/index/hnsw-vector-search.ts';
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
  // More than two of a thread's batches (512 vectors of one partition) for partition 2.
  const vectors = randomVectors(1_400, 16, 7);
  // Three partitions, interleaved as documents of three districts would be; capacities below what arrives.
  const partitionOf = (label: number) => (label < 300 ? label % 2 : 2);

  it('builds in worker threads the same partitions as on the main thread, byte for byte, past their capacity and across batches', async () => {
    const written: Record<string, string[]> = {};
    for (const thread of [false, true]) {
      const writer = createVectorIndexWriter(16, [60, 60, 100], { thread, threads: 2 });
      for (const [label, v] of vectors.entries()) await writer.add(v, partitionOf(label));
      written[String(thread)] = [0, 1, 2].map((p) => path.join(dir, `hnsw-${thread}-${p}.bin`));
      await writer.save(written[String(thread)]!);
    }
    // Each partition's vectors reach its index in the same order, whatever the batching.
    for (const p of [0, 1, 2]) expect(readFileSync(written.true![p]!).equals(readFileSync(written.false![p]!))).toBe(true);
    const sizes = [150, 150, 1_100];
    const load = (files: string[]) => Promise.all(files.map((f, p) => HnswVectorIndex.load(f, 16, sizes[p]!)));
    const inProcess = new HnswVectorSearch(await load(written.false!));
    const threaded = new HnswVectorSearch(await load(written.true!));
    expect(threaded.size).toBe(1_400);
    for (const q of [0, 99, 100, 640, 1_399]) expect(await threaded.search(vectors[q]!, 10)).toEqual(await inProcess.search(vectors[q]!, 10));
    expect(await threaded.vectorsOf([640, 3, 4])).toEqual([vectors[640], vectors[3], vectors[4]]);
  });

  it('gives each thread about the same number of vectors to insert', () => {
    // Largest first, each to the thread with fewest: 100 + 40 + 10 against 90 + 60 (by number: 170 against 130).
    expect(threadOfPartition([100, 90, 60, 40, 10], 2)).toEqual([0, 1, 1, 0, 0]);
    expect(threadOfPartition([5, 5, 5, 5], 2)).toEqual([0, 1, 0, 1]);
    expect(threadOfPartition([7], 2)).toEqual([0]);
  });

  it('refuses a partition the build was not planned with', async () => {
    const writer = createVectorIndexWriter(16, [10, 10], { thread: false });
    await expect(writer.add(vectors[0]!, 2)).rejects.toThrow(/partition 2 is not one of the build's 2/);
  });

  it('reports a failure in the worker thread instead of hanging', async () => {
    const writer = createVectorIndexWriter(16, [10], { thread: true });
    await writer.add(vectors[0]!, 0);
    await expect(writer.save([path.join(dir, 'missing-folder', 'hnsw.bin')])).rejects.toThrow(/vector-index: cannot write .*missing-folder/);
    await writer.close();
  });
});

describe('HnswVectorSearch over partitions', () => {
  const dims = 16;
  const vectors = randomVectors(900, dims, 11);
  // Partition 0: labels 0-299 and 600-899 of two "districts"; partition 1: 300-599.
  const partitionOf = (label: number) => (label >= 300 && label < 600 ? 1 : 0);
  const build = (p: number) => {
    const index = HnswVectorIndex.create(dims, 10);
    vectors.forEach((v, label) => partitionOf(label) === p && index.add(v, label));
    return index;
  };
  const search = new HnswVectorSearch([build(0), build(1)]);
  const exact = (q: Float32Array, k: number, allowed: (label: number) => boolean) =>
    vectors
      .map((v, label) => ({ label, score: v.reduce((s, x, d) => s + x * q[d]!, 0) }))
      .filter((h) => allowed(h.label))
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map((h) => h.label);
  const scope = (allowed: (label: number) => boolean) => {
    const flags = Uint8Array.from(vectors, (_, label) => (allowed(label) ? 1 : 0));
    return { flags, share: flags.reduce((n, f) => n + f, 0) / flags.length };
  };
  const queries = randomVectors(20, dims, 5);
  const recall = async (allowed: (label: number) => boolean, withScope: boolean) => {
    let found = 0;
    const s = scope(allowed);
    for (const q of queries) {
      const got = new Set((await search.search(q, 10, withScope ? s : undefined)).map((h) => h.label));
      found += exact(q, 10, allowed).filter((l) => got.has(l)).length;
      expect([...got].every(allowed)).toBe(true);
    }
    return found / (10 * queries.length);
  };

  it('merges the partitions for a search over everything', async () => {
    expect(await recall(() => true, false)).toBeGreaterThanOrEqual(0.95);
  });

  it('searches only the partition of a scope that is a whole partition', async () => {
    expect(await recall((l) => partitionOf(l) === 1, true)).toBeGreaterThanOrEqual(0.95);
  });

  it('filters within a partition shared by several districts, and across partitions', async () => {
    expect(await recall((l) => l >= 600, true)).toBeGreaterThanOrEqual(0.95);
    expect(await recall((l) => l % 7 === 0, true)).toBeGreaterThanOrEqual(0.95);
  });

  it('returns nothing from an empty index', async () => {
    expect(await new HnswVectorSearch([]).search(queries[0]!, 10)).toEqual([]);
  });
});

describe('HnswVectorSearch in two stages (folded vectors in HNSW, full ones re-ranking)', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dims = 64;
  const navigation = 32;
  /** Like the local embedder's: a few weighted, signed features hashed into the dimensions. */
  function hashedVectors(n: number, seed: number): Float32Array[] {
    let s = seed;
    const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return Array.from({ length: n }, () => {
      const v = new Float32Array(dims);
      for (let f = 0; f < 8; f++) v[Math.floor(rnd() * dims)]! += (rnd() < 0.5 ? -1 : 1) * (0.2 + rnd());
      return l2Normalize(v);
    });
  }

  async function twoStage(name: string, vectors: Float32Array[], partitionOf: (label: number) => number, partitions: number, thread: boolean) {
    const plan = {
      partitionOfFile: new Map<string, number>(),
      partitions: Array.from({ length: partitions }, (_, p) => ({ districts: [`区${p}`], chunks: vectors.filter((_, l) => partitionOf(l) === p).length })),
    };
    const folder = path.join(dir, name);
    mkdirSync(folder);
    const sink = hnswVectorSink(dims, plan, { navigation, thread, threads: 2 });
    await sink.start(folder);
    for (const [label, v] of vectors.entries()) await sink.add(v, partitionOf(label));
    const record = await sink.finish();
    await sink.settle(true);
    if (record.backend !== 'hnswlib') throw new Error('not hnswlib');
    expect(record.navigation).toEqual({ dimensions: navigation, vectors: 'vectors-f16.bin' });
    const indexes = await Promise.all(record.partitions.map((p) => HnswVectorIndex.load(path.join(folder, p.file), navigation, p.count)));
    const full = await HalfVectors.load(path.join(folder, record.navigation!.vectors), dims, vectors.length);
    return { search: new HnswVectorSearch(indexes, full), full };
  }

  const exact = (stored: Float32Array[], q: Float32Array, k: number, allowed: (label: number) => boolean = () => true) =>
    stored
      .map((v, label) => ({ label, score: v.reduce((s, x, d) => s + x * q[d]!, 0) }))
      .filter((h) => allowed(h.label))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);

  it('ranks a small index exactly by the full vectors, as stored', async () => {
    const vectors = hashedVectors(150, 3);
    const { search, full } = await twoStage('small', vectors, () => 0, 1, false);
    const stored = vectors.map((_, l) => full.vectorOf(l));
    expect(search.dimensions).toBe(dims);
    expect(await search.vectorsOf([5, 149])).toEqual([stored[5], stored[149]]);
    for (const q of hashedVectors(10, 9)) {
      const hits = await search.search(q, 10);
      const want = exact(stored, q, 10);
      expect(hits.map((h) => h.label)).toEqual(want.map((h) => h.label));
      // Scores of the full vectors, not of the folded ones.
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 6));
    }
    await expect(search.search(new Float32Array(navigation), 3)).rejects.toBeInstanceOf(IndexMismatchError);
  });

  it('finds the exact nearest over partitions built in threads, within a scope', async () => {
    // Partitions too large to be scored whole: HNSW finds the candidates.
    const vectors = hashedVectors(2_600, 5);
    // Partition 1 holds 500-1,699; partition 0 the rest, two "districts" of which a scope allows one.
    const partitionOf = (label: number) => (label >= 500 && label < 1_700 ? 1 : 0);
    const { search, full } = await twoStage('threads', vectors, partitionOf, 2, true);
    const stored = vectors.map((_, l) => full.vectorOf(l));
    const allowed = (label: number) => label < 500;
    const flags = Uint8Array.from(vectors, (_, l) => (allowed(l) ? 1 : 0));
    let found = 0;
    let total = 0;
    // Questions near passages: a stored vector with features of its own added.
    const queries = hashedVectors(20, 13).map((noise, i) => l2Normalize(vectors[i * 127]!.map((x, d) => x + 0.5 * noise[d]!)));
    for (const q of queries) {
      for (const scope of [undefined, { flags, share: 1 / 3 }]) {
        const hits = await search.search(q, 10, scope);
        const want = exact(stored, q, 10, scope ? allowed : undefined);
        expect(hits).toHaveLength(10);
        if (scope) expect(hits.every((h) => allowed(h.label))).toBe(true);
        for (const h of hits) expect(h.score).toBeCloseTo(stored[h.label]!.reduce((s, x, d) => s + x * q[d]!, 0), 6);
        const got = new Set(hits.map((h) => h.label));
        found += want.filter((h) => got.has(h.label)).length;
        total += want.length;
      }
    }
    // Folding 64 dimensions with 8 features each to 32 merges more than the embedder's 1,024 to 512: 0.92 here.
    expect(found / total).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses full vectors that do not match the partitions', async () => {
    const vectors = hashedVectors(40, 21);
    const { full } = await twoStage('mismatch', vectors, () => 0, 1, false);
    const fewer = HnswVectorIndex.create(navigation, 10);
    vectors.slice(0, 39).forEach((v, l) => fewer.add(foldVector(v, navigation), l));
    expect(() => new HnswVectorSearch([fewer], full)).toThrow(/40 full vectors for 39/);
    const unfolded = HnswVectorIndex.create(48, 10);
    expect(() => new HnswVectorSearch([unfolded], full)).toThrow(IndexCorruptError);
  });
});
