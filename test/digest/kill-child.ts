import { Bot } from 'grammy';
import { createDigestSender } from '../../src/bot/digest-format.ts';
import { DigestBuilder } from '../../src/digest/digest-builder.ts';
import { DigestScheduler } from '../../src/digest/scheduler.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { silentLogger } from '../../src/logger.ts';
import { openDatabase } from '../../src/store/database.ts';
import { DigestStore } from '../../src/store/digest-store.ts';
import { testConfig } from '../helpers/test-index.ts';

/**
 * A digest process for crash.test.ts to kill -9: one scheduler pass over DB_FILE at the
 * fixed time NOW, sending to the Bot API emulator at API_ROOT one digest at a time, each
 * after SEND_DELAY_MS (network latency). Prints "done" when the pass ends.
 */
const env = process.env;
const config = testConfig(env.STATE_DIR!);
const index = await loadPlanIndex(config.index, config.llm);
const db = await openDatabase(env.DB_FILE!);
const store = new DigestStore(db);
const bot = new Bot(env.TOKEN!, { client: { apiRoot: env.API_ROOT! } });
const send = createDigestSender(bot.api);
const delay = Number(env.SEND_DELAY_MS ?? 0);
const now = Number(env.NOW);
const scheduler = new DigestScheduler({
  store,
  builder: new DigestBuilder({ index: () => index, store }),
  send: async (digest, onPartSent) => {
    await new Promise((r) => setTimeout(r, delay));
    await send(digest, onPartSent);
  },
  clock: { now: () => now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  log: silentLogger(),
  options: { concurrency: 1 },
});
process.stdout.write('ready\n');
const report = await scheduler.tick();
await db.close();
process.stdout.write(`done ${JSON.stringify(report)}\n`);
