import { Worker } from 'node:worker_threads';
import { StateError } from '../errors.ts';
import { HnswVectorIndex, type VectorIndexOptions } from './vector-index.ts';

/**
 * Builds the HNSW index of a build, vectors added in label order. HNSW insertion is most
 * of a large build's time and does not depend on the rest, so a large build inserts in a
 * worker thread (hnsw-build-worker.ts) while the main thread embeds and tokenizes the next
 * passages: two cores busy instead of one. Vectors go over in batches whose buffers are
 * transferred, not copied; at most a few batches are in flight, so a fast producer waits
 * instead of queueing the whole corpus' vectors.
 */

export interface VectorIndexWriter {
  add(vector: Float32Array): Promise<void>;
  /** Writes the index file; the writer is done after it. */
  save(file: string): Promise<void>;
  /** Stops a writer that will not be saved (a failed build). */
  close(): Promise<void>;
}

/** Builds below this size stay on the main thread: a worker's start-up costs more than it saves. */
const THREAD_MIN = 5_000;
const BATCH = 128;
const IN_FLIGHT = 4;

export function createVectorIndexWriter(dimensions: number, capacity: number, options: VectorIndexOptions & { thread?: boolean } = {}): VectorIndexWriter {
  const { thread = capacity >= THREAD_MIN, ...indexOptions } = options;
  return thread ? new ThreadedWriter(dimensions, capacity, indexOptions) : new InProcessWriter(dimensions, capacity, indexOptions);
}

class InProcessWriter implements VectorIndexWriter {
  private readonly index: HnswVectorIndex;
  private count = 0;
  constructor(dimensions: number, capacity: number, options: VectorIndexOptions) {
    this.index = HnswVectorIndex.create(dimensions, capacity, options);
  }
  async add(vector: Float32Array): Promise<void> {
    this.index.add(vector, this.count++);
  }
  save(file: string): Promise<void> {
    return this.index.save(file);
  }
  async close(): Promise<void> {}
}

class ThreadedWriter implements VectorIndexWriter {
  private readonly worker: Worker;
  private batch: Float32Array;
  private inBatch = 0;
  private next = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    private readonly dimensions: number,
    capacity: number,
    options: VectorIndexOptions,
  ) {
    const workerData = { dimensions, capacity, options };
    if (import.meta.url.endsWith('.ts')) {
      // Under tsx (development, tests) the worker registers tsx's loader before importing
      // the TypeScript module; compiled code starts the .js module directly.
      // (tsx is a development dependency, resolved from the project folder.)
      const source = new URL('./hnsw-build-worker.ts', import.meta.url).href;
      const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
      this.worker = new Worker(boot, { eval: true, workerData });
    } else {
      this.worker = new Worker(new URL('./hnsw-build-worker.js', import.meta.url), { workerData });
    }
    this.batch = new Float32Array(BATCH * dimensions);
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

  async add(vector: Float32Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.batch.set(vector, this.inBatch * this.dimensions);
    if (++this.inBatch === BATCH) await this.send();
  }

  private async send(): Promise<void> {
    if (this.inBatch === 0) return;
    while (this.inFlight >= IN_FLIGHT) await this.wait();
    const vectors = this.inBatch === BATCH ? this.batch : this.batch.slice(0, this.inBatch * this.dimensions);
    this.worker.postMessage({ type: 'add', vectors, first: this.next }, [vectors.buffer as ArrayBuffer]);
    this.inFlight++;
    this.next += this.inBatch;
    this.inBatch = 0;
    this.batch = new Float32Array(BATCH * this.dimensions);
  }

  async save(file: string): Promise<void> {
    await this.send();
    while (this.inFlight > 0) await this.wait();
    this.worker.postMessage({ type: 'save', file });
    this.inFlight++;
    await this.wait();
    await this.close();
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
