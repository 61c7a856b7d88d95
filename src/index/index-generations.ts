import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IndexCorruptError, IndexMissingError, StateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readManifest, verifyBuildFiles } from './index-store.ts';

/**
 * Index generations shared by a fleet (INDEX_SHARED_DIR, a folder every instance and the
 * ingest job can reach). `npm run ingest` builds in its own STATE_DIR as always, then
 * publishes that build as a generation: copied into a temporary folder of the shared
 * one, verified against its manifest's checksums, renamed into place whole, and only
 * then named by the CURRENT pointer (replaced by rename). Running instances load the
 * current generation at start and look at the pointer every second (GenerationWatcher):
 * a new generation is loaded and verified beside the one serving, and swapped in only
 * once whole; a bad one is logged and the old one keeps serving. A generation no longer
 * current is removed a grace period after its successor was published (every instance
 * has switched long before; one still loading it has that long).
 *
 * This module knows build folders and the pointer only; what a build holds is
 * index-store.ts's and plan-index.ts's business.
 */

const POINTER = 'CURRENT';
const NAME = /^gen-(\d+)-\d+$/;
const DEFAULT_KEEP_MS = 10 * 60_000;

export interface PublishedGeneration {
  name: string;
  dir: string;
  /** Older generations removed by this publish (their grace period was over). */
  removed: string[];
}

function publishedAt(name: string): number {
  return Number(NAME.exec(name)?.[1] ?? 0);
}

function sharedDirError(dir: string, err: unknown): StateError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new StateError(`index: cannot write the shared index folder ${dir} (${code}); give this user write access to INDEX_SHARED_DIR or point it elsewhere`, { cause: err });
}

/**
 * Publishes the build in `buildDir` as the current generation of `sharedDir`, then
 * removes generations whose successor is older than `keepMs`.
 */
export async function publishGeneration(buildDir: string, sharedDir: string, options: { keepMs?: number; now?: () => number } = {}): Promise<PublishedGeneration> {
  const now = options.now ?? Date.now;
  const name = `gen-${now()}-${process.pid}`;
  const dir = path.join(sharedDir, name);
  const staging = path.join(sharedDir, `.${name}.tmp`);
  try {
    await fs.mkdir(sharedDir, { recursive: true });
    await fs.cp(buildDir, staging, { recursive: true });
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => {});
    throw sharedDirError(sharedDir, err);
  }
  try {
    // What landed in the shared folder is what the manifest says, or it is not published.
    await verifyBuildFiles(staging, await readManifest(staging));
    await fs.rename(staging, dir);
    const pointerTmp = path.join(sharedDir, `.${POINTER}.${process.pid}.tmp`);
    await fs.writeFile(pointerTmp, name);
    await fs.rename(pointerTmp, path.join(sharedDir, POINTER));
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => {});
    if (err instanceof IndexCorruptError) throw err;
    throw sharedDirError(sharedDir, err);
  }
  const removed = await removeOldGenerations(sharedDir, name, options.keepMs ?? DEFAULT_KEEP_MS, now());
  return { name, dir, removed };
}

/** Removes every generation but `current` whose successor was published more than `keepMs` ago, and stale staging folders. */
async function removeOldGenerations(sharedDir: string, current: string, keepMs: number, now: number): Promise<string[]> {
  const entries = await fs.readdir(sharedDir);
  const generations = entries.filter((e) => NAME.test(e)).sort((a, b) => publishedAt(a) - publishedAt(b));
  const removed: string[] = [];
  for (const [i, name] of generations.entries()) {
    const successor = generations[i + 1];
    if (name === current || successor === undefined || now - publishedAt(successor) < keepMs) continue;
    await fs.rm(path.join(sharedDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  for (const e of entries) {
    const staged = /^\.(gen-\d+-\d+)\.tmp$/.exec(e);
    if (staged && now - publishedAt(staged[1]!) > keepMs) await fs.rm(path.join(sharedDir, e), { recursive: true, force: true });
  }
  return removed;
}

/** The name of the current generation in `sharedDir`, or IndexMissingError when none was published. */
export async function currentGeneration(sharedDir: string): Promise<{ name: string; dir: string }> {
  let name: string;
  try {
    name = (await fs.readFile(path.join(sharedDir, POINTER), 'utf8')).trim();
  } catch {
    throw new IndexMissingError(`index: no index generation published in ${sharedDir} (INDEX_SHARED_DIR); run \`npm run ingest\` with the same INDEX_SHARED_DIR`);
  }
  if (!NAME.test(name)) throw new IndexCorruptError(`index: ${path.join(sharedDir, POINTER)} is damaged; run \`npm run ingest\` to publish a generation`);
  return { name, dir: path.join(sharedDir, name) };
}

export interface GenerationWatcherOptions<T> {
  sharedDir: string;
  /** The generation serving now. */
  serving: string;
  /** Loads (and verifies) a generation; throws when it is unusable. */
  load: (dir: string) => Promise<T>;
  /** Swaps the loaded generation in. */
  onSwitch: (loaded: T, name: string) => void;
  log: Logger;
  pollMs?: number;
}

/**
 * Looks at the pointer every `pollMs` and switches to a newly published generation. One
 * check at a time; a generation that failed to load is not tried again until the pointer
 * names another.
 */
export class GenerationWatcher<T> {
  private serving: string;
  private failed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: GenerationWatcherOptions<T>) {
    this.serving = options.serving;
  }

  get current(): string {
    return this.serving;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Stops looking; resolves once a check under way has settled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One look at the pointer (also what the timer does). */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const { log, sharedDir } = this.options;
    let next: { name: string; dir: string };
    try {
      next = await currentGeneration(sharedDir);
    } catch (err) {
      if (this.failed !== POINTER) log.error({ err: (err as Error).message }, 'index generation pointer unreadable; the current generation keeps serving');
      this.failed = POINTER;
      return;
    }
    if (next.name === this.serving || next.name === this.failed) return;
    const t0 = Date.now();
    try {
      const loaded = await this.options.load(next.dir);
      this.options.onSwitch(loaded, next.name);
      log.info({ from: this.serving, to: next.name, ms: Date.now() - t0 }, 'switched to a new index generation');
      this.serving = next.name;
      this.failed = undefined;
    } catch (err) {
      this.failed = next.name;
      log.error({ generation: next.name, err: (err as Error).message }, 'new index generation unusable; the current one keeps serving');
    }
  }
}
