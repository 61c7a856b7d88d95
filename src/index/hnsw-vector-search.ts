import { IndexCorruptError } from '../errors.ts';
import type { HnswVectorIndex } from './vector-index.ts';
import type { VectorBackend, VectorHit, VectorScope, VectorSearch } from './vector-search.ts';

/**
 * The in-process backend: the HNSW indexes of a build's partitions (vector-partitions.ts)
 * behind the VectorSearch interface. A search goes to each partition holding an allowed
 * chunk and the hits are merged by score. Within a partition:
 * - every chunk allowed (a district with its own partition): a plain search;
 * - a share of them: hnswlib's filter calls back into JS for every node it visits, which
 *   at 100k chunks and a 10% scope cost ~6 ms; fetching ~k/share unfiltered and filtering
 *   here cost ~2 ms. A very narrow scope (or an over-fetch that came back short) uses the
 *   callback.
 */
export class HnswVectorSearch implements VectorSearch {
  readonly backend: VectorBackend = 'hnswlib';
  readonly dimensions: number;
  readonly size: number;
  /** Partition of each label. */
  private readonly partitionOf: Uint16Array;
  /** Per scope (by identity; retrieval caches its scopes): allowed chunks per partition. */
  private readonly allowedCounts = new WeakMap<Uint8Array, Uint32Array>();

  constructor(private readonly partitions: readonly HnswVectorIndex[]) {
    this.dimensions = partitions[0]?.dimensions ?? 0;
    this.size = partitions.reduce((n, p) => n + p.size, 0);
    this.partitionOf = new Uint16Array(this.size);
    // One partition (every small corpus): all zeros, no need to list its labels.
    if (partitions.length === 1) return;
    partitions.forEach((index, p) => {
      for (const label of index.labels()) {
        if (!(label >= 0 && label < this.size)) throw new IndexCorruptError(`vector-index: label ${label} of partition ${p} is outside 0…${this.size - 1}`);
        this.partitionOf[label] = p;
      }
    });
  }

  async search(query: Float32Array, k: number, scope?: VectorScope): Promise<VectorHit[]> {
    if (this.size === 0) return [];
    if (this.partitions.length === 1) return this.searchPartition(0, query, k, scope, scope ? Math.round(scope.share * this.size) : this.size);
    const counts = scope ? this.allowed(scope) : undefined;
    const hits: VectorHit[] = [];
    this.partitions.forEach((index, p) => {
      const allowed = counts ? counts[p]! : index.size;
      if (allowed > 0) hits.push(...this.searchPartition(p, query, k, scope, allowed));
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }

  private searchPartition(p: number, query: Float32Array, k: number, scope: VectorScope | undefined, allowed: number): VectorHit[] {
    const index = this.partitions[p]!;
    if (!scope || allowed === index.size) return index.search(query, k);
    const { flags } = scope;
    const share = allowed / index.size;
    if (share >= 0.05) {
      const fetched = index.search(query, Math.min(index.size, Math.ceil((k * 1.5) / share), 1000));
      const kept = fetched.filter((h) => flags[h.label] === 1);
      if (kept.length >= Math.min(k, allowed)) return kept.slice(0, k);
    }
    return index.search(query, k, (label) => flags[label] === 1);
  }

  /** Allowed chunks per partition under a scope. */
  private allowed(scope: VectorScope): Uint32Array {
    let counts = this.allowedCounts.get(scope.flags);
    if (!counts) {
      counts = new Uint32Array(this.partitions.length);
      const { flags } = scope;
      for (let label = 0; label < this.size; label++) if (flags[label] === 1) counts[this.partitionOf[label]!]!++;
      this.allowedCounts.set(scope.flags, counts);
    }
    return counts;
  }

  async vectorsOf(labels: readonly number[]): Promise<Float32Array[]> {
    return labels.map((label) => {
      const p = label >= 0 && label < this.size ? this.partitionOf[label]! : 0;
      return this.partitions[p]!.vectorOf(label);
    });
  }

  async close(): Promise<void> {}
}
