import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorpusError } from '../../src/errors.ts';
import { loadCorpus, readCorpus } from '../../src/ingest/corpus.ts';

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
    const { added, ...meta } = docs[0]!.meta;
    expect(added).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(meta).toEqual({
      format: 'txt',
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

  it('loads a valid minimal corpus and skips files that are not documents, naming them', async () => {
    await writeManifest({ version: 1, documents: [entry] });
    await writeFile(path.join(dir, 'notes.json'), '{}');
    const { documents, skipped } = await readCorpus(dir);
    expect(documents).toHaveLength(1);
    expect(documents[0]!.meta).toMatchObject(entry);
    expect(skipped).toEqual([{ file: 'notes.json', reason: expect.stringMatching(/unsupported format; use \.pdf/) }]);
  });

  it('needs no manifest when the text says what the document is', async () => {
    await writeFile(path.join(dir, 'a.txt'), '天津市西青区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要\n第一章 总则\n正文。');
    const docs = await loadCorpus(dir);
    expect(docs.map((d) => d.meta)).toEqual([
      expect.objectContaining({
        file: 'a.txt',
        title: '天津市西青区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要',
        district: '西青区',
        year: 2021,
        kind: '五年规划',
        years: [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2035],
      }),
    ]);
  });

  it('lets a manifest entry override what is inferred, field by field', async () => {
    await writeFile(path.join(dir, 'a.txt'), '西青区2024年政府工作报告\n一、回顾\n正文。');
    await writeManifest({ version: 1, documents: [{ file: 'a.txt', title: '另一个标题', year: 2023 }] });
    const [doc] = await loadCorpus(dir);
    expect(doc!.meta).toMatchObject({ title: '另一个标题', district: '西青区', year: 2023, kind: '政府工作报告' });
    expect(doc!.meta.years).toContain(2023);
  });

  it('skips a document it cannot describe or read, with one line naming it and why; the rest load', async () => {
    await writeManifest({ version: 1, documents: [entry] });
    await writeFile(path.join(dir, 'b.md'), '# 新文件\n没有区名也没有年份。');
    await writeFile(path.join(dir, 'c.txt'), Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28]));
    await writeFile(path.join(dir, 'd.pdf'), 'not a pdf');
    const { documents, skipped } = await readCorpus(dir);
    expect(documents.map((d) => d.meta.file)).toEqual(['a.txt']);
    expect(skipped.map((s) => s.file)).toEqual(['b.md', 'c.txt', 'd.pdf']);
    expect(skipped[0]!.reason).toMatch(/does not say its district or year; add them in manifest\.json/);
    expect(skipped[2]!.reason).toMatch(/d\.pdf is not a readable PDF/);
    for (const s of skipped) expect(s.reason).not.toMatch(/\n|    at /);
  });

  it('skips an entry whose file is missing; refuses duplicate entries', async () => {
    await writeManifest({ version: 1, documents: [entry, { ...entry, file: 'gone.txt' }] });
    const { documents, skipped } = await readCorpus(dir);
    expect(documents).toHaveLength(1);
    expect(skipped).toEqual([{ file: 'gone.txt', reason: expect.stringMatching(/lists it but no such file/) }]);
    await writeManifest({ version: 1, documents: [entry, entry] });
    await expect(loadCorpus(dir)).rejects.toThrow(/lists a\.txt twice/);
  });

  it('refuses a manifest that is not JSON', async () => {
    await writeManifest('{ version: 1,');
    await expect(loadCorpus(dir)).rejects.toThrow(CorpusError);
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
});
