import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type Config, type Env } from '../../src/config.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import { loadPlanIndex, type PlanIndex } from '../../src/index/plan-index.ts';

/** A real index of the shipped corpus in a temporary STATE_DIR (about 3 s to build). */
export interface TestIndex {
  config: Config;
  index: PlanIndex;
  stateDir: string;
  cleanup: () => void;
}

export function tempDir(prefix = 'plan-qa-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testConfig(stateDir: string, env: Env = {}): Config {
  return parseConfig({ STATE_DIR: stateDir, CORPUS_DIR: path.resolve('data/corpus'), LOG_LEVEL: 'silent', ...env });
}

export async function buildTestIndex(env: Env = {}): Promise<TestIndex> {
  const stateDir = tempDir();
  const config = testConfig(stateDir, env);
  await buildIndex(config);
  const index = await loadPlanIndex(config.index, config.llm);
  return { config, index, stateDir, cleanup: () => rmSync(stateDir, { recursive: true, force: true }) };
}
