import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { parseConfig } from '../src/config.ts';
import { buildIndex } from '../src/index/build-index.ts';

/**
 * Builds the shipped corpus's index once per `vitest run`; each test file copies it into
 * its own temporary STATE_DIR (test/helpers/test-index.ts) instead of building it again.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** A STATE_DIR holding a complete index of data/corpus with the default settings. */
    corpusIndexStateDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const repo = path.resolve(import.meta.dirname, '..');
  // Tests that start `npm start` run the compiled code: bring dist/ up to date once, here.
  const compiled = spawnSync(process.execPath, [path.join(repo, 'bin/run.mjs'), '--build-if-stale'], { cwd: repo, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`compiling dist/ failed:\n${compiled.stderr}`);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-index-'));
  const config = parseConfig({ STATE_DIR: stateDir, CORPUS_DIR: path.join(repo, 'data/corpus'), LOG_LEVEL: 'silent' }, repo);
  await buildIndex(config);
  project.provide('corpusIndexStateDir', stateDir);
  return () => rm(stateDir, { recursive: true, force: true });
}
