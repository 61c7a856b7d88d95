import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Temporary folders of a bench run. Each is removed when its section calls `remove`,
 * and every one still left is removed when the run ends — normally, by an uncaught
 * error, or by SIGINT/SIGTERM (a million-chunk run holds gigabytes in them).
 */

const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}; removing ${live.size} temporary folder(s)\n`);
      removeAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface BenchTempDir {
  path: string;
  remove(): void;
}

export function benchTempDir(prefix: string): BenchTempDir {
  hook();
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  live.add(dir);
  return {
    path: dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
  };
}
