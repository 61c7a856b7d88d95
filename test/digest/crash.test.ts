import { spawn } from 'node:child_process';
import path from 'node:path';
import { Bot, type Transformer } from 'grammy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDigestSender } from '../../src/bot/digest-format.ts';
import type { DigestSend } from '../../src/digest/scheduler.ts';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';
import { BOT_INFO } from '../bot/fixtures.ts';
import { digestRig, type DigestRig } from './helpers.ts';

/**
 * Killing the digest between its steps. In process: a scheduler stops dead at a chosen
 * point (its promise never settles, as if the process died) and a fresh scheduler on the
 * same database file takes over. Then for real: a child process is killed with SIGKILL
 * in the middle of a fan-out and a second one finishes the day.
 */

let fixture: TestIndex;
let rig: DigestRig | undefined;
const forever = () => new Promise<never>(() => {});

beforeAll(async () => {
  fixture = await buildTestIndex();
});
afterAll(() => fixture.cleanup());
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function subscribed(r: DigestRig, chatId: number, topic = '养老') {
  const result = await r.service.subscribe({ chatId, topic, time: '08:00' });
  if (!result.ok) throw new Error(result.reason);
  return result.subscription;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('until: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a crash between "chosen" and "sent"', () => {
  it('killed after the choice is recorded: the next process sends that digest, once', async () => {
    let chosen: number | undefined;
    rig = await digestRig({ index: () => fixture.index, afterChoose: (id) => ((chosen = id), forever()) });
    const sub = await subscribed(rig, 1001);
    rig.clock.set('2026-01-06T00:00:00Z');
    void rig.scheduler.tick(); // dies after the choice
    await until(() => chosen !== undefined);
    expect((await rig.store.delivery(chosen!))?.status).toBe('pending');
    expect(rig.digests()).toHaveLength(0);

    const next = await rig.restart({ afterChoose: () => {} });
    expect(await next.scheduler.tick()).toMatchObject({ chosen: 0, sent: 1 });
    expect(rig.digests(1001)).toHaveLength(1);
    expect(rig.digests(1001)[0]!.deliveryId).toBe(chosen);
    const ledger = await next.store.deliveries(sub.id);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ status: 'sent', localDate: '2026-01-06' });
    // The day is not chosen again, and the next day brings new passages.
    rig.clock.set('2026-01-07T00:00:00Z');
    await next.scheduler.tick();
    const keys = (await next.store.deliveries(sub.id)).flatMap((d) => d.content.items.map((i) => i.passageKey));
    expect(new Set(keys).size).toBe(6);
  });

  it('killed after Telegram accepted and the part was recorded: nothing is sent again', async () => {
    let crashed = false;
    const wrapSend = (real: DigestSend): DigestSend => async (digest, onPart) => {
      await real(digest, onPart);
      if (!crashed) {
        crashed = true;
        await forever(); // dies before "sent" is committed
      }
    };
    rig = await digestRig({ index: () => fixture.index, wrapSend });
    const sub = await subscribed(rig, 1001);
    rig.clock.set('2026-01-06T00:00:00Z');
    void rig.scheduler.tick();
    await until(() => rig!.digests().length === 1);
    expect((await rig.store.deliveries(sub.id))[0]).toMatchObject({ status: 'sending', partsSent: 1 });

    const next = await rig.restart();
    expect(await next.scheduler.tick()).toMatchObject({ sent: 1 });
    expect(rig.digests(1001)).toHaveLength(1);
    expect((await next.store.deliveries(sub.id))[0]).toMatchObject({ status: 'sent' });
  });

  it('killed after Telegram accepted but before that was recorded: at most that one message again, identical', async () => {
    let sends = 0;
    const dieAfterAccepted: Transformer = async (prev, method, payload, signal) => {
      const result = await prev(method, payload, signal);
      if (method === 'sendMessage' && ++sends === 1) return forever(); // Telegram has it; we never hear back
      return result;
    };
    rig = await digestRig({ index: () => fixture.index });
    const bot = new Bot('424242:TEST', { botInfo: BOT_INFO });
    bot.api.config.use(rig.api.transformer);
    bot.api.config.use(dieAfterAccepted);
    const first = await rig.restart({ send: createDigestSender(bot.api) });
    const sub = await subscribed(rig, 1001);
    rig.clock.set('2026-01-06T00:00:00Z');
    void first.scheduler.tick();
    await until(() => sends === 1);
    expect((await rig.store.deliveries(sub.id))[0]).toMatchObject({ status: 'sending', partsSent: 0 });

    const next = await rig.restart();
    expect(await next.scheduler.tick()).toMatchObject({ sent: 1 });
    const [a, b, c] = rig.digests(1001);
    expect(b?.html).toBe(a?.html);
    expect(c).toBeUndefined();
    expect(await next.store.deliveries(sub.id)).toHaveLength(1);
    expect((await next.store.usedPassages(sub.id, 1)).size).toBe(3);
  });

  it('resumes a split digest from the first part Telegram did not accept', async () => {
    let sends = 0;
    const hangSecond: Transformer = async (prev, method, payload, signal) => {
      if (method === 'sendMessage' && ++sends === 2) return forever();
      return prev(method, payload, signal);
    };
    rig = await digestRig({ index: () => fixture.index, compose: { itemsPerDigest: 25, quoteChars: 400 } });
    const bot = new Bot('424242:TEST', { botInfo: BOT_INFO });
    bot.api.config.use(rig.api.transformer);
    bot.api.config.use(hangSecond);
    const dying = createDigestSender(bot.api);
    const first = await rig.restart({ send: dying });
    const sub = await subscribed(rig, 1001, '京津冀协同');
    rig.clock.set('2026-01-06T00:00:00Z');
    void first.scheduler.tick();
    await until(() => sends === 2);
    expect((await rig.store.deliveries(sub.id))[0]).toMatchObject({ status: 'sending', partsSent: 1 });

    const next = await rig.restart();
    await next.scheduler.tick();
    const texts = rig.api.ok('sendMessage').map((c) => String(c.payload.text));
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(texts).size).toBe(texts.length); // no part twice
    const d = (await next.store.deliveries(sub.id))[0]!;
    expect(d).toMatchObject({ status: 'sent', partsSent: texts.length });
    expect(d.messageIds).toHaveLength(texts.length);
  });
});

