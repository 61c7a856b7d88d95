import { promisify } from 'node:util';
import { deflate } from 'node:zlib';

/**
 * RGBA pixels to PNG, compressed on libuv's thread pool (zlib's async deflate), so
 * encoding a tall chart does not hold the event loop the way the rasterizer's own
 * synchronous PNG encoder does (~100 ms for 1080×2000). A row equal to the one above
 * (common in bar charts) is stored with the "Up" filter, the rest unfiltered.
 */

const deflateAsync = promisify(deflate);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export async function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Buffer> {
  if (rgba.length !== width * height * 4) throw new Error(`png-encode: expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  const pixels = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    // Up filter for a row equal to the one above (all zeros then); None otherwise. Only
    // native copies and compares here: no per-pixel JavaScript on the event loop.
    if (y > 0 && row.equals(pixels.subarray((y - 1) * stride, y * stride))) raw[at] = 2;
    else row.copy(raw, at + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const idat = await deflateAsync(raw, { level: 6 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}
