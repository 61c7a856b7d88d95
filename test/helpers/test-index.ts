import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { parseConfig, type Config, type Env } from '../../src/config.ts';
import { loadPlanIndex, type PlanIndex } from '../../src/index/plan-index.ts';

/** A real index of the shipped corpus in a temporary STATE_DIR of its own. */
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

/**
 * A copy of the index test/global-setup.ts built once for the run (a copy, so a test may
 * damage, rebuild or add a database to its STATE_DIR without touching another file's).
 */
export function copyCorpusIndex(): string {
  const stateDir = tempDir();
  cpSync(inject('corpusIndexStateDir'), stateDir, { recursive: true });
  return stateDir;
}

export async function buildTestIndex(): Promise<TestIndex> {
  const stateDir = copyCorpusIndex();
  const config = testConfig(stateDir);
  const index = await loadPlanIndex(config.index, config.llm);
  return { config, index, stateDir, cleanup: () => rmSync(stateDir, { recursive: true, force: true }) };
}