describe('kill -9 in the middle of a fan-out', () => {
  it('a second process completes the day: every chat gets its digest, at most the one in flight twice', async () => {
    const emulator = await BotApiEmulator.start();
    rig = await digestRig({ index: () => fixture.index, start: '2026-01-05T04:00:00Z' });
    const chats = Array.from({ length: 30 }, (_, i) => 5000 + i);
    for (const id of chats) {
      emulator.registerChat(id);
      await subscribed(rig, id, i2topic(id));
    }
    const now = Date.parse('2026-01-06T00:00:10Z');
    const env = { ...process.env, STATE_DIR: fixture.stateDir, DB_FILE: rig.file, API_ROOT: emulator.apiRoot, TOKEN: emulator.token, NOW: String(now), SEND_DELAY_MS: '30', LOG_LEVEL: 'silent' };
    const child = (): { done: Promise<string>; kill: () => void } => {
      const p = spawn(path.resolve('node_modules/.bin/tsx'), ['test/digest/kill-child.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      let err = '';
      p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const done = new Promise<string>((resolve, reject) => p.on('exit', (code, signal) => (code === 0 || signal === 'SIGKILL' ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)))));
      return { done, kill: () => p.kill('SIGKILL') };
    };
    try {
      const digestsSent = () => emulator.calls('sendMessage').filter((c) => !c.error).length;
      const first = child();
      await emulator.waitFor(() => digestsSent() >= 10, 20_000, 0);
      first.kill();
      const killedOut = await first.done;
      expect(killedOut).not.toMatch(/done/);
      const afterKill = digestsSent();
      expect(afterKill).toBeLessThan(chats.length);

      const out = await child().done;
      expect(out).toMatch(/done/);
      const counts = chats.map((id) => emulator.messagesIn(id).length);
      expect(counts.every((n) => n >= 1)).toBe(true); // nothing lost
      const extra = counts.reduce((a, n) => a + n - 1, 0);
      expect(extra).toBeLessThanOrEqual(1); // one digest in flight at the kill
      const ledger = await rig.store.deliveryCounts();
      expect(ledger).toEqual({ pending: 0, sending: 0, sent: chats.length, dropped: 0 });
      // A third run finds nothing to do.
      const third = await child().done;
      expect(third).toMatch(/"chosen":0,"skipped":0,"sent":0/);
      expect(emulator.calls('sendMessage').filter((c) => !c.error).length).toBe(digestsSent());
    } finally {
      await emulator.close();
    }
  }, 40_000);
});

function i2topic(id: number): string {
  return ['养老', '生态环境', '营商环境', '乡村振兴', '教育'][id % 5]!;
}
