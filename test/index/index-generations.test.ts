import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexCorruptError, IndexMissingError } from '../../src/errors.ts';
import { currentGeneration, GenerationWatcher, publishGeneration } from '../../src/index/index-generations.ts';
import { currentBuildDir } from '../../src/index/index-store.ts';
import { loadPlanIndexFrom, type PlanIndex } from '../../src/index/plan-index.ts';
import { createLogger } from '../../src/logger.ts';
import { copyCorpusIndex, tempDir, testConfig } from '../helpers/test-index.ts';

/**
 * Shared index generations on real folders: a publish is verified and whole before the
 * pointer names it; a watcher switches to a new generation, and keeps serving the old one
 * when the new one is damaged; old generations go after their grace period.
 */

let stateDir: string;
let shared: string;
let build: string;
const scratch: string[] = [];

/** A copy of the test build as another build (its manifest says when it was built). */
async function anotherBuild(builtAt: string): Promise<string> {
  const parent = tempDir('plan-qa-build-');
  scratch.push(parent);
  const dir = path.join(parent, 'build-x');
  await fs.cp(build, dir, { recursive: true });
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { builtAt: string };
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, builtAt }));
  return dir;
}

function recordingLogger(lines: string[]) {
  return createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream });
}

beforeAll(async () => {
  stateDir = copyCorpusIndex();
  shared = tempDir('plan-qa-shared-');
  build = await currentBuildDir(stateDir);
});
afterAll(async () => {
  await fs.rm(stateDir, { recursive: true, force: true });
  await fs.rm(shared, { recursive: true, force: true });
  for (const dir of scratch) await fs.rm(dir, { recursive: true, force: true });
});

describe('index generations', () => {
  it('says plainly when nothing was published', async () => {
    await expect(currentGeneration(path.join(shared, 'none'))).rejects.toThrow(IndexMissingError);
    await expect(currentGeneration(path.join(shared, 'none'))).rejects.toThrow(/run `npm run ingest` with the same INDEX_SHARED_DIR/);
  });

  it('publishes a verified copy, and refuses a damaged build without touching the pointer', async () => {
    const config = testConfig(stateDir);
    const first = await publishGeneration(build, shared);
    expect(await currentGeneration(shared)).toEqual({ name: first.name, dir: first.dir });
    const index = await loadPlanIndexFrom(first.dir, config.index, config.llm);
    expect(index.chunks.length).toBeGreaterThan(100);

    const damaged = await anotherBuild('2030-01-01T00:00:00.000Z');
    await fs.appendFile(path.join(damaged, 'chunks.json'), ' ');
    await expect(publishGeneration(damaged, shared)).rejects.toThrow(IndexCorruptError);
    expect((await currentGeneration(shared)).name).toBe(first.name);
    expect((await fs.readdir(shared)).filter((e) => e.endsWith('.tmp'))).toEqual([]);
  });

  it('a watcher switches to a new generation, keeps the old one serving when the new one is bad, and old ones go after the grace period', async () => {
    const config = testConfig(stateDir);
    const load = (dir: string) => loadPlanIndexFrom(dir, config.index, config.llm);
    const start = await currentGeneration(shared);
    let serving = await load(start.dir);
    const lines: string[] = [];
    const watcher = new GenerationWatcher<PlanIndex>({ sharedDir: shared, serving: start.name, load, onSwitch: (index) => (serving = index), log: recordingLogger(lines), pollMs: 50 });
    watcher.start();
    try {
      let t = Date.now() + 1000;
      const next = await publishGeneration(await anotherBuild('2031-01-01T00:00:00.000Z'), shared, { now: () => t });
      await expect.poll(() => serving.manifest.builtAt, { timeout: 5000 }).toBe('2031-01-01T00:00:00.000Z');
      expect(watcher.current).toBe(next.name);

      // A generation damaged after its publish (a disk fault, a hand edit): never served.
      t += 1000;
      const bad = await publishGeneration(await anotherBuild('2032-01-01T00:00:00.000Z'), shared, { now: () => t });
      await fs.appendFile(path.join(bad.dir, 'hnsw-0.bin'), 'x');
      await expect.poll(() => lines.some((l) => l.includes('new index generation unusable')), { timeout: 5000 }).toBe(true);
      expect(serving.manifest.builtAt).toBe('2031-01-01T00:00:00.000Z');
      expect(watcher.current).toBe(next.name);

      // The grace period: a generation goes once its successor is older than keepMs.
      t += 60_000;
      const last = await publishGeneration(await anotherBuild('2033-01-01T00:00:00.000Z'), shared, { now: () => t, keepMs: 30_000 });
      expect(last.removed).toEqual([start.name, next.name]);
      expect((await fs.readdir(shared)).filter((e) => e.startsWith('gen-')).sort()).toEqual([bad.name, last.name].sort());
      await expect.poll(() => serving.manifest.builtAt, { timeout: 5000 }).toBe('2033-01-01T00:00:00.000Z');
    } finally {
      await watcher.stop();
    }
  });
});
