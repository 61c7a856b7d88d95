import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError } from '../../src/errors.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import { databaseFile, openDatabase } from '../../src/store/database.ts';
import { tempDir } from '../helpers/test-index.ts';

/**
 * Damaged state is found when the database is opened, and reported as one line naming the
 * file and what to do (never a raw SqliteError), before any question could fail on it.
 */

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir('plan-qa-db-');
  file = databaseFile(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A real database with enough rows to span many pages, closed cleanly (WAL checkpointed). */
async function populated(): Promise<void> {
  const db = await openDatabase(file);
  const store = new BotStore(db);
  for (let i = 0; i < 400; i++) {
    await store.saveAnswer({ kind: 'answer', chatId: i, question: `问题${i}`, standalone: `问题${i}`, answerText: '回答'.repeat(100), found: true, mode: 'extractive', sources: [], shown: [] });
  }
  await db.close(); // the last connection closing checkpoints the WAL into the file
}

async function refusal(): Promise<StateError> {
  try {
    await (await openDatabase(file)).close();
  } catch (err) {
    expect(err).toBeInstanceOf(StateError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith(`store: ${file} `) || message.startsWith(`store: cannot write ${file} `)).toBe(true);
    return err as StateError;
  }
  throw new Error('the database was opened');
}

describe('openDatabase refuses damaged state with one clear line', () => {
  it('a half-truncated file', async () => {
    await populated();
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expect((await refusal()).message).toMatch(/move it away to start with an empty database .* or restore it from a backup$/);
  });

  it('a garbage header', async () => {
    await populated();
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(100), 0, 100, 0);
    closeSync(fd);
    expect((await refusal()).message).toMatch(/cannot be read as a SQLite database \(SQLITE_NOTADB/);
  });

  it('a garbage page in the middle', async () => {
    await populated();
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(4096), 0, 4096, 4096 * 20);
    closeSync(fd);
    expect((await refusal()).message).toMatch(/is damaged|cannot be read/);
  });

  it('a text file in its place', async () => {
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(50));
    await refusal();
    expect(readFileSync(file, 'utf8')).toMatch(/^these are my notes/);
  });

  it('a folder in its place', async () => {
    mkdirSync(file);
    expect((await refusal()).message).toBe(
      `store: ${file} is a folder, not a SQLite database; move it away to start with an empty database (the chats' history, feedback and subscriptions in it are lost), or restore it from a backup`,
    );
  });

  it('a table missing (found at start, not by every question failing)', async () => {
    await populated();
    const db = await openDatabase(file);
    await db.exec('DROP TABLE feedback');
    await db.close();
    expect((await refusal()).message).toMatch(/has lost tables its migrations created \(feedback\)/);
  });

  it('a zero-length file is used as a new database, with a warning', async () => {
    writeFileSync(file, '');
    const warnings: string[] = [];
    const db = await openDatabase(file, { warn: (m) => warnings.push(m) });
    await db.close();
    expect(warnings).toEqual([`store: ${file} was empty (0 bytes); starting a new database in it. If it held data, restore it from a backup.`]);
  });

  it('STATE_DIR being a file', async () => {
    const stateFile = path.join(dir, 'state');
    writeFileSync(stateFile, 'x');
    await expect(openDatabase(databaseFile(stateFile))).rejects.toThrow(`store: ${stateFile} is not a folder; move that file away, or point STATE_DIR elsewhere`);
  });
});
