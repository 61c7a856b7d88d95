import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleFiles, staleFilesQuickly } from '../../src/index/ensure-index.ts';
import { copyCorpusIndex, testConfig } from '../helpers/test-index.ts';

/**
 * The start-up check of the corpus against the index: in full (read and hash every
 * document) the first time, then by each file's size and modification time only.
 */
describe('staleFilesQuickly', () => {
  const state = copyCorpusIndex();
  const corpus = path.join(state, 'corpus');
  cpSync('data/corpus', corpus, { recursive: true });
  const config = () => ({ ...testConfig(state), index: { ...testConfig(state).index, corpusDir: corpus } });
  afterAll(() => rmSync(state, { recursive: true, force: true }));
  const plan = path.join(corpus, 'wuqing-14th-five-year-plan.txt');

  it('checks in full the first time, then trusts an unchanged size and time', async () => {
    const then = new Date('2026-01-01T00:00:00Z');
    utimesSync(plan, then, then);
    expect(await staleFilesQuickly(config())).toEqual([]);
    // Same size and the old time, other content: only a full check would see it. The quick one
    // must not read the file (this is what makes a large corpus start fast).
    const text = readFileSync(plan, 'utf8');
    writeFileSync(plan, text.replace('森林覆盖率', '森林覆盖面'));
    utimesSync(plan, then, then);
    expect(await staleFilesQuickly(config())).toEqual([]);
    expect(await staleFiles(config())).toEqual(['wuqing-14th-five-year-plan.txt']);
    writeFileSync(plan, text);
    utimesSync(plan, then, then);
  });

  it('sees a file whose time changed, an added file and a removed one', async () => {
    const later = new Date(Date.now() + 60_000);
    const text = readFileSync(plan, 'utf8');
    writeFileSync(plan, text.replace('森林覆盖率', '森林覆盖面'));
    utimesSync(plan, later, later);
    expect(await staleFilesQuickly(config())).toEqual(['wuqing-14th-five-year-plan.txt']);
    writeFileSync(plan, text);
    expect(await staleFilesQuickly(config())).toEqual([]);
    writeFileSync(path.join(corpus, 'extra-2024.md'), '# 测试区2024年政府工作报告\n\n测试区将建设100个智慧停车场。');
    expect(await staleFilesQuickly(config())).toEqual(['extra-2024.md']);
    rmSync(path.join(corpus, 'extra-2024.md'));
    expect(await staleFilesQuickly(config())).toEqual([]);
  });

  it('tells the skipped files again on a quick check', async () => {
    writeFileSync(path.join(corpus, 'notes.txt'), '随手记的几句话，没有区名也没有年份。');
    const first: string[] = [];
    expect(await staleFilesQuickly(config(), (s) => first.push(s.file))).toEqual([]);
    const again: string[] = [];
    expect(await staleFilesQuickly(config(), (s) => again.push(s.file))).toEqual([]);
    expect(first).toEqual(['notes.txt']);
    expect(again).toEqual(['notes.txt']);
  });
});
