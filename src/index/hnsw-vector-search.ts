import type { VectorBackend, VectorHit, VectorScope, VectorSearch } from './vector-search.ts';
import type { HnswVectorIndex } from './vector-index.ts';

/**
 * The in-process backend: an HnswVectorIndex behind the VectorSearch interface, with the
 * scope strategy. hnswlib's filter calls back into JS for every node it visits, which at
 * 100k chunks and a 10% scope cost ~6 ms; fetching ~k/share unfiltered and filtering here
 * cost ~2 ms. A very narrow scope (or an over-fetch that came back short) uses the callback.
 */
export class HnswVectorSearch implements VectorSearch {
  readonly backend: VectorBackend = 'hnswlib';

  constructor(private readonly index: HnswVectorIndex) {}

  get dimensions(): number {
    return this.index.dimensions;
  }

  get size(): number {
    return this.index.size;
  }

  async search(query: Float32Array, k: number, scope?: VectorScope): Promise<VectorHit[]> {
    if (!scope) return this.index.search(query, k);
    const { flags, share } = scope;
    if (share >= 0.05) {
      const fetched = this.index.search(query, Math.min(this.size, Math.ceil((k * 1.5) / share), 1000));
      const kept = fetched.filter((h) => flags[h.label] === 1);
      if (kept.length >= Math.min(k, Math.round(share * this.size))) return kept.slice(0, k);
    }
    return this.index.search(query, k, (label) => flags[label] === 1);
  }

  async vectorsOf(labels: readonly number[]): Promise<Float32Array[]> {
    return labels.map((label) => this.index.vectorOf(label));
  }

  async close(): Promise<void> {}
}
