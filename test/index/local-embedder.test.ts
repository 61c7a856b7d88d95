import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSectionFile } from '../../src/index/binary-file.ts';
import { LocalEmbedder } from '../../src/index/local-embedder.ts';
import { tempDir } from '../helpers/test-index.ts';

const corpus = [
  '到2025年，森林覆盖率达到13%，建成区绿化覆盖率稳步提高。',
  '新建床位数不少于200张的公立精神专科医院和床位数不少于100张的公立传染病医院。',
  '推进河西务镇京津冀农产品集散中心建设，做优“京津菜篮子”市场。',
  '开展“企业服务日”和“政企会客厅”活动，构建亲清新型政商关系。',
];
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('LocalEmbedder', () => {
  const emb = LocalEmbedder.fit(corpus, 512);

  it('gives unit vectors of the configured size, deterministically', async () => {
    const [v] = await emb.embedDocuments([corpus[0]!]);
    expect(v).toHaveLength(512);
    expect(dot(v!, v!)).toBeCloseTo(1, 5);
    expect(Array.from(await emb.embedQuery(corpus[0]!))).toEqual(Array.from(v!));
  });

  it('puts a question closest to the passage that answers it', async () => {
    const docs = await emb.embedDocuments(corpus);
    const q = await emb.embedQuery('森林覆盖率目标是多少');
    const sims = docs.map((d) => dot(q, d));
    expect(sims.indexOf(Math.max(...sims))).toBe(0);
    const q2 = await emb.embedQuery('要新建什么医院');
    const sims2 = docs.map((d) => dot(q2, d));
    expect(sims2.indexOf(Math.max(...sims2))).toBe(1);
  });

  it('puts each n-gram in its unsigned hash modulo the dimensions, for a power of two as for any other size', () => {
    // A dimension d of 1,024 or 1,536 (hash mod 512 · k) folds onto d mod 512: folded and
    // normalized, their vectors are the 512-dimension one (1,536 takes the plain modulo).
    const fold = (v: Float32Array, n: number) => {
      const out = new Float64Array(n);
      v.forEach((x, d) => (out[d % n]! += x));
      const norm = Math.hypot(...out);
      return Array.from(out, (x) => x / norm);
    };
    for (const text of [corpus[1]!, '森林覆盖率']) {
      const want = Array.from(emb.embed(text));
      for (const dims of [1024, 1536]) {
        const got = fold(LocalEmbedder.fit(corpus, dims).embed(text), 512);
        got.forEach((x, d) => expect(x).toBeCloseTo(want[d]!, 6));
      }
    }
  });

  it('survives a round trip through its saved state', async () => {
    const restored = LocalEmbedder.fromJSON(JSON.parse(JSON.stringify(emb.toJSON())));
    expect(restored.info).toEqual(emb.info);
    expect(Array.from(await restored.embedQuery('政企会客厅'))).toEqual(Array.from(await emb.embedQuery('政企会客厅')));
  });

  it('embeds a text the same whatever it embedded before, long texts included', () => {
    // Each embedder counts n-grams in one reused table; a text of 3,000 characters makes it grow.
    const long = corpus.join('').repeat(25);
    const fresh = () => LocalEmbedder.fromJSON(emb.toJSON());
    const alone = { short: Array.from(fresh().embed(corpus[1]!)), long: Array.from(fresh().embed(long)) };
    const reused = fresh();
    expect(Array.from(reused.embed(corpus[1]!))).toEqual(alone.short);
    expect(Array.from(reused.embed(long))).toEqual(alone.long);
    expect(Array.from(reused.embed(corpus[1]!))).toEqual(alone.short);
    expect(alone.long).not.toEqual(alone.short);
  });

  it('refuses a state of another model', () => {
    expect(() => LocalEmbedder.fromJSON({ ...emb.toJSON(), model: 'other' })).toThrow();
  });

  it('writes its state file and reads it back, embedding as before', async () => {
    const file = path.join(tempDir('plan-qa-embedder-'), 'embedder.bin');
    emb.writeState(file);
    const restored = LocalEmbedder.fromStateFile(readFileSync(file));
    expect(restored.toJSON()).toEqual(emb.toJSON());
    for (const text of ['森林覆盖率', '武清区2025年', '']) expect(Array.from(await restored.embedQuery(text))).toEqual(Array.from(await emb.embedQuery(text)));
  });

  it('reads the JSON state of earlier builds, in any layout', async () => {
    const state = emb.toJSON();
    const { df, ...head } = state;
    const file = (text: string) => LocalEmbedder.fromStateFile(Buffer.from(text));
    const layouts = [JSON.stringify(state), JSON.stringify(state, null, 1), JSON.stringify({ df, ...head })];
    for (const restored of layouts.map(file)) {
      expect(restored.toJSON()).toEqual(state);
      expect(Array.from(await restored.embedQuery('森林覆盖率'))).toEqual(Array.from(await emb.embedQuery('森林覆盖率')));
    }
    expect(file(JSON.stringify({ ...state, df: [] })).toJSON()).toEqual({ ...state, df: [] });
  });

  it('refuses a state file cut short, of another model, with a table of the wrong size, or with a bad pair or broken JSON', () => {
    const dir = tempDir('plan-qa-embedder-');
    const written = path.join(dir, 'embedder.bin');
    emb.writeState(written);
    const bytes = readFileSync(written);
    expect(() => LocalEmbedder.fromStateFile(bytes.subarray(0, bytes.length - 8))).toThrow(/outside the file/);
    const other = path.join(dir, 'other.bin');
    writeFileSync(other, bytes.toString('latin1').replace('char-ngram-1-3-v2', 'char-ngram-9-9-v9'), 'latin1');
    expect(() => LocalEmbedder.fromStateFile(readFileSync(other))).toThrow();
    const odd = path.join(dir, 'odd.bin');
    writeSectionFile(odd, 'PQAEMB01', { model: 'char-ngram-1-3-v2', dimensions: 1024, documents: 3 }, [
      { name: 'keys', data: new Int32Array(24) },
      { name: 'counts', data: new Uint32Array(24) },
    ]);
    expect(() => LocalEmbedder.fromStateFile(readFileSync(odd))).toThrow(/power-of-two/);

    const state = emb.toJSON();
    const file = (text: string) => () => LocalEmbedder.fromStateFile(Buffer.from(text));
    expect(file(JSON.stringify({ ...state, df: [...state.df, [7, 0]] }))).toThrow(/\[hash, df\] pairs/);
    expect(file(JSON.stringify({ ...state, df: [...state.df, [7, 1.5]] }))).toThrow(/\[hash, df\] pairs/);
    expect(file(JSON.stringify({ ...state, df: [...state.df, [7]] }))).toThrow(/\[hash, df\] pairs/);
    expect(file(JSON.stringify({ ...state, model: 'other' }))).toThrow();
    expect(file(JSON.stringify(state).slice(0, -3))).toThrow(SyntaxError);
  });

  it('embeds empty text as a zero-safe vector', async () => {
    const v = await emb.embedQuery('');
    expect(v.every((x) => Number.isFinite(x))).toBe(true);
  });
});
