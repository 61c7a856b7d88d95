import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { IndexCorruptError, StateError } from '../errors.ts';

/**
 * Owner of the half-precision (IEEE 754 binary16) vector file: a build's full vectors,
 * kept to re-rank the candidates of a search made over smaller vectors (hnsw-vector-search.ts).
 * Half precision holds a unit vector's components to about 3 significant digits, at half
 * the memory of float32: with the smaller vectors the HNSW index holds, a chunk costs
 * about what one float32 vector in HNSW cost alone.
 *
 * The file is the vectors in label order, each `dimensions` 16-bit values in the
 * platform's byte order (little-endian wherever Node runs in practice), nothing else: its
 * size and checksum are in the manifest.
 */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The binary16 bits nearest to x (ties to even), as the hardware conversion gives them. */
export function toHalf(x: number): number {
  scratch[0] = x;
  let bits = scratchBits[0]!;
  const sign = (bits >>> 16) & 0x8000;
  bits &= 0x7fffffff;
  // 65,520 and above (in float32 terms, 2^16 after rounding) overflow to infinity; NaN stays NaN.
  if (bits >= 0x47800000) return sign | (bits > 0x7f800000 ? 0x7e00 : 0x7c00);
  // Below 2^-14 the result is subnormal: a count of 2^-24 steps, rounded half to even.
  if (bits < 0x38800000) {
    const steps = Math.abs(scratch[0]!) * 2 ** 24;
    let rounded = Math.round(steps);
    if (rounded - steps === 0.5 && (rounded & 1) === 1) rounded -= 1;
    return sign | rounded;
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even
  // (a carry into the exponent is the right result, up to infinity).
  const odd = (bits >>> 13) & 1;
  return sign | ((bits - ((127 - 15) << 23) + 0xfff + odd) >>> 13);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

let decodeTable: Float32Array | undefined;
/** The value of each of the 65,536 binary16 bit patterns: decoding is one lookup. */
export function halfTable(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) decodeTable[h] = halfToNumber(h);
  }
  return decodeTable;
}

/** Vectors written at a time. */
const WRITE_VECTORS = 256;

/** Writes a build's vectors, in label order, as they come. */
export class HalfVectorWriter {
  private fd: number | undefined;
  private readonly pending: Uint16Array;
  private pendingVectors = 0;
  private written = 0;
  private readonly table = halfTable();

  constructor(
    private readonly file: string,
    readonly dimensions: number,
  ) {
    this.fd = openSync(file, 'w');
    this.pending = new Uint16Array(WRITE_VECTORS * dimensions);
  }

  get count(): number {
    return this.written + this.pendingVectors;
  }

  /**
   * Appends `vector`, and writes into `rounded` the values it is stored as: what a search
   * re-ranks with and what the next build reuses, so the navigation vector made from them
   * is the same in a full and an incremental build.
   */
  add(vector: Float32Array, rounded: Float32Array): void {
    if (this.fd === undefined) throw new StateError(`vector-index: ${this.file} is already closed`);
    const dims = this.dimensions;
    if (vector.length !== dims) throw new StateError(`vector-index: expected ${dims} dims, got ${vector.length}`);
    const at = this.pendingVectors * dims;
    for (let d = 0; d < dims; d++) {
      const h = toHalf(vector[d]!);
      this.pending[at + d] = h;
      rounded[d] = this.table[h]!;
    }
    if (++this.pendingVectors === WRITE_VECTORS) this.flush();
  }

  private flush(): void {
    const bytes = new Uint8Array(this.pending.buffer, 0, this.pendingVectors * this.dimensions * 2);
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd!, bytes, done, bytes.length - done);
    this.written += this.pendingVectors;
    this.pendingVectors = 0;
  }

  /** Writes what is pending and closes the file. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Closes the file without caring for what is pending (a failed build). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Vectors per block in memory: a million 1,024-dimension vectors are 2 GB, more than one
 * Buffer read may be, so they are held in blocks of 128 MB at most.
 */
const BLOCK_BITS = 16;
const BLOCK_VECTORS = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK_VECTORS - 1;

/** A build's vectors in half precision, held in memory, for re-ranking. */
export class HalfVectors {
  private readonly table = halfTable();

  private constructor(
    private readonly blocks: Uint16Array[],
    readonly dimensions: number,
    readonly size: number,
  ) {}

  /** Reads the file of `count` vectors of `dimensions`; a file of another size is damage. */
  static async load(file: string, dimensions: number, count: number): Promise<HalfVectors> {
    const expected = count * dimensions * 2;
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      throw new IndexCorruptError(`vector-index: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const { size } = await fh.stat();
      if (size !== expected) throw new IndexCorruptError(`vector-index: ${file} holds ${size} bytes, ${count} vectors of ${dimensions} dims are ${expected}`);
      const blocks: Uint16Array[] = [];
      for (let first = 0; first < count; first += BLOCK_VECTORS) {
        const block = new Uint16Array(Math.min(BLOCK_VECTORS, count - first) * dimensions);
        const bytes = new Uint8Array(block.buffer);
        for (let got = 0; got < bytes.length; ) {
          const { bytesRead } = await fh.read(bytes, got, bytes.length - got, first * dimensions * 2 + got);
          if (bytesRead === 0) throw new IndexCorruptError(`vector-index: ${file} ended early`);
          got += bytesRead;
        }
        blocks.push(block);
      }
      return new HalfVectors(blocks, dimensions, count);
    } finally {
      await fh.close();
    }
  }

  private check(label: number): void {
    if (!(Number.isInteger(label) && label >= 0 && label < this.size)) throw new IndexCorruptError(`vector-index: no vector for item ${label}`);
  }

  /**
   * Sets each hit's score to the inner product of `query` with its stored vector. A
   * question's vector is mostly zeros (the local embedder's: its few dozen n-grams in 1,024
   * dimensions), and a zero term adds nothing to a sum, so only the query's non-zero
   * dimensions are read: the same scores, bit for bit, for a twentieth of the work.
   */
  rescore(hits: Array<{ label: number; score: number }>, query: Float32Array): void {
    const dims = this.dimensions;
    if (query.length !== dims) throw new IndexCorruptError(`vector-index: expected ${dims} dims, got ${query.length}`);
    const used: number[] = [];
    for (let d = 0; d < dims; d++) if (query[d] !== 0) used.push(d);
    const table = this.table;
    for (const hit of hits) {
      const label = hit.label;
      this.check(label);
      const block = this.blocks[label >>> BLOCK_BITS]!;
      const at = (label & BLOCK_MASK) * dims;
      let sum = 0;
      for (let i = 0; i < used.length; i++) {
        const d = used[i]!;
        sum += query[d]! * table[block[at + d]!]!;
      }
      hit.score = sum;
    }
  }

  /** The stored vector of `label`, as float32. */
  vectorOf(label: number): Float32Array {
    this.check(label);
    const dims = this.dimensions;
    const block = this.blocks[label >>> BLOCK_BITS]!;
    const at = (label & BLOCK_MASK) * dims;
    const out = new Float32Array(dims);
    for (let d = 0; d < dims; d++) out[d] = this.table[block[at + d]!]!;
    return out;
  }
}
