import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/chart/png-encode.ts';

/** Decodes what encodePng writes (RGBA, filters None and Up) back to pixels. */
function decode(png: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  expect([png[24], png[25]]).toEqual([8, 6]);
  const idatLength = png.readUInt32BE(33);
  expect(png.toString('latin1', 37, 41)).toBe('IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const stride = width * 4;
  const rgba = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) rgba[y * stride + x] = filter === 2 ? (row[x]! + (y > 0 ? rgba[(y - 1) * stride + x]! : 0)) & 0xff : row[x]!;
  }
  expect(png.toString('latin1', png.length - 8, png.length - 4)).toBe('IEND');
  return { width, height, rgba };
}

describe('png-encode', () => {
  it('writes pixels a PNG reader gets back exactly, repeated rows included', async () => {
    const width = 7;
    const height = 5;
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) % 256;
    rgba.copy(rgba, 2 * width * 4, 1 * width * 4, 2 * width * 4); // row 2 repeats row 1
    const decoded = decode(await encodePng(rgba, width, height));
    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    expect(decoded.rgba.equals(rgba)).toBe(true);
  });

  it('refuses pixels that do not match the size', async () => {
    await expect(encodePng(new Uint8Array(10), 2, 2)).rejects.toThrow(/png-encode: expected 16 bytes/);
  });
});
