import { IndexCorruptError, IndexMismatchError } from '../errors.ts';
import { foldVector } from './embedder.ts';
import type { HalfVectors } from './half-vectors.ts';
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
 *
 * A two-stage build (vector-store.ts) holds folded vectors in its HNSW indexes: the query
 * is folded the same way, each partition gives at least CANDIDATES allowed candidates, and
 * all of them are scored again with the full vectors (`rerank`). Scores are then those of
 * the full vectors, as in a one-stage build.
 */

/**
 * Candidates per partition re-ranked in a two-stage search. Measured at 512 of 1,024
 * dimensions on 20,000 of the scale bench's passages, recall@30 (what retrieval asks for)
 * against exact search, for the bench's questions and for held-out passages
 * (`bench/bench-hnsw-params.ts --n 20000 --nav-dims 512 --candidates 100,200,300,400 --k 30`):
 * 100: 0.356 / 0.936; 200: 0.554 / 0.964; 300: 0.65 / 0.971; 400: 0.717 / 0.977. One
 * HNSW search over the full vectors: 0.523 / 0.92. 200 is above that everywhere; 300
 * cost a third more time: on one 10,000-chunk partition the HNSW search for 200 took
 * 0.71 ms, for 300 0.96 ms (the one-stage search for 30: 0.57 ms), and re-ranking 300
 * about 0.05 ms.
 */
const CANDIDATES = 200;
/**
 * A partition of up to this many chunks is not searched but scored whole, exactly, which
 * leaves nothing to chance in a small corpus: 644 chunks (the shipped corpus) took 0.26 ms,
 * 2,000 took 1.0 ms, more than the HNSW search.
 */
const SCORED_WHOLE_MAX = 1_000;

export class HnswVectorSearch implements VectorSearch {
  readonly backend: VectorBackend = 'hnswlib';
  readonly dimensions: number;
  readonly size: number;
  /** Partition of each label. */
  private readonly partitionOf: Uint16Array;
  /** Per scope (by identity; retrieval caches its scopes): allowed chunks per partition. */
  private readonly allowedCounts = new WeakMap<Uint8Array, Uint32Array>();
  /** The folded query (two-stage), reused. */
  private readonly folded: Float32Array | undefined;
  /** Per partition, in a two-stage build: its labels, when it is small enough to be scored whole (SCORED_WHOLE_MAX). */
  private readonly scoredWhole: ReadonlyArray<Int32Array | undefined> = [];

  constructor(
    private readonly partitions: readonly HnswVectorIndex[],
    private readonly rerank?: HalfVectors,
  ) {
    const navigation = partitions[0]?.dimensions ?? 0;
    this.dimensions = rerank?.dimensions ?? navigation;
    this.size = partitions.reduce((n, p) => n + p.size, 0);
    if (rerank) {
      if (partitions.some((p) => p.dimensions !== navigation) || navigation === 0 || rerank.dimensions % navigation !== 0)
        throw new IndexCorruptError(`vector-index: partitions of ${partitions.map((p) => p.dimensions).join(', ')} dims cannot be folded from ${rerank.dimensions}`);
      if (rerank.size !== this.size) throw new IndexCorruptError(`vector-index: ${rerank.size} full vectors for ${this.size} in the partitions`);
      this.folded = new Float32Array(navigation);
      this.scoredWhole = partitions.map((index) => (index.size <= SCORED_WHOLE_MAX ? Int32Array.from(index.labels()).sort() : undefined));
    }
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
    const { rerank, folded } = this;
    if (rerank && query.length !== rerank.dimensions) throw new IndexMismatchError(`vector-index: expected ${rerank.dimensions} dims, got ${query.length}`);
    const navigation = folded ? foldVector(query, folded.length, folded) : query;
    const hits: VectorHit[] = [];
    if (this.partitions.length === 1) {
      hits.push(...this.searchPartition(0, query, navigation, k, scope, scope ? Math.round(scope.share * this.size) : this.size));
    } else {
      const counts = scope ? this.allowed(scope) : undefined;
      this.partitions.forEach((index, p) => {
        const allowed = counts ? counts[p]! : index.size;
        if (allowed > 0) hits.push(...this.searchPartition(p, query, navigation, k, scope, allowed));
      });
    }
    // Once for all partitions' candidates: the query's non-zero dimensions are found once.
    rerank?.rescore(hits, query);
    return this.partitions.length > 1 || rerank ? hits.sort((a, b) => b.score - a.score).slice(0, k) : hits;
  }

  /**
   * Allowed chunks of partition p near the query: one stage, the k nearest with their
   * scores; two-stage, every allowed chunk of a partition scored whole, or CANDIDATES found
   * over the folded vectors, both for `search` to score with the full vectors.
   */
  private searchPartition(p: number, query: Float32Array, navigation: Float32Array, k: number, scope: VectorScope | undefined, allowed: number): VectorHit[] {
    if (!this.rerank) return this.searchHnsw(p, query, k, k, scope, allowed);
    const whole = this.scoredWhole[p];
    if (!whole) return this.searchHnsw(p, navigation, Math.max(k, CANDIDATES), k, scope, allowed);
    return Array.from(scope ? whole.filter((label) => scope.flags[label] === 1) : whole, (label) => ({ label, score: 0 }));
  }

  /** Up to `want` allowed chunks of partition p, nearest first; at least `need` unless fewer are allowed. */
  private searchHnsw(p: number, query: Float32Array, want: number, need: number, scope: VectorScope | undefined, allowed: number): VectorHit[] {
    const index = this.partitions[p]!;
    if (!scope || allowed === index.size) return index.search(query, want);
    const { flags } = scope;
    const share = allowed / index.size;
    if (share >= 0.05) {
      const fetched = index.search(query, Math.min(index.size, Math.max(want, Math.ceil((need * 1.5) / share)), 1000));
      const kept = fetched.filter((h) => flags[h.label] === 1);
      if (kept.length >= Math.min(need, allowed)) return kept.slice(0, want);
    }
    return index.search(query, want, (label) => flags[label] === 1);
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
    const { rerank } = this;
    if (rerank) return labels.map((label) => rerank.vectorOf(label));
    return labels.map((label) => {
      const p = label >= 0 && label < this.size ? this.partitionOf[label]! : 0;
      return this.partitions[p]!.vectorOf(label);
    });
  }

  async close(): Promise<void> {}
}
