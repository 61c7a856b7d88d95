import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkTable, ChunkTableWriter } from '../../src/index/chunk-table.ts';
import { currentBuildDir, readManifest, type IndexedDocumentMeta, type StoredChunk } from '../../src/index/index-store.ts';
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

describe('ChunkTableWriter', () => {
  it('reads back every field as written: rare fields, texts of every size, characters of every width', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chunk-table-'));
    try {
      const paths = { meta: path.join(dir, 'chunks.json'), columns: path.join(dir, 'chunks.bin'), texts: path.join(dir, 'texts.bin') };
      const doc = (file: string): IndexedDocumentMeta => ({ file, title: file, district: '武清区', year: 2021, years: [2021], kind: '五年规划', checksum: '0'.repeat(64), chunkCount: 0 });
      const chunk = (i: number, text: string, more: Partial<StoredChunk> = {}): StoredChunk => ({ id: `a.txt#${i * 10}-${i * 10 + text.length}`, file: 'a.txt', section: [`第${i}章`], start: i * 10, end: i * 10 + text.length, text, quote: text, kind: 'text', ...more });
      // 2 MB of three-byte characters does not fit the writer's 4 MB buffer beside what it holds: it is flushed first.
      const long = '森林覆盖率'.repeat(400_000);
      const chunks = [
        chunk(0, '武清区森林覆盖率达到13%。'),
        chunk(1, '移位的编号', { id: 'a.txt#custom' }),
        chunk(2, '有缺口的段落', { spans: [[20, 22], [24, 26]] }),
        chunk(3, long),
        chunk(4, '表情😀与 ASCII', { kind: 'table-row', quote: '表情 | 😀', file: 'b.txt', id: 'b.txt#40-51' }),
        chunk(5, long.slice(0, 600_000)),
        chunk(6, ''),
      ];
      const writer = new ChunkTableWriter(paths);
      for (const c of chunks) writer.add(c);
      expect(writer.finish()).toEqual({ count: chunks.length });
      const table = ChunkTable.open(paths, { meta: readFileSync(paths.meta, 'utf8'), columns: readFileSync(paths.columns) }, [doc('a.txt'), doc('b.txt')]);
      expect(table.length).toBe(chunks.length);
      chunks.forEach((c, i) => expect(table.at(i)).toMatchObject(c));
      expect(table.at(0)).not.toHaveProperty('spans');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The text chunk offsets point into: the corpus file normalized as ingest does (plain-text corpus). */
function normalizedText(file: string): string {
  return normalizeText(readFileSync(path.join('data/corpus', file), 'utf8')).text;
}
