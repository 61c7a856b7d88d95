import path from 'node:path';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexCorruptError } from '../../src/errors.ts';
import { halfTable, HalfVectors, HalfVectorWriter, toHalf } from '../../src/index/half-vectors.ts';
import { tempDir } from '../helpers/test-index.ts';

const f32 = (x: number) => Math.fround(x);

describe('toHalf', () => {
  it('converts known values as IEEE 754 binary16 does', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [1 / 3, 0x3555],
      [65504, 0x7bff], // largest finite
      [65519, 0x7bff], // rounds down to it
      [65520, 0x7c00], // the tie above it rounds (to even) to infinity
      [1e9, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // half of it: the tie goes to the even 0
      [3 * 2 ** -25, 0x0002], // 1.5 steps: to the even 2
      [2 ** -26, 0x0000],
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next: to the even 1
      [1 + 3 * 2 ** -11, 0x3c02], // halfway between the next two: to the even one
    ];
    for (const [x, h] of cases) expect([x, toHalf(x)]).toEqual([x, h]);
    expect(toHalf(NaN) & 0x7c00).toBe(0x7c00);
    expect(toHalf(NaN) & 0x3ff).not.toBe(0);
  });

  it('gives back every finite half value, and rounds each midpoint to the even neighbour', () => {
    const table = halfTable();
    const wrong: number[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      for (const sign of [0, 0x8000]) if (toHalf(table[h | sign]!) !== (h | sign)) wrong.push(h | sign);
      if (h + 1 >= 0x7c00) continue;
      // Between two neighbours: the midpoint goes to the even one; just above it, to the upper one.
      const mid = (table[h]! + table[h + 1]!) / 2;
      expect(f32(mid)).toBe(mid);
      if (toHalf(mid) !== (h % 2 === 0 ? h : h + 1)) wrong.push(-h);
      const above = new Float32Array([mid]);
      new Uint32Array(above.buffer)[0]! += 1;
      if (toHalf(above[0]!) !== h + 1) wrong.push(-h - 0.5);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});

describe('HalfVectorWriter and HalfVectors', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(file: string, n: number, dims: number): Float32Array[] {
    const writer = new HalfVectorWriter(file, dims);
    const stored: Float32Array[] = [];
    let tooFar = 0;
    for (let i = 0; i < n; i++) {
      const v = Float32Array.from({ length: dims }, (_, d) => Math.sin(i * 0.37 + d * 1.3) / (1 + d));
      const rounded = new Float32Array(dims);
      writer.add(v, rounded);
      // Half precision: within half a step of 11 significant bits (or of the subnormal step).
      for (let d = 0; d < dims; d++) if (Math.abs(rounded[d]! - v[d]!) > Math.abs(v[d]!) * 2 ** -11 + 2 ** -25) tooFar++;
      stored.push(rounded);
    }
    expect(tooFar).toBe(0);
    expect(writer.count).toBe(n);
    writer.close();
    return stored;
  }

  it('reads back the values it stored, across the blocks they are held in', async () => {
    const file = path.join(dir, 'many.bin');
    // 65,536 vectors to a block: these span two.
    const stored = write(file, 65_540, 3);
    const vectors = await HalfVectors.load(file, 3, 65_540);
    expect(vectors.size).toBe(65_540);
    for (const label of [0, 1, 65_535, 65_536, 65_539]) expect(vectors.vectorOf(label)).toEqual(stored[label]);
    // A query with a zero dimension, as a question's mostly is: the same inner products.
    const query = Float32Array.from([0.5, 0, -2]);
    const hits = [65_537, 3].map((label) => ({ label, score: 0 }));
    vectors.rescore(hits, query);
    for (const hit of hits) expect(hit.score).toBe(stored[hit.label]!.reduce((sum, x, d) => sum + x * query[d]!, 0));
    expect(() => vectors.vectorOf(65_540)).toThrow(IndexCorruptError);
    expect(() => vectors.rescore([{ label: -1, score: 0 }], query)).toThrow(IndexCorruptError);
    expect(() => vectors.rescore([], new Float32Array(2))).toThrow(/expected 3 dims, got 2/);
  });

  it('reports a file of the wrong size, or none, as damage', async () => {
    const file = path.join(dir, 'short.bin');
    write(file, 10, 8);
    await expect(HalfVectors.load(file, 8, 11)).rejects.toThrow(/holds 160 bytes, 11 vectors of 8 dims are 176/);
    truncateSync(file, 150);
    await expect(HalfVectors.load(file, 8, 10)).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(HalfVectors.load(path.join(dir, 'missing.bin'), 8, 10)).rejects.toBeInstanceOf(IndexCorruptError);
    writeFileSync(file, '');
    expect((await HalfVectors.load(file, 8, 0)).size).toBe(0);
  });
});
