/** What an index records about the embedder that built it; a query embedder must match. */
export interface EmbedderInfo {
  /** 'local-tfidf' or 'openai'. */
  id: string;
  model: string;
  dimensions: number;
}

/** Turns text into unit-length vectors. Implementations: LocalEmbedder, OpenAiEmbedder. */
export interface Embedder {
  readonly info: EmbedderInfo;
  /**
   * Its dimensions are hash buckets (the hash modulo the dimension count), so a vector
   * folded to half as many dimensions (foldVector) is the same text embedded at that size:
   * a meaningful vector to search by, not an arbitrary projection. The local embedder's are.
   */
  readonly foldable?: boolean;
  embedDocuments(texts: readonly string[]): Promise<Float32Array[]>;
  embedQuery(text: string): Promise<Float32Array>;
}

/** An embedder fitted on the corpus (the local one), whose fit is a file of the build. */
export interface FittedEmbedder {
  writeState(file: string): void;
}

export function describeEmbedder(info: EmbedderInfo): string {
  return `${info.id}${info.model ? `:${info.model}` : ''} (${info.dimensions} dims)`;
}

export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/**
 * `v` folded to `to` dimensions (a divisor of its own): dimension d adds into d mod `to`,
 * then the result is made unit length. Written into `out` when given (it must not be `v`).
 */
export function foldVector(v: Float32Array, to: number, out: Float32Array = new Float32Array(to)): Float32Array {
  if (to <= 0 || v.length % to !== 0 || out.length !== to) throw new RangeError(`foldVector: cannot fold ${v.length} dimensions to ${to}`);
  out.fill(0);
  for (let base = 0; base < v.length; base += to) for (let d = 0; d < to; d++) out[d]! += v[base + d]!;
  return l2Normalize(out);
}
