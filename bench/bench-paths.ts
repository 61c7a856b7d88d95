import path from 'node:path';

/**
 * Where things are when the bench runs from bench/ (tsx) or compiled from dist/bench/
 * (`npm run bench`): the repository root, and the compiled product's entry points.
 */
export const REPO_ROOT = path.resolve(import.meta.dirname, import.meta.dirname.endsWith(path.join('dist', 'bench')) ? '../..' : '..');

/** A compiled entry point, e.g. compiledEntry('cli/ask') → <repo>/dist/src/cli/ask.js. */
export function compiledEntry(name: string): string {
  return path.join(REPO_ROOT, 'dist', 'src', `${name}.js`);
}
