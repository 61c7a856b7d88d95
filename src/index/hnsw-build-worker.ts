import { parentPort, workerData } from 'node:worker_threads';
import { HnswVectorIndex, type VectorIndexOptions } from './vector-index.ts';

/**
 * Worker thread of VectorIndexWriter: inserts vectors into an HNSW index while the main
 * thread embeds and tokenizes the next passages, then writes the index file. Messages:
 * `add` (vectors and their first label; answered `added`), `save` (answered `saved`).
 */

type Message = { type: 'add'; vectors: Float32Array; first: number } | { type: 'save'; file: string };

const { dimensions, capacity, options } = workerData as { dimensions: number; capacity: number; options: VectorIndexOptions };
const index = HnswVectorIndex.create(dimensions, capacity, options);
const port = parentPort!;

port.on('message', (m: Message) => {
  if (m.type === 'add') {
    const count = m.vectors.length / dimensions;
    for (let i = 0; i < count; i++) index.add(m.vectors.subarray(i * dimensions, (i + 1) * dimensions), m.first + i);
    port.postMessage({ type: 'added', count });
  } else {
    index.save(m.file).then(
      () => port.postMessage({ type: 'saved' }),
      (err: unknown) => port.postMessage({ type: 'failed', message: (err as Error).message }),
    );
  }
});
