import { parentPort, workerData } from 'node:worker_threads';
import { HnswVectorIndex, type VectorIndexOptions } from './vector-index.ts';

/**
 * Worker thread of VectorIndexWriter: inserts vectors into the HNSW indexes of the
 * partitions it is given while the main thread embeds and tokenizes the next passages,
 * then writes their files. Messages: `add` (vectors of one partition with their labels;
 * answered `added`), `save` (partition → file; answered `saved`, or `failed`).
 */

type Message =
  | { type: 'add'; partition: number; vectors: Float32Array; labels: Float64Array }
  | { type: 'save'; files: Array<[number, string]> };

const { dimensions, capacities, options } = workerData as { dimensions: number; capacities: number[]; options: VectorIndexOptions };
const indexes = new Map<number, HnswVectorIndex>();
const indexOf = (p: number) => {
  let index = indexes.get(p);
  if (!index) indexes.set(p, (index = HnswVectorIndex.create(dimensions, capacities[p] ?? 1, options)));
  return index;
};
const port = parentPort!;

port.on('message', (m: Message) => {
  if (m.type === 'add') {
    const index = indexOf(m.partition);
    for (let i = 0; i < m.labels.length; i++) index.add(m.vectors.subarray(i * dimensions, (i + 1) * dimensions), m.labels[i]!);
    port.postMessage({ type: 'added', count: m.labels.length });
  } else {
    (async () => {
      for (const [p, file] of m.files) await indexOf(p).save(file);
    })().then(
      () => port.postMessage({ type: 'saved' }),
      (err: unknown) => port.postMessage({ type: 'failed', message: (err as Error).message }),
    );
  }
});
