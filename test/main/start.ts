import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

/** Spawning `npm start` (or main.ts directly) with a clean environment, for the process-level tests. */

// Also compiled into dist/test/main/ for the fleet bench: the repository is then one level further up.
export const REPO = path.resolve(import.meta.dirname, import.meta.dirname.endsWith(path.join('dist', 'test', 'main')) ? '../../..' : '../..');

export interface Started {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves once stdout contains `text` (rejects after `ms`). */
  waitForOutput(text: string | RegExp, ms?: number): Promise<void>;
}

/** Where the tests run as root: run the program as `nobody`, so that permissions apply to it. */
export const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

export function start(command: string, args: string[], env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Started {
  // Only what the program needs: nothing from the developer's shell or .env leaks in.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TELEGRAM_BOT_TOKEN: '', WEBHOOK_URL: '', CHAT_MODEL: '', LOG_LEVEL: 'info', NO_COLOR: '1' };
  const child = spawn(command, args, { cwd: REPO, env: { ...base, ...env }, stdio: 'pipe', ...options });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (text, ms = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (typeof text === 'string' ? out.includes(text) : text.test(out)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${String(text)}" in stdout after ${ms} ms:\n${out}\n--- stderr ---\n${err}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}
