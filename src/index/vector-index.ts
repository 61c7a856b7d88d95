import { open, stat } from 'node:fs/promises';
import hnswlib from 'hnswlib-node';
import { IndexCorruptError, IndexMismatchError, StateError } from '../errors.ts';
import type { VectorHit } from './vector-search.ts';

/**
 * Owner of hnswlib-node. Labels are chunk ordinals. Vectors are unit length, so the
 * inner-product space gives cosine similarity. Checks what hnswlib does not: dimensions
 * on load and on query, k clamped to the index size, ef restored after readIndex
 * (which resets it to 10).
 */

export interface VectorIndexOptions {
  m?: number;
  efConstruction?: number;
  efSearch?: number;
}

/**
 * efConstruction 100, not hnswlib's 200: on 10,000 of the scale bench's synthetic passages
 * (a district's partition), recall@10 0.956 against 0.958, for two thirds of the insertion
 * time (803 against 1,219 µs a vector; bench/bench-hnsw-params.ts). M below 16 lost recall.
 */
const DEFAULTS = { m: 16, efConstruction: 100, efSearch: 64 } as const;

/**
 * Reads dimensions and element count from an hnswlib index file header, since readIndex
 * accepts a file of any dimensions. Header: offsetLevel0, maxElements, curElementCount,
 * sizeDataPerElement, labelOffset, offsetData (uint64 LE each); a vector occupies
 * labelOffset - offsetData bytes of float32.
 */
async function readHeader(file: string): Promise<{ dimensions: number; count: number }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(48);
    const { bytesRead } = await fh.read(buf, 0, 48, 0);
    if (bytesRead < 48) throw new Error(`file too short (${bytesRead} bytes)`);
    const count = Number(buf.readBigUInt64LE(16));
    const labelOffset = Number(buf.readBigUInt64LE(32));
    const offsetData = Number(buf.readBigUInt64LE(40));
    const bytes = labelOffset - offsetData;
    if (bytes <= 0 || bytes % 4 !== 0 || count < 0 || count > 1e9) throw new Error('not an hnswlib index');
    return { dimensions: bytes / 4, count };
  } finally {
    await fh.close();
  }
}

export class HnswVectorIndex {
  /**
   * The array handed to hnswlib-node, which takes only a JS array: refilled for each vector.
   * A new one per vector (Array.from) cost 25 µs and its garbage, 3% of an insertion.
   */
  private point: number[] | undefined;

  private constructor(
    private readonly index: hnswlib.HierarchicalNSW,
    readonly dimensions: number,
    private readonly efSearch: number,
  ) {}

  static build(vectors: readonly Float32Array[], dimensions: number, options: VectorIndexOptions = {}): HnswVectorIndex {
    const index = HnswVectorIndex.create(dimensions, vectors.length, options);
    vectors.forEach((v, label) => index.add(v, label));
    return index;
  }

  /** An empty index to `add` to; it grows past `capacity` when needed. */
  static create(dimensions: number, capacity: number, options: VectorIndexOptions = {}): HnswVectorIndex {
    const o = { ...DEFAULTS, ...options };
    const index = new hnswlib.HierarchicalNSW('ip', dimensions);
    index.initIndex({ maxElements: Math.max(1, capacity), m: o.m, efConstruction: o.efConstruction, randomSeed: 100 });
    index.setEf(o.efSearch);
    return new HnswVectorIndex(index, dimensions, o.efSearch);
  }

  add(vector: Float32Array, label: number): void {
    if (vector.length !== this.dimensions) throw new IndexMismatchError(`vector-index: expected ${this.dimensions} dims, got ${vector.length} for item ${label}`);
    const capacity = this.index.getMaxElements();
    if (this.index.getCurrentCount() >= capacity) this.index.resizeIndex(capacity * 2);
    const point = (this.point ??= new Array<number>(this.dimensions).fill(0));
    for (let d = 0; d < point.length; d++) point[d] = vector[d]!;
    this.index.addPoint(point, label);
  }

  /** The stored vector of `label` (an unchanged chunk keeps it across builds). */
  vectorOf(label: number): Float32Array {
    try {
      return Float32Array.from(this.index.getPoint(label));
    } catch (err) {
      throw new IndexCorruptError(`vector-index: no vector for item ${label}: ${(err as Error).message}`, { cause: err });
    }
  }

  static async load(file: string, dimensions: number, expectedCount: number, options: VectorIndexOptions = {}): Promise<HnswVectorIndex> {
    const efSearch = options.efSearch ?? DEFAULTS.efSearch;
    let header;
    try {
      header = await readHeader(file);
    } catch (err) {
      throw new IndexCorruptError(`vector-index: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    // The manifest records the embedder's dimensions; a header that disagrees is damage, not another embedder.
    if (header.dimensions !== dimensions) throw new IndexCorruptError(`vector-index: expected ${dimensions} dims, got ${header.dimensions} in ${file}`);
    if (header.count !== expectedCount) throw new IndexCorruptError(`vector-index: expected ${expectedCount} vectors, found ${header.count} in ${file}`);
    const index = new hnswlib.HierarchicalNSW('ip', dimensions);
    try {
      await index.readIndex(file);
    } catch (err) {
      throw new IndexCorruptError(`vector-index: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const count = index.getCurrentCount();
    if (count !== expectedCount) throw new IndexCorruptError(`vector-index: expected ${expectedCount} vectors, found ${count} in ${file}`);
    index.setEf(efSearch);
    return new HnswVectorIndex(index, dimensions, efSearch);
  }

  get size(): number {
    return this.index.getCurrentCount();
  }

  /** The labels stored, in no particular order. */
  labels(): number[] {
    return this.index.getIdsList();
  }

  async save(file: string): Promise<void> {
    // hnswlib allocates the saved capacity again on load: an index grown by doubling, or
    // given more room than it used, is cut to its size first.
    const count = this.index.getCurrentCount();
    if (this.index.getMaxElements() > count) this.index.resizeIndex(Math.max(1, count));
    await this.index.writeIndex(file);
    // hnswlib reports no failure to open its file (a missing folder, a full disk): check it is there.
    const written = await stat(file).catch(() => undefined);
    if (!written || written.size === 0) throw new StateError(`vector-index: cannot write ${file}`);
  }

  search(query: Float32Array, k: number, filter?: (label: number) => boolean): VectorHit[] {
    if (query.length !== this.dimensions) throw new IndexMismatchError(`vector-index: expected ${this.dimensions} dims, got ${query.length}`);
    const n = Math.min(k, this.size);
    if (n <= 0) return [];
    // ef must be at least k for hnswlib to return k results.
    if (n > this.efSearch) this.index.setEf(n);
    try {
      const { neighbors, distances } = this.index.searchKnn(Array.from(query), n, filter);
      // 'ip' distance is 1 - dot product.
      return neighbors.map((label, i) => ({ label, score: 1 - distances[i]! }));
    } finally {
      if (n > this.efSearch) this.index.setEf(this.efSearch);
    }
  }
}
