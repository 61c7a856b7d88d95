import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorpusError } from '../../src/errors.ts';
import { loadCorpus } from '../../src/ingest/corpus.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../data/corpus');

describe('loadCorpus on data/corpus', () => {
  it('loads the five documents in manifest order with their metadata and checksums', async () => {
    const docs = await loadCorpus(CORPUS);
    expect(docs.map((d) => d.meta.file)).toEqual([
      'wuqing-14th-five-year-plan.txt',
      'hebei-district-14th-five-year-plan-2022-update.txt',
      'jinnan-14th-five-year-plan-2022-update.txt',
      'wuqing-2018-government-work-report.txt',
      'wuqing-2022-plan-report-and-2023-plan.txt',
    ]);
    for (const d of docs) {
      const bytes = await readFile(path.join(CORPUS, d.meta.file));
      expect(d.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(d.raw).toBe(bytes.toString('utf8'));
      expect(d.meta.years).toContain(d.meta.year);
    }
    expect(docs[0]!.meta).toEqual({
      file: 'wuqing-14th-five-year-plan.txt',
      title: '天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要',
      district: '武清区',
      year: 2021,
      years: [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2035],
      kind: '五年规划',
      issuer: '天津市武清区人民政府',
    });
    expect(docs.map((d) => d.meta.district)).toEqual(['武清区', '河北区', '津南区', '武清区', '武清区']);
    expect(docs.map((d) => d.meta.kind)).toEqual(['五年规划', '五年规划', '五年规划', '政府工作报告', '计划报告']);
    expect(docs[1]!.meta.issuer).toBeUndefined();
  });

  it('uses titles that the documents themselves carry (whitespace aside)', async () => {
    for (const d of await loadCorpus(CORPUS)) {
      const raw = d.raw.replace(/\s/g, '');
      expect(raw, d.meta.file).toContain(d.meta.title.replace(/\s/g, ''));
    }
  });
});

describe('loadCorpus errors', () => {
  let dir: string;
  const entry = { file: 'a.txt', title: '标题', district: '武清区', year: 2021, years: [2021], kind: '五年规划' };
  const writeManifest = (value: unknown) => writeFile(path.join(dir, 'manifest.json'), typeof value === 'string' ? value : JSON.stringify(value));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'corpus-test-'));
    await writeFile(path.join(dir, 'a.txt'), '第一章 总则\n正文。');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid minimal corpus and ignores files that are not documents', async () => {
    await writeManifest({ version: 1, documents: [entry] });
    await writeFile(path.join(dir, 'notes.json'), '{}');
    const docs = await loadCorpus(dir);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.meta).toEqual(entry);
  });

  it('refuses a folder without manifest.json', async () => {
    await expect(loadCorpus(dir)).rejects.toThrow(CorpusError);
    await expect(loadCorpus(dir)).rejects.toThrow(/manifest\.json/);
  });

  it('refuses a manifest that is not JSON', async () => {
    await writeManifest('{ version: 1,');
    await expect(loadCorpus(dir)).rejects.toThrow(/manifest\.json is not valid JSON/);
  });

  it('names the bad field', async () => {
    await writeManifest({ version: 1, documents: [{ ...entry, year: '2021' }] });
    await expect(loadCorpus(dir)).rejects.toThrow(/documents\[0\]\.year/);
    await writeManifest({ version: 1, documents: [{ ...entry, kind: '年鉴' }] });
    await expect(loadCorpus(dir)).rejects.toThrow(/documents\[0\]\.kind/);
    await writeManifest({ version: 1, documents: [{ ...entry, file: '../a.txt' }] });
    await expect(loadCorpus(dir)).rejects.toThrow(/documents\[0\]\.file: must be a plain file name/);
    await writeManifest({ version: 2, documents: [entry] });
    await expect(loadCorpus(dir)).rejects.toThrow(/version/);
  });

  it('tells the user to add a manifest entry for an unlisted document', async () => {
    await writeManifest({ version: 1, documents: [entry] });
    await writeFile(path.join(dir, 'b.md'), '# 新文件');
    const err = await loadCorpus(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorpusError);
    expect((err as Error).message).toMatch(/b\.md .*not in manifest\.json; add a manifest entry/);
  });

  it('refuses an entry whose file is missing, and duplicate entries', async () => {
    await writeManifest({ version: 1, documents: [entry, { ...entry, file: 'gone.txt' }] });
    await expect(loadCorpus(dir)).rejects.toThrow(/lists gone\.txt but no such file/);
    await writeManifest({ version: 1, documents: [entry, entry] });
    await expect(loadCorpus(dir)).rejects.toThrow(/lists a\.txt twice/);
  });
});
