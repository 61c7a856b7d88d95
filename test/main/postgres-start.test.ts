import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile } from '../../src/store/database.ts';
import { openPostgresDatabase } from '../../src/store/postgres-database.ts';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';
import { copyCorpusIndex } from '../helpers/test-index.ts';
import { REPO, start } from './start.ts';

/**
 * `npm start` with DATABASE_URL: the product's state lives in PostgreSQL (nothing in
 * STATE_DIR but the index), the bot answers and subscribes through it, and stops cleanly.
 */

const ALICE = { id: 8001, first_name: 'Alice' };
let stateDir: string;
let pg: TestDatabase | undefined;

beforeAll(async () => {
  stateDir = copyCorpusIndex();
  if (postgresAvailable) pg = await createTestDatabase();
});
afterAll(async () => {
  rmSync(stateDir, { recursive: true, force: true });
  await pg?.drop();
});

describe.skipIf(!postgresAvailable)('npm start on PostgreSQL', () => {
  it('answers and subscribes with its state in the database (no SQLite file), then stops with exit 0', async () => {
    const emulator = await BotApiEmulator.start();
    try {
      const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        STATE_DIR: stateDir,
        CORPUS_DIR: path.join(REPO, 'data/corpus'),
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        DATABASE_URL: pg!.url,
      });
      await emulator.waitFor((c) => c.method === 'getUpdates', 45_000, 0);
      emulator.sendMessage(ALICE.id, ALICE, '武清区2025年森林覆盖率目标是多少？');
      const [answer] = await emulator.waitForMessages(ALICE.id, 1, 20_000);
      expect(answer?.text).toMatch(/森林覆盖率/);
      emulator.sendMessage(ALICE.id, ALICE, '/subscribe 养老 07:30');
      const [, confirmation] = await emulator.waitForMessages(ALICE.id, 2, 20_000);
      expect(confirmation?.text).toMatch(/^✅ 已订阅 养老/);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(app.stderr()).not.toMatch(/"level":50/);
      expect(existsSync(databaseFile(stateDir))).toBe(false);
    } finally {
      await emulator.close();
    }
    const db = await openPostgresDatabase(pg!.url);
    try {
      expect(await db.all('SELECT chat_id, kind FROM answers')).toEqual([{ chat_id: ALICE.id, kind: 'answer' }]);
      expect(await db.all('SELECT chat_id, topic, send_time FROM digest_subscriptions')).toEqual([{ chat_id: ALICE.id, topic: '养老', send_time: '07:30' }]);
      expect(await db.all('SELECT id, type FROM chats')).toEqual([{ id: ALICE.id, type: 'private' }]);
      // Handled updates are remembered (a redelivery is recognised); none is left unhandled.
      expect(await db.get('SELECT COUNT(*) AS n FROM pending_updates WHERE handled_at IS NULL')).toEqual({ n: 0 });
    } finally {
      await db.close();
    }
  }, 90_000);
});
