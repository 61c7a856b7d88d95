import { Bot } from 'grammy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDigestSender } from '../../src/bot/digest-format.ts';
import type { DigestSend } from '../../src/digest/scheduler.ts';
import { DeliveryError } from '../../src/errors.ts';
import { openPostgresDatabase } from '../../src/store/postgres-database.ts';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';
import { digestRig, type DigestRig } from './helpers.ts';

/**
 * Several instances on one PostgreSQL database, each with its own scheduler, sending to
 * the Bot API emulator on 127.0.0.1: each subscription gets exactly one digest for the
 * day, whichever instance claims it, and when an instance dies mid-fan-out (its promises
 * never settle, as if the process stopped) another sends what it held once its claims
 * run out. The one duplicate left possible is shown: a message Telegram accepted just
 * before the death, whose acceptance was not yet recorded.
 */

const LEASE_MS = 60_000;
let fixture: TestIndex;
let emulator: BotApiEmulator;
let pg: TestDatabase | undefined;
let rig: DigestRig | undefined;
const forever = () => new Promise<never>(() => {});

beforeAll(async () => {
  fixture = await buildTestIndex();
  emulator = await BotApiEmulator.start({ globalRatePerSecond: 1000 });
});
afterAll(async () => {
  await emulator?.close();
  await fixture?.cleanup();
});
afterEach(async () => {
  await rig?.close();
  await pg?.drop();
  rig = undefined;
  pg = undefined;
});

/** A digest sender through the emulator, as each instance's bot would have. */
function emulatorSend(): DigestSend {
  return createDigestSender(new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } }).api);
}

/** Two schedulers ("instances" A and B) on one new PostgreSQL database, `chats` subscribed. */
async function twoInstances(chats: number[], sendA: DigestSend, options: { concurrencyA?: number; sendB?: DigestSend } = {}) {
  pg = await createTestDatabase();
  const url = pg.url;
  rig = await digestRig({
    index: () => fixture.index,
    openDb: () => openPostgresDatabase(url, { maxConnections: 4 }),
    instance: 'A',
    wrapSend: () => sendA,
    scheduler: { claimLeaseMs: LEASE_MS, concurrency: options.concurrencyA ?? 8 },
    start: '2026-01-05T04:00:00Z',
  });
  const b = await rig.restart({ instance: 'B', send: options.sendB ?? emulatorSend() });
  for (const id of chats) {
    emulator.registerChat(id);
    const r = await rig.service.subscribe({ chatId: id, topic: ['养老', '生态环境', '营商环境', '乡村振兴', '教育'][id % 5]!, time: '08:00' });
    if (!r.ok) throw new Error(r.reason);
  }
  return { a: rig.scheduler, b: b.scheduler, store: rig.store };
}

const digestsIn = (chatId: number) => emulator.messagesIn(chatId).filter((m) => m.text.startsWith('📰'));

describe.skipIf(!postgresAvailable)('several instances on one PostgreSQL database', () => {
  it('two schedulers at once: every subscription gets exactly one digest, each slot and each send claimed by one of them', async () => {
    const chats = Array.from({ length: 40 }, (_, i) => 7000 + i);
    // First Telegram fails (every digest is chosen and left pending for a retry), then works:
    // both passes then see the same pending digests and race for each.
    let telegramDown = true;
    const gated = (send: DigestSend): DigestSend => async (digest, onPart) => {
      if (telegramDown) throw new DeliveryError('failed', 'telegram: 502 Bad Gateway');
      return send(digest, onPart);
    };
    const { a, b, store } = await twoInstances(chats, gated(emulatorSend()), { sendB: gated(emulatorSend()) });
    rig!.clock.set('2026-01-06T00:00:10Z'); // 08:00:10 in Shanghai
    const [ca, cb] = await Promise.all([a.tick(), b.tick()]);
    expect(ca.chosen + cb.chosen).toBe(chats.length);
    expect(ca.retried + cb.retried).toBe(chats.length);
    expect(await store.deliveryCounts()).toMatchObject({ pending: chats.length });

    telegramDown = false;
    rig!.clock.advance(60_000);
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(ra.chosen + rb.chosen).toBe(0);
    expect(ra.sent + rb.sent).toBe(chats.length);
    expect(chats.map((id) => digestsIn(id).length)).toEqual(chats.map(() => 1));
    expect(await store.deliveryCounts()).toEqual({ pending: 0, sending: 0, sent: chats.length, dropped: 0 });
    // Again, both: nothing more today.
    const [again1, again2] = await Promise.all([a.tick(), b.tick()]);
    expect(again1.chosen + again2.chosen + again1.sent + again2.sent).toBe(0);
    expect(chats.map((id) => digestsIn(id).length)).toEqual(chats.map(() => 1));
  }, 30_000);

  it('an instance dies mid-fan-out: the other sends what it held once its claims run out; only a message accepted but not recorded repeats', async () => {
    const chats = Array.from({ length: 24 }, (_, i) => 7100 + i);
    const real = emulatorSend();
    let calls = 0;
    const dying: DigestSend = async (digest, onPart) => {
      const n = ++calls;
      if (n <= 5) return real(digest, onPart);
      // Telegram accepts this one, then the instance dies before recording it.
      if (n === 6) return real(digest, async () => forever());
      return forever(); // dies before calling Telegram
    };
    const { a, b, store } = await twoInstances(chats, dying, { concurrencyA: 3 });
    rig!.clock.set('2026-01-06T00:00:10Z');
    void a.tick(); // A: 5 digests out, then its 3 workers stop dead holding claims
    await until(() => calls >= 8);
    const rb = await b.tick();
    expect(rb.sent).toBe(chats.length - 8);
    const held = chats.filter((id) => digestsIn(id).length === 0);
    expect(held).toHaveLength(2); // claimed by A, not yet sent by anyone
    expect(await store.deliveryCounts()).toMatchObject({ sending: 3, sent: chats.length - 3 });

    // Within A's claim B leaves them alone; after it, B sends them from the first part not recorded.
    rig!.clock.advance(LEASE_MS - 20_000);
    expect((await b.tick()).sent).toBe(0);
    rig!.clock.advance(30_000);
    expect((await b.tick()).sent).toBe(3);
    const counts = chats.map((id) => digestsIn(id).length);
    expect(counts.every((n) => n >= 1)).toBe(true); // none lost
    expect(counts.filter((n) => n === 2)).toHaveLength(1); // the one accepted as A died
    expect(counts.filter((n) => n > 2)).toHaveLength(0);
    const twice = chats.find((id) => digestsIn(id).length === 2)!;
    const [first, second] = digestsIn(twice);
    expect(second!.text).toBe(first!.text); // the same digest, never a second different one
    expect(await store.deliveryCounts()).toEqual({ pending: 0, sending: 0, sent: chats.length, dropped: 0 });
  }, 30_000);
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('until: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

