import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishGeneration } from '../../src/index/index-generations.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { buildTestIndex, tempDir, type TestIndex } from '../helpers/test-index.ts';

function run(script: string, args: string[], env: Record<string, string>, input?: string) {
  // One node process with tsx's loader (the tsx binary would start a second one).
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('command line', () => {
  let t: TestIndex;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await buildTestIndex();
    env = { STATE_DIR: t.stateDir };
  });
  afterAll(() => t.cleanup());

  it('ask --jsonl answers every line, and a bad line gets its own error', () => {
    const input = [
      JSON.stringify({ id: 'a', q: '武清区2025年森林覆盖率目标是多少?' }),
      '{not json',
      JSON.stringify({ id: 'c', question: 'wrong field' }),
      JSON.stringify({ id: 'd', q: '' }),
      JSON.stringify({ id: 'e', q: '问'.repeat(10_000) }),
      JSON.stringify({ id: 'f', q: '那津南区呢？', history: [{ q: '河北区十三五期间PM2.5下降了多少？', answer: '37.8%' }] }),
      JSON.stringify({ id: 'g', q: '东丽区十四五规划新增就业目标是多少？' }),
    ].join('\n');
    const r = run('ask', ['--jsonl'], env, input);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatchObject({ id: 'a', found: true, mode: 'extractive' });
    expect(lines[0].citations[0]).toEqual(expect.objectContaining({ n: 1, file: 'wuqing-14th-five-year-plan.txt', quote: expect.any(String), start: expect.any(Number), end: expect.any(Number), title: expect.any(String), section: expect.any(String) }));
    expect(lines[1]).toEqual({ id: null, error: 'line 2: not valid JSON' });
    expect(lines[2].id).toBe('c');
    expect(lines[2].error).toMatch(/line 3: expected/);
    expect(lines[3]).toMatchObject({ id: 'd', error: expect.stringContaining('问题是空的') });
    expect(lines[4]).toMatchObject({ id: 'e', error: expect.stringContaining('问题太长') });
    expect(lines[5]).toMatchObject({ id: 'f', found: true });
    expect(lines[5].citations.every((c: { file: string }) => c.file.startsWith('jinnan'))).toBe(true);
    expect(lines[6]).toMatchObject({ id: 'g', found: false, citations: [] });
    expect(r.code).toBe(1); // some lines failed
  });

  it('the bundled command, as npm runs it, answers as the sources do, a question segmented with its own small dictionary', () => {
    const bundled = (q: string, logLevel = 'silent') =>
      spawnSync(process.execPath, ['bin/run.mjs', 'src/cli/ask', '--json', q], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: logLevel, ...env },
        timeout: 60_000,
      });
    for (const q of ['武清区2025年森林覆盖率目标是多少？', '武清23年固投预计涨多少', '津南国展周边交通咋配套']) {
      const b = bundled(q);
      expect(b.status, b.stderr).toBe(0);
      expect(JSON.parse(b.stdout)).toEqual(JSON.parse(run('ask', ['--json', q], env).stdout));
    }
    const debug = bundled('武清区2025年森林覆盖率目标是多少？', 'debug');
    expect(debug.stderr).toMatch(/"segmentation":"second thread","dictionary":"per text"/);
  });

  it('search --json prints ranked passages with offsets; logs stay off stdout', () => {
    const r = run('search', ['--k', '3', '--json', '津南夜间经济打算以哪几个地方做示范？'], { ...env, LOG_LEVEL: 'info' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results).toHaveLength(3);
    expect(out.results[0]).toEqual(expect.objectContaining({ rank: 1, file: 'jinnan-14th-five-year-plan-2022-update.txt', start: expect.any(Number), end: expect.any(Number), score: expect.any(Number) }));
  });

  it('a mistyped option gets one line naming it, not a stack trace', () => {
    const r = run('ask', ['--jsno', '武清区2025年森林覆盖率目标是多少？'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ask: Unknown option '--jsno'/)]);
  });

  it('ask prints a readable cited answer', () => {
    const r = run('ask', ['河北区华津3526创意产业园主打什么？'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/创意设计和健康服务.*\[1\]/);
    expect(r.stdout).toMatch(/来源：\n\[1\] 《天津市河北区/);
  });

  it('targets prints the rebuilt indicator table', () => {
    const r = run('targets', ['武清'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/森林覆盖率（%）：2025年目标13%，2020年为12\.07%，约束性指标/);
    expect(run('targets', ['东丽区'], env).stderr).toMatch(/no documents for "东丽区"/);
  });

  it('with INDEX_SHARED_DIR, ask and targets answer from the published generation and build nothing of their own', async () => {
    const shared = tempDir('plan-qa-shared-');
    const own = tempDir('plan-qa-own-');
    const none = run('ask', ['武清区2025年森林覆盖率目标是多少？'], { STATE_DIR: own, INDEX_SHARED_DIR: shared });
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split('\n')).toEqual([expect.stringContaining('no index generation published')]);
    await publishGeneration(await currentBuildDir(t.stateDir), shared);
    const r = run('ask', ['--json', '武清区2025年森林覆盖率目标是多少？'], { STATE_DIR: own, INDEX_SHARED_DIR: shared });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ found: true, citations: [expect.objectContaining({ file: 'wuqing-14th-five-year-plan.txt' })] });
    expect(run('targets', [], { STATE_DIR: own, INDEX_SHARED_DIR: shared }).code).toBe(0);
    // Nothing was built in the command's own STATE_DIR.
    expect(existsSync(path.join(own, 'index'))).toBe(false);
  });

  it('a broken setting is one clear line and exit code 1', () => {
    const r = run('ask', ['问题'], { ...env, CHUNK_SIZE: 'huge' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^config: CHUNK_SIZE must be an integer/);
  });

  it('malformed arguments get usage, not a stack trace', () => {
    const r = run('search', ['--k', 'many', 'x'], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('search: --k must be an integer from 1 to 100, got "many"');
    const none = run('ask', [], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^usage: npm run ask/);
  });
});
