import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** A bench interrupted with Ctrl-C leaves no temporary folder behind (a million-chunk run fills gigabytes). */

const REPO = path.resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-bench-temp-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runUntilReady(script: string): Promise<{ child: ReturnType<typeof spawn>; dirs: string[] }> {
  const file = path.join(scratch, `${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, script.replace('BENCH_TEMP', path.join(REPO, 'bench/bench-temp.ts')));
  const child = spawn(path.join(REPO, 'node_modules/.bin/tsx'), [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve({ child, dirs: JSON.parse(out.split('\n')[0]!) as string[] });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('bench temporary folders', () => {
  it('are removed when the run is interrupted, and the run exits 130', async () => {
    const { child, dirs } = await runUntilReady(`
      import { writeFileSync } from 'node:fs';
      import { benchTempDir } from 'BENCH_TEMP';
      const a = benchTempDir('plan-qa-t1-');
      const b = benchTempDir('plan-qa-t2-');
      writeFileSync(a.path + '/big.bin', Buffer.alloc(1024));
      console.log(JSON.stringify([a.path, b.path]));
      setInterval(() => {}, 1000);
    `);
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    const exited = exitOf(child);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });

  it('are removed when the run ends with an error, and one removed early is not touched again', async () => {
    const { child, dirs } = await runUntilReady(`
      import { benchTempDir } from 'BENCH_TEMP';
      const a = benchTempDir('plan-qa-t3-');
      const b = benchTempDir('plan-qa-t4-');
      b.remove();
      console.log(JSON.stringify([a.path, b.path]));
      setTimeout(() => { throw new Error('a section failed'); }, 50);
    `);
    expect(await exitOf(child)).toBe(1);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });
});
