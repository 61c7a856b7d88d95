import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBuildDir, readManifest } from '../../src/index/index-store.ts';
import { normalizeText } from '../../src/ingest/normalize.ts';
import { loadPlanIndex, readChunkTable, type PlanIndex } from '../../src/index/plan-index.ts';
import { copyCorpusIndex, testConfig } from '../helpers/test-index.ts';

describe('ChunkTable', () => {
  const state = copyCorpusIndex();
  let index: PlanIndex;
  beforeAll(async () => {
    index = await loadPlanIndex(testConfig(state).index, testConfig(state).llm);
  });
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('gives the same chunks whether the texts are held in memory or read from their file', async () => {
    const dir = await currentBuildDir(state);
    const fromFile = await readChunkTable(dir, await readManifest(dir), { textsInMemoryMax: 0 });
    expect(fromFile.length).toBe(index.chunks.length);
    for (let i = 0; i < fromFile.length; i += 7) expect(fromFile.at(i)).toEqual(index.chunks.at(i));
    expect(fromFile.at(fromFile.length - 1)).toEqual(index.chunks.at(index.chunks.length - 1));
  });

  it('keeps every quote verbatim: a text chunk is the extracted text between its offsets, a table row quotes its cells', () => {
    const extracted = new Map<string, string>();
    let rows = 0;
    for (const c of index.chunks) {
      expect(c.id).toBe(`${c.file}#${c.start}-${c.end}`);
      if (c.kind === 'table-row') {
        rows++;
        expect(c.quote).not.toBe(c.text);
        continue;
      }
      expect(c.quote).toBe(c.text);
      if (!extracted.has(c.file)) extracted.set(c.file, normalizedText(c.file));
      expect(extracted.get(c.file)!.slice(c.start, c.end)).toBe(c.text);
    }
    expect(rows).toBeGreaterThan(0);
    expect(index.chunks.indicatorRows().length).toBeGreaterThan(0);
    expect(index.chunks.indicatorRows().every((c) => c.indicator)).toBe(true);
  });

  it('finds a chunk by id, and nothing for an id it does not hold', () => {
    const c = index.chunks.at(123);
    expect(index.chunks.byId(c.id)).toEqual(c);
    expect(index.chunks.byId(`${c.file}#0-1`)).toBeUndefined();
    expect(index.chunks.byId('no such chunk')).toBeUndefined();
    expect(() => index.chunks.at(index.chunks.length)).toThrow(RangeError);
  });
});

/** The text chunk offsets point into: the corpus file normalized as ingest does (plain-text corpus). */
function normalizedText(file: string): string {
  return normalizeText(readFileSync(path.join('data/corpus', file), 'utf8')).text;
}
