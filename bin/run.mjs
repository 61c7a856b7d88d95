#!/usr/bin/env node
// Runs one of the project's entry points from its compiled JavaScript in dist/ (the
// command's bundle in dist/bundle/ when the build made one):
//   node bin/run.mjs src/cli/ask [args…]
// Compiled code starts in a fraction of tsx's time (no transpiling at start). So that
// dist/ can never serve code older than src/, the sources' newest change is compared with
// the stamp of the last build (a few milliseconds), and dist/ is rebuilt first when it is
// behind. `node bin/run.mjs --build` builds unconditionally (npm's `prepare`);
// `--build-if-stale` only when the sources changed (the test suite's set-up, so that tests
// which start `npm start` never wait for a build).
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
/** What the build compiles or depends on (tsconfig.build.json includes src and bench; the bench imports helpers from test/; package.json names the bundled commands). */
const INPUTS = ['src', 'bench', 'test', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
/** What a command under src/ depends on: the same but the bench and its test helpers (a third of the files to check). */
const SRC_INPUTS = INPUTS.filter((i) => i !== 'bench' && i !== 'test');

function newestChange(target) {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its folder
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestChange(path.join(target, entry)));
  return newest;
}

function stampTime() {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return -1;
  }
}

async function build(why) {
  process.stderr.write(`plan-qa-bot: compiling to dist/ (${why})…\n`);
  // Loaded only to build: a start with dist/ up to date does not pay for child_process (~2 ms).
  const { spawnSync } = await import('node:child_process');
  let tsc;
  try {
    tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
  } catch {
    process.stderr.write('plan-qa-bot: dist/ needs building but TypeScript is not installed; run `npm install` (with dev dependencies)\n');
    process.exit(1);
  }
  const started = Date.now();
  // tsc prints its errors on stdout: they go to stderr, where a command's JSON output is not.
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    process.stderr.write('plan-qa-bot: compiling failed (see the errors above); fix them, or run the sources with `npx tsx`\n');
    process.exit(1);
  }
  // jieba's dictionary, compiled for a cold command's few short texts (src/index/jieba-dictionary.ts).
  const dictionaryModule = path.join(DIST, 'src/index/jieba-dictionary.js');
  // Both are speed only: when one fails, the commands still run (unbundled, or loading jieba's whole dictionary).
  try {
    if (existsSync(dictionaryModule)) (await import(pathToFileURL(dictionaryModule).href)).compileJiebaDictionary(path.join(DIST, 'jieba-dictionary.bin'));
  } catch (err) {
    process.stderr.write(`plan-qa-bot: compiling jieba's dictionary failed (${String(err?.message ?? err).split('\n')[0]}); commands will load the whole dictionary\n`);
  }
  try {
    await bundle();
  } catch (err) {
    rmSync(BUNDLE_DIR, { recursive: true, force: true });
    process.stderr.write(`plan-qa-bot: bundling failed (${String(err?.message ?? err).split('\n')[0]}); the commands run unbundled\n`);
  }
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  process.stderr.write(`plan-qa-bot: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/**
 * The product's commands (package.json's scripts that run an entry under src/), each
 * bundled with its own modules and zod into dist/bundle/; the compiled modules stay beside
 * them for worker threads and benchmarks. A cold command then loads a few files instead of
 * about 130 (zod alone is 95), and only the part of zod it uses (the sources import it as
 * a namespace, `import * as z`, which esbuild trims: 200 of its 750 KB). Other packages
 * stay external: native addons, and packages that find their own files. Code a command
 * loads on demand (the LLM writer, PostgreSQL) stays in chunks loaded on demand. Without
 * esbuild (a development dependency) the commands run unbundled.
 */
const BUNDLE_DIR = path.join(DIST, 'bundle');

function commandEntries(pkg) {
  const entries = new Set();
  for (const script of Object.values(pkg.scripts ?? {})) {
    const m = /\bbin\/run\.mjs\s+(src\/[\w/.-]+)/.exec(script);
    if (m) entries.add(m[1].replace(/\.(ts|js)$/, ''));
  }
  return [...entries].filter((e) => existsSync(path.join(DIST, `${e}.js`)));
}

async function bundle() {
  // A bundle of older code must not outlive a build.
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('plan-qa-bot: esbuild is not installed; the commands run unbundled (a little slower to start)\n');
    return;
  }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const entries = commandEntries(pkg);
  if (entries.length === 0) return;
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(entries.map((e) => [e, path.join(DIST, `${e}.js`)])),
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys(pkg.dependencies ?? {}).filter((d) => d !== 'zod'),
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    logLevel: 'error',
  });
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node bin/run.mjs --build | --build-if-stale | <entry, e.g. src/cli/ask> [args…]\n');
  process.exit(2);
}
if (entry === '--build') {
  await build('npm install');
  process.exit(0);
}
const stamp = stampTime();
if (stamp < 0) await build('first run');
else if ((entry.startsWith('src/') ? SRC_INPUTS : INPUTS).some((input) => newestChange(path.join(ROOT, input)) > stamp)) await build('sources changed since the last build');
if (entry === '--build-if-stale') process.exit(0);

if (/(^|\/)debug|trace/.test(process.env.LOG_LEVEL ?? '')) process.setSourceMapsEnabled(true);
// The entry reads its arguments from process.argv, as it would when started directly.
const name = entry.replace(/\.(ts|js)$/, '');
const bundled = path.join(BUNDLE_DIR, `${name}.js`);
const compiled = existsSync(bundled) ? bundled : path.join(DIST, `${name}.js`);
process.argv = [process.argv[0], compiled, ...args];
await import(pathToFileURL(compiled).href);
