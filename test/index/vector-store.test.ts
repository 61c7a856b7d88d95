import { describe, expect, it } from 'vitest';
import { navigationDimensions } from '../../src/index/vector-store.ts';

const embedder = (dimensions: number, foldable?: boolean) => ({ info: { id: 'e', model: 'm', dimensions }, ...(foldable === undefined ? {} : { foldable }) });

describe('navigationDimensions', () => {
  it('folds to half the dimensions only the vectors of an embedder that says they fold, from 1,024 up', () => {
    expect(navigationDimensions(embedder(1024, true))).toBe(512);
    expect(navigationDimensions(embedder(2048, true))).toBe(1024);
    // A remote model's vectors: folding would be an arbitrary projection, so one stage.
    expect(navigationDimensions(embedder(1536))).toBeUndefined();
    expect(navigationDimensions(embedder(1024, false))).toBeUndefined();
    // Too few dimensions to halve, or an odd number.
    expect(navigationDimensions(embedder(512, true))).toBeUndefined();
    expect(navigationDimensions(embedder(1025, true))).toBeUndefined();
  });
});
