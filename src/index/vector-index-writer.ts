import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { StateError } from '../errors.ts';
import { startModuleWorker } from './module-worker.ts';
import { HnswVectorIndex, type VectorIndexOptions } from './vector-index.ts';

/**
 * Builds the HNSW indexes of a build, one per partition (vector-partitions.ts), vectors
 * added in label order with their partition. HNSW insertion is most of a large build's
 * time and does not depend on the rest, so a large build inserts in worker threads
 * (hnsw-build-worker.ts) while the main thread embeds and tokenizes the next passages;
 * partitions are independent indexes, so with several of them each thread takes its
 * share. Vectors go over in batches of one partition each (see BATCH) whose buffers are
 * transferred, not copied; at most a few batches per thread are in flight, so a fast
 * producer waits instead of queueing the whole corpus' vectors.
 */

export interface VectorIndexWriter {
  /** The next vector (its label is the number of vectors added before it) and its partition. */
  add(vector: Float32Array, partition: number): Promise<void>;
  /** Writes each partition's index to its file (`files[p]`); the writer is done after it. */
  save(files: readonly string[]): Promise<void>;
  /** Stops a writer that will not be saved (a failed build). */
  close(): Promise<void>;
}

export interface VectorIndexWriterOptions extends VectorIndexOptions {
  /** Insert in worker threads (default: for builds of THREAD_MIN vectors or more). */
  thread?: boolean;
  /** At most this many insertion threads (default: the machine's cores). */
  threads?: number;
}

/** Builds below this size stay on the main thread: a worker's start-up costs more than it saves. */
const THREAD_MIN = 5_000;
/**
 * Vectors go to a thread in batches of one partition each, so a thread inserts runs of
 * BATCH vectors into the same index. Chunks interleaved across partitions, inserted one by
 * one into each in turn, cost half as much again per vector: 1,242 against 822 µs of CPU
 * with runs of 512 (five partitions of 10,000 vectors, 1,024 dims; `bench-hnsw-params.ts
 * --n 50000 --partitions 5`), each index's nodes falling out of the caches between two of
 * its insertions. The order of the vectors within a partition, hence its index, is the
 * same either way.
 */
const BATCH = 512;
/**
 * A partition's first batch holds this many vectors, each next one twice as many up to
 * BATCH: with the chunks of ten partitions interleaved, the threads would otherwise wait
 * for 5,120 chunks before their first insertion (about 1.5 s of the main thread's work at
 * 0.3 ms a chunk, with the other core idle).
 */
const FIRST_BATCH = 64;
/** Batches in flight per thread, about one for each partition it takes (8 at 16 partitions): about 16 MB of vectors at 1,024 dims. */
const IN_FLIGHT = 8;

/** `capacities[p]`: the vectors expected in partition p (an index grows past it when needed). */
export function createVectorIndexWriter(dimensions: number, capacities: readonly number[], options: VectorIndexWriterOptions = {}): VectorIndexWriter {
  const total = capacities.reduce((a, b) => a + b, 0);
  const { thread = total >= THREAD_MIN, threads = availableParallelism(), ...indexOptions } = options;
  if (!thread) return new InProcessWriter(dimensions, capacities, indexOptions);
  const count = Math.max(1, Math.min(threads, capacities.length));
  return new ThreadedWriter(dimensions, capacities, indexOptions, count);
}

function checkPartition(partition: number, capacities: readonly number[]): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= capacities.length)
    throw new StateError(`vector-index: partition ${partition} is not one of the build's ${capacities.length}`);
}

class InProcessWriter implements VectorIndexWriter {
  private readonly indexes: Array<HnswVectorIndex | undefined>;
  private count = 0;
  constructor(
    private readonly dimensions: number,
    private readonly capacities: readonly number[],
    private readonly options: VectorIndexOptions,
  ) {
    this.indexes = capacities.map(() => undefined);
  }
  async add(vector: Float32Array, partition: number): Promise<void> {
    checkPartition(partition, this.capacities);
    const index = (this.indexes[partition] ??= HnswVectorIndex.create(this.dimensions, this.capacities[partition]!, this.options));
    index.add(vector, this.count++);
  }
  async save(files: readonly string[]): Promise<void> {
    for (const [p, file] of files.entries()) {
      const index = (this.indexes[p] ??= HnswVectorIndex.create(this.dimensions, 1, this.options));
      await index.save(file);
    }
  }
  async close(): Promise<void> {}
}

