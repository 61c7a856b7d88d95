import type { OpenAiClient } from '../openai-client.ts';
import { toUpstreamError } from '../openai-client.ts';
import { UpstreamMalformedError } from '../errors.ts';
import { l2Normalize, type Embedder, type EmbedderInfo } from './embedder.ts';

/**
 * Embeddings from any OpenAI-compatible endpoint. The SDK requests base64 and decodes it
 * to float arrays itself. Dimensions are the model's native size unless configured; the
 * first response fixes them and every later one must agree.
 */
export const OPENAI_EMBEDDER_ID = 'openai';
const BATCH = 64;

export class OpenAiEmbedder implements Embedder {
  private dims: number;

  constructor(
    private readonly client: OpenAiClient,
    private readonly model: string,
    dimensions = 0,
  ) {
    this.dims = dimensions;
  }

  get info(): EmbedderInfo {
    return { id: OPENAI_EMBEDDER_ID, model: this.model, dimensions: this.dims };
  }

  /** Asks the server once, so `info.dimensions` is known before comparing with an index. */
  async probe(): Promise<EmbedderInfo> {
    if (this.dims === 0) await this.embedQuery('维度');
    return this.info;
  }

  async embedDocuments(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += BATCH) out.push(...(await this.request(texts.slice(i, i + BATCH))));
    return out;
  }

  async embedQuery(text: string): Promise<Float32Array> {
    const [v] = await this.request([text]);
    return v!;
  }

  private async request(input: string[]): Promise<Float32Array[]> {
    let res;
    try {
      res = await this.client.embeddings.create({ model: this.model, input, ...(this.dims ? { dimensions: this.dims } : {}) });
    } catch (err) {
      throw toUpstreamError('embeddings', err);
    }
    if (res.data.length !== input.length) throw new UpstreamMalformedError(`embeddings: expected ${input.length} vectors, got ${res.data.length}`);
    const sorted = [...res.data].sort((a, b) => a.index - b.index);
    return sorted.map((d) => {
      const v = Float32Array.from(d.embedding);
      if (this.dims === 0) this.dims = v.length;
      if (v.length !== this.dims) throw new UpstreamMalformedError(`embeddings: expected ${this.dims} dims, got ${v.length}`);
      return l2Normalize(v);
    });
  }
}
