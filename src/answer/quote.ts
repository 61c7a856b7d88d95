import type { StoredChunk } from '../index/index-store.ts';

/**
 * The largest part of [start, end) (document offsets) that a quote may cover: a quote
 * must not cross a place where normalization dropped source characters (a `**`
 * marker, a table-of-contents line), or it would not be verbatim in the source.
 */
export function quoteWithin(chunk: Pick<StoredChunk, 'start' | 'end' | 'spans'>, start: number, end: number): [number, number] | undefined {
  const spans = chunk.spans ?? [[chunk.start, chunk.end]];
  let best: [number, number] | undefined;
  for (const [s, e] of spans) {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (b > a && (!best || b - a > best[1] - best[0])) best = [a, b];
  }
  return best;
}
