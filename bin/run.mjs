#!/usr/bin/env node
// Runs one of the project's entry points from its compiled JavaScript in dist/:
//   node bin/run.mjs src/cli/ask [args…]
// Compiled code starts in a fraction of tsx's time (no transpiling at start). So that
// dist/ can never serve code older than src/, the sources' newest change is compared with
// the stamp of the last build (a few milliseconds), and dist/ is rebuilt first when it is
// behind. `node bin/run.mjs --build` builds unconditionally (npm's `prepare`);
// `--build-if-stale` only when the sources changed (the test suite's set-up, so that tests
// which start `npm start` never wait for a build).
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
/** What the build compiles or depends on (tsconfig.build.json includes src and bench; the bench imports helpers from test/). */
const INPUTS = ['src', 'bench', 'test', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

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
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  process.stderr.write(`plan-qa-bot: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
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
else if (INPUTS.some((input) => newestChange(path.join(ROOT, input)) > stamp)) await build('sources changed since the last build');
if (entry === '--build-if-stale') process.exit(0);

if (/(^|\/)debug|trace/.test(process.env.LOG_LEVEL ?? '')) process.setSourceMapsEnabled(true);
// The entry reads its arguments from process.argv, as it would when started directly.
const compiled = path.join(DIST, `${entry.replace(/\.(ts|js)$/, '')}.js`);
process.argv = [process.argv[0], compiled, ...args];
await import(pathToFileURL(compiled).href);
