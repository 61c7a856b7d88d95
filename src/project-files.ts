import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the project's own files are, from whichever copy of this module runs: the
 * sources (src/, under tsx), the compiled modules (dist/src/) or a bundle (dist/bundle/).
 * Modules find prompts, worker modules and build outputs from here rather than from their
 * own location, which differs between those copies.
 */

function findProjectDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`project-files: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The folder holding package.json. */
export const PROJECT_DIR = findProjectDir();
/** The build's output (bin/run.mjs): compiled modules, bundles, and the compiled jieba dictionary. */
export const DIST_DIR = path.join(PROJECT_DIR, 'dist');
