import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

const TSX = path.resolve('node_modules/.bin/tsx');

describe('npm run eval', () => {
  let t: TestIndex;
  beforeAll(async () => {
    t = await buildTestIndex();
  });
  afterAll(() => t.cleanup());

  const run = (args: string[]) =>
    spawnSync(TSX, ['src/cli/eval.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', STATE_DIR: t.stateDir },
      timeout: 60_000,
    });

  it('reports both error rates of the found decision and its cross-validated figures', () => {
    const r = run(['test/fixtures/calibration-questions.jsonl', '--folds', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('items: 6 (3 answerable, 3 unanswerable)');
    expect(r.stdout).toContain('answers correct and cited 0.667 (2/3)');
    expect(r.stdout).toContain('answerable refused 0.333 (1/3)  unanswerable answered 0/3');
    expect(r.stdout).toMatch(/3-fold cross-validated found decision \(fitted [\d./ ]+\): answers correct [\d.]+ {2}answerable refused [\d.]+ {2}unanswerable answered \d\/3/);
  });

  it('rejects bad arguments with one line', () => {
    const r = run(['test/fixtures/calibration-questions.jsonl', '--folds', '1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
