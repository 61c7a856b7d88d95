import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * bin/run.mjs on a project of its own: a copy of the launcher beside a two-file TypeScript
 * project, with the repository's TypeScript. It compiles on first use, runs the compiled
 * entry with its arguments (bundled, as package.json's script names it), does not compile
 * again while the sources are unchanged, and compiles again when one is newer than the build.
 */

const REPO = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(): void {
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'src'));
  cpSync(path.join(REPO, 'bin/run.mjs'), path.join(dir, 'bin/run.mjs'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', scripts: { hello: 'node bin/run.mjs src/hello' } }));
  // No @types/node (reading it is most of a compile): the project declares the one global it uses.
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: [], lib: ['ES2022'], skipLibCheck: true, allowImportingTsExtensions: true, noEmit: true }, include: ['src'] }));
  writeFileSync(path.join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: false, rootDir: '.', outDir: 'dist', rewriteRelativeImportExtensions: true }, include: ['src'] }));
  writeFileSync(path.join(dir, 'src/greeting.ts'), "export const greeting = (who: string): string => `你好，${who}`;\n");
  writeFileSync(path.join(dir, 'src/hello.ts'), "import { greeting } from './greeting.ts';\ndeclare const process: { argv: string[] };\ndeclare const console: { log(s: string): void };\nconsole.log(greeting(process.argv.slice(2).join(' ')));\n");
}

function run(...args: string[]) {
  return spawnSync(process.execPath, ['bin/run.mjs', ...args], { cwd: dir, encoding: 'utf8' });
}

describe('bin/run.mjs', () => {
  project();

  it('compiles on first use and runs the compiled entry with its arguments', () => {
    const r = run('src/hello', '武清', '区');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('你好，武清 区\n');
    expect(r.stderr).toContain('compiling to dist/ (first run)');
    // The command a script runs is bundled, and the bundle is what runs.
    expect(existsSync(path.join(dir, 'dist/bundle/src/hello.js'))).toBe(true);
    expect(run('src/hello', '武清').stdout).toBe('你好，武清\n');
  });

  it('does not compile again while the sources are unchanged', () => {
    const r = run('src/hello', '河北区');
    expect(r.stdout).toBe('你好，河北区\n');
    expect(r.stderr).toBe('');
  });

  it('compiles again when a source is newer than the build', () => {
    const file = path.join(dir, 'src/greeting.ts');
    writeFileSync(file, "export const greeting = (who: string): string => `再见，${who}`;\n");
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    const r = run('src/hello', '津南区');
    expect(r.stderr).toContain('sources changed since the last build');
    expect(r.stdout).toBe('再见，津南区\n');
    // (esbuild writes non-ASCII characters as escapes)
    expect(readFileSync(path.join(dir, 'dist/bundle/src/hello.js'), 'utf8')).toContain('\\u518D\\u89C1');
  });
});