/** The vectors of one partition waiting to be sent, and their labels. */
interface OpenBatch {
  vectors: Float32Array;
  labels: Float64Array;
  count: number;
}

/** One insertion thread, inserting into the partitions it is given (threadOfPartition). */
class InsertionThread {
  private readonly worker: Worker;
  /** Per partition: its batch being filled. */
  private readonly open = new Map<number, OpenBatch>();
  /** Per partition: the size of its next batch. */
  private readonly nextSize = new Map<number, number>();
  private inFlight = 0;
  private failure: Error | undefined;
  private waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    private readonly dimensions: number,
    capacities: readonly number[],
    options: VectorIndexOptions,
  ) {
    const workerData = { dimensions, capacities, options };
    this.worker = startModuleWorker('hnsw-build-worker', { workerData });
    this.worker.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'failed') this.fail(new StateError(m.message ?? 'vector-index: the HNSW build thread failed'));
      else this.settleOne();
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`vector-index: the HNSW build thread exited (code ${code})`)));
  }

  private settleOne(): void {
    this.inFlight--;
    this.waiting.shift()?.resolve();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  private wait(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async add(vector: Float32Array, label: number, partition: number): Promise<void> {
    if (this.failure) throw this.failure;
    let batch = this.open.get(partition);
    if (!batch) {
      const size = this.nextSize.get(partition) ?? FIRST_BATCH;
      this.nextSize.set(partition, Math.min(size * 2, BATCH));
      this.open.set(partition, (batch = { vectors: new Float32Array(size * this.dimensions), labels: new Float64Array(size), count: 0 }));
    }
    batch.vectors.set(vector, batch.count * this.dimensions);
    batch.labels[batch.count] = label;
    if (++batch.count === batch.labels.length) await this.send(partition, batch);
  }

  private async send(partition: number, batch: OpenBatch): Promise<void> {
    this.open.delete(partition);
    while (this.inFlight >= IN_FLIGHT) await this.wait();
    const n = batch.count;
    const [vectors, labels] = n === batch.labels.length ? [batch.vectors, batch.labels] : [batch.vectors.slice(0, n * this.dimensions), batch.labels.slice(0, n)];
    this.worker.postMessage({ type: 'add', partition, vectors, labels }, [vectors.buffer as ArrayBuffer, labels.buffer as ArrayBuffer]);
    this.inFlight++;
  }

  /** Writes the partitions this thread holds: `files` maps partition number to file. */
  async save(files: ReadonlyMap<number, string>): Promise<void> {
    if (this.failure) throw this.failure;
    for (const [partition, batch] of [...this.open]) await this.send(partition, batch);
    while (this.inFlight > 0) await this.wait();
    this.worker.postMessage({ type: 'save', files: [...files] });
    this.inFlight++;
    await this.wait();
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * The thread of each partition: largest first, each to the thread with the fewest vectors
 * so far, so the threads finish together when partitions differ in size (by number, a
 * thread could get the largest district and the next largest but one).
 */
export function threadOfPartition(capacities: readonly number[], threads: number): number[] {
  const load = new Array<number>(threads).fill(0);
  const threadOf = new Array<number>(capacities.length).fill(0);
  const bySize = capacities.map((c, p) => [c, p] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [capacity, p] of bySize) {
    let least = 0;
    for (let t = 1; t < threads; t++) if (load[t]! < load[least]!) least = t;
    threadOf[p] = least;
    load[least]! += capacity;
  }
  return threadOf;
}

class ThreadedWriter implements VectorIndexWriter {
  private readonly threads: InsertionThread[];
  private readonly threadOf: number[];
  private next = 0;

  constructor(
    dimensions: number,
    private readonly capacities: readonly number[],
    options: VectorIndexOptions,
    threads: number,
  ) {
    this.threads = Array.from({ length: threads }, () => new InsertionThread(dimensions, capacities, options));
    this.threadOf = threadOfPartition(capacities, threads);
  }

  add(vector: Float32Array, partition: number): Promise<void> {
    checkPartition(partition, this.capacities);
    return this.threads[this.threadOf[partition]!]!.add(vector, this.next++, partition);
  }

  async save(files: readonly string[]): Promise<void> {
    try {
      await Promise.all(this.threads.map((t, i) => t.save(new Map([...files.entries()].filter(([p]) => this.threadOf[p] === i)))));
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
