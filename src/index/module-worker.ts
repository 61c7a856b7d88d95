import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { DIST_DIR } from '../project-files.ts';

/**
 * A worker thread running one of this folder's modules (`name`, without extension): the
 * compiled .js in dist/src/index/ (also from a bundle, which is elsewhere), or under tsx (development, tests) the .ts source, after the
 * worker registers tsx's loader (a development dependency, resolved from the project).
 */
export function startModuleWorker(name: string, options: WorkerOptions): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const source = new URL(`./${name}.ts`, import.meta.url).href;
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
    return new Worker(boot, { ...options, eval: true });
  }
  return new Worker(path.join(DIST_DIR, 'src', 'index', `${name}.js`), options);
}
