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
