import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseFile, openDatabase } from '../../src/store/database.ts';
import { copyCorpusIndex } from '../helpers/test-index.ts';
import { REPO, start, UNPRIVILEGED } from './start.ts';

/**
 * `npm start` on damaged or unwritable state: exit 1 with one line naming the file and the
 * fix on stderr — no stack trace, no uncaught 'error' event — before any question is taken.
 * Run as an unprivileged user (as `nobody` when the tests run as root).
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = copyCorpusIndex();
  dirs.push(dir);
  chmodSync(dir, 0o755);
  return dir;
}

async function refused(env: Record<string, string>, line: string | RegExp, asUnprivileged = false): Promise<void> {
  const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], { CORPUS_DIR: path.join(REPO, 'data/corpus'), ...env }, asUnprivileged ? UNPRIVILEGED : {});
  expect(await app.exited).toBe(1);
  const err = app.stderr().trim();
  expect(err.split('\n')).toHaveLength(1);
  if (typeof line === 'string') expect(err).toBe(line);
  else expect(err).toMatch(line);
  expect(err).not.toMatch(/^\s+at /m);
}

describe('npm start with DATABASE_URL', () => {
  it('an unreachable PostgreSQL server: one line naming the database, never its password', async () => {
    await refused(
      { STATE_DIR: stateDir(), DATABASE_URL: 'postgres://bot:hunter2-secret@127.0.0.1:1/plans' },
      /^store: PostgreSQL postgres:\/\/bot@127\.0\.0\.1:1\/plans failed \(ECONNREFUSED: [^)]*\); check DATABASE_URL \(host and port\) and that the server is running$/,
    );
  }, 30_000);

  it('a DATABASE_URL that is not a PostgreSQL URL: one config line, the value not echoed', async () => {
    await refused({ STATE_DIR: stateDir(), DATABASE_URL: 'mysql://bot:hunter2-secret@db/plans' }, /^config: DATABASE_URL must be a PostgreSQL URL postgres:\/\/user:password@host:port\/database \(value hidden\)$/);
  }, 30_000);
});

describe('npm start on bad state', () => {
  it('a read-only database file is refused at start', async () => {
    const dir = stateDir();
    const file = databaseFile(dir);
    await (await openDatabase(file)).close();
    chmodSync(file, 0o444);
    // Telegram mode: nothing is contacted before the database is checked.
    await refused(
      { STATE_DIR: dir, TELEGRAM_BOT_TOKEN: '123456:unused-token', TELEGRAM_API_ROOT: 'http://127.0.0.1:9' },
      `store: cannot write ${file} (EACCES); give this user write access to it, or point STATE_DIR at a writable folder`,
      true,
    );
  }, 30_000);

  it('a read-only STATE_DIR in console mode', async () => {
    const dir = stateDir();
    chmodSync(dir, 0o555);
    await refused({ STATE_DIR: dir }, `console: cannot write its log ${path.join(dir, 'console.log')} (EACCES); give this user write access to STATE_DIR, or point STATE_DIR at a writable folder`, true);
  }, 30_000);

  it('a STATE_DIR that does not exist and cannot be created', async () => {
    const parent = stateDir();
    chmodSync(parent, 0o555);
    const missing = path.join(parent, 'state');
    await refused(
      { STATE_DIR: missing, TELEGRAM_BOT_TOKEN: '123456:unused-token', TELEGRAM_API_ROOT: 'http://127.0.0.1:9' },
      `store: cannot write ${missing} (EACCES); give this user write access to it, or point STATE_DIR at a writable folder`,
      true,
    );
  }, 30_000);

  it('a text file where the database belongs', async () => {
    const dir = stateDir();
    writeFileSync(databaseFile(dir), 'not a database\n'.repeat(100));
    await refused({ STATE_DIR: dir }, new RegExp(`^store: ${databaseFile(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be read as a SQLite database \\(SQLITE_NOTADB`));
  }, 30_000);
});
