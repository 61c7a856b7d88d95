import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { passageKey } from '../../src/digest/digest-items.ts';
import { latestSlotAtOrBefore } from '../../src/digest/schedule.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';
import { DigestService } from '../../src/digest/digest-service.ts';
import { DAY, HOUR, digestConfig, digestRig, passagesByDay, type DigestRig, type RigOptions } from './helpers.ts';

/**
 * The scheduler over a real SQLite file and the bot's real digest sender (recording API),
 * with a fake clock: weeks of schedules in milliseconds.
 */

let fixture: TestIndex;
let rig: DigestRig | undefined;

beforeAll(async () => {
  fixture = await buildTestIndex();
});
afterAll(() => fixture.cleanup());
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function setup(options: Partial<RigOptions> = {}): Promise<DigestRig> {
  rig = await digestRig({ index: () => fixture.index, ...options });
  return rig;
}

async function subscribe(r: DigestRig, chatId: number, topic: string, time?: string) {
  const result = await r.service.subscribe({ chatId, topic, ...(time ? { time } : {}) });
  if (!result.ok) throw new Error(`subscribe: ${result.reason}`);
  return result.subscription;
}

/** Ticks every `stepMs` until `untilMs` has passed. */
async function run(r: DigestRig, untilMs: number, stepMs = 15 * 60_000) {
  const end = r.clock.now() + untilMs;
  while (r.clock.now() < end) {
    r.clock.advance(stepMs);
    await r.scheduler.tick();
  }
}

describe('daily digests', () => {
  it('sends one digest a day at the local time, a week long, never the same passage twice', async () => {
    const r = await setup(); // 2026-01-05 12:00 in Shanghai
    const s = await subscribe(r, 1001, '生态环境', '07:30');
    await run(r, 7 * DAY);
    const days = passagesByDay(await r.store.deliveries(s.id));
    expect(days.map((d) => d.date)).toEqual(['2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-10', '2026-01-11', '2026-01-12']);
    const keys = days.flatMap((d) => d.keys);
    expect(keys).toHaveLength(21);
    expect(new Set(keys).size).toBe(21);
    expect(r.digests(1001)).toHaveLength(7);
    for (const d of await r.store.deliveries(s.id)) {
      const slot = latestSlotAtOrBefore(d.sentAt!, '07:30', 'Asia/Shanghai');
      expect(slot.date).toBe(d.localDate);
      expect(d.sentAt! - slot.at).toBeLessThan(15 * 60_000);
    }
    // What was sent is what the ledger holds: header, cited items, a button per item.
    const first = r.digests(1001)[0]!;
    expect(first.html).toMatch(/^<b>📰 每日摘要：生态环境<\/b>\n<i>1月6日 周二<\/i>/);
    expect(first.html).toMatch(/<b>1\.<\/b> .+ \[1\]\n<blockquote>.+<\/blockquote>\n<i>\[1\] 《.+》/);
    expect(first.deliveryId).toBe((await r.store.deliveries(s.id))[0]!.id);
    // Every cited span is verbatim passage text.
    for (const d of await r.store.deliveries(s.id)) for (const item of d.content.items) {
      const chunk = [...fixture.index.chunks].find((c) => c.id === item.chunkId)!;
      expect(passageKey(chunk)).toBe(item.passageKey);
      expect(chunk.text + chunk.quote).toContain(item.excerpt.slice(item.quote[0], item.quote[1]));
    }
  });

  it('keeps day boundaries in the subscription time zone, daylight saving included', async () => {
    const r = await setup({ config: { timeZone: 'Europe/Berlin' }, start: '2026-03-26T12:00:00Z' });
    const midnight = await subscribe(r, 1, '养老', '00:00');
    const late = await subscribe(r, 2, '养老', '23:59');
    const gap = await subscribe(r, 3, '养老', '02:30');
    await run(r, 5 * DAY, 10 * 60_000);
    const dates = async (id: number) => (await r.store.deliveries(id)).map((d) => d.localDate);
    expect(await dates(midnight.id)).toEqual(['2026-03-27', '2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31']);
    expect(await dates(late.id)).toEqual(['2026-03-26', '2026-03-27', '2026-03-28', '2026-03-29', '2026-03-30']);
    expect(await dates(gap.id)).toEqual(['2026-03-27', '2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31']);
    // 02:30 does not exist on 29 March in Berlin: sent at 03:30 CEST (01:30 UTC).
    const sunday = (await r.store.deliveries(gap.id)).find((d) => d.localDate === '2026-03-29')!;
    expect(sunday.sentAt! - Date.parse('2026-03-29T01:30:00Z')).toBeLessThan(10 * 60_000);
    expect(sunday.sentAt).toBeGreaterThanOrEqual(Date.parse('2026-03-29T01:30:00Z'));
  });

  it('after downtime sends one catch-up digest, not one per missed day', async () => {
    const r = await setup();
    const s = await subscribe(r, 1001, '养老', '08:00');
    r.clock.set('2026-01-06T00:00:00Z'); // 08:00 on the 6th
    await r.scheduler.tick();
    // Down from the 6th to the 9th, 10:00: one digest, for the 9th (late, same day).
    r.clock.set('2026-01-09T02:00:00Z');
    expect(await r.scheduler.tick()).toMatchObject({ chosen: 1, sent: 1 });
    // Down again until the 12th, 07:00: one catch-up for the 11th, then the 12th at 08:00.
    r.clock.set('2026-01-11T23:00:00Z');
    expect(await r.scheduler.tick()).toMatchObject({ chosen: 1, sent: 1 });
    expect(await r.scheduler.tick()).toMatchObject({ chosen: 0, sent: 0 });
    r.clock.set('2026-01-12T00:00:30Z');
    await r.scheduler.tick();
    const ledger = await r.store.deliveries(s.id);
    expect(ledger.map((d) => [d.localDate, d.content.catchUp])).toEqual([
      ['2026-01-06', false],
      ['2026-01-09', false],
      ['2026-01-11', true],
      ['2026-01-12', false],
    ]);
    expect(r.digests(1001)[2]!.html).toMatch(/1月11日 周日 · 补发/);
    expect(new Set(ledger.flatMap((d) => d.content.items.map((i) => i.passageKey))).size).toBe(12);
  });

  it('starts a new round when the topic is used up, and says so', async () => {
    const poolRig = await digestRig({ index: () => fixture.index });
    const pool = await poolRig.builder.topics().pool('养老');
    await poolRig.close();
    const per = Math.ceil(pool.length / 3);
    const r = await setup({ compose: { itemsPerDigest: per } });
    const s = await subscribe(r, 1001, '养老', '08:00');
    await run(r, 4 * DAY, HOUR);
    const ledger = await r.store.deliveries(s.id);
    expect(ledger).toHaveLength(4);
    const [d1, d2, d3, d4] = ledger.map((d) => d.content);
    const firstRound = [d1!, d2!, d3!].flatMap((c) => c.items.map((i) => i.passageKey));
    expect(new Set(firstRound)).toEqual(new Set(pool.map((p) => passageKey(p.chunk))));
    expect([d1!.roundEnded, d2!.roundEnded, d3!.roundEnded]).toEqual([false, false, true]);
    expect(r.digests(1001)[2]!.html).toMatch(/本轮已全部发完；明天起开始新一轮/);
    expect(d4).toMatchObject({ round: 2, roundStarted: true });
    expect(d4!.items.map((i) => i.passageKey)).toEqual(d1!.items.map((i) => i.passageKey));
    expect(r.digests(1001)[3]!.html).toMatch(/第 2 轮/);
    expect((await r.store.subscription(s.id))?.round).toBe(2);
  });

  it('stops a chat that blocked the bot (403) and keeps delivering to the others', async () => {
    const r = await setup({ scheduler: { concurrency: 1 } });
    const blocked = await subscribe(r, 1001, '养老', '08:00');
    const blocked2 = await subscribe(r, 1001, '教育', '09:00');
    const other = await subscribe(r, 1002, '养老', '08:00');
    r.clock.set('2026-01-06T00:00:00Z');
    r.api.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    expect(await r.scheduler.tick()).toMatchObject({ stoppedChats: 1, sent: 1 });
    expect(await r.store.subscription(blocked.id)).toMatchObject({ status: 'stopped' });
    expect(await r.store.subscription(blocked2.id)).toMatchObject({ status: 'stopped' });
    expect((await r.store.deliveries(blocked.id))[0]?.status).toBe('dropped');
    expect((await r.store.usedPassages(blocked.id, 1)).size).toBe(0);
    await run(r, 2 * DAY, HOUR);
    expect(r.digests(1001)).toHaveLength(0);
    expect(r.digests(1002)).toHaveLength(3);
    expect((await r.store.deliveries(other.id)).every((d) => d.status === 'sent')).toBe(true);
  });

  it('waits out a 429 (retry_after) and then delivers once', async () => {
    const r = await setup();
    const s = await subscribe(r, 1001, '养老', '08:00');
    r.clock.set('2026-01-06T00:00:00Z');
    r.api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
    expect(await r.scheduler.tick()).toMatchObject({ rateLimited: 1, sent: 1, retried: 0 });
    const d = (await r.store.deliveries(s.id))[0]!;
    expect(d.sentAt! - d.chosenAt).toBeGreaterThanOrEqual(7000);
    expect(d.attempts).toBe(1); // the 429 is not counted
    expect(r.api.calls.filter((c) => c.method === 'sendMessage').map((c) => c.error?.error_code ?? 'ok')).toEqual([429, 'ok']);
    expect(r.digests(1001)).toHaveLength(1);
  });

  it('retries other errors with back-off on later ticks; gives up after maxAttempts and releases the passages', async () => {
    const r = await setup({ scheduler: { maxAttempts: 3 } });
    const s = await subscribe(r, 1001, '养老', '08:00');
    r.clock.set('2026-01-06T00:00:00Z');
    r.api.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' }, 2);
    expect(await r.scheduler.tick()).toMatchObject({ retried: 1, sent: 0 });
    r.clock.advance(30_000);
    expect(await r.scheduler.tick()).toMatchObject({ retried: 0, sent: 0 }); // back-off: 60 s
    r.clock.advance(30_000);
    expect(await r.scheduler.tick()).toMatchObject({ retried: 1 }); // then 120 s
    r.clock.advance(120_000);
    expect(await r.scheduler.tick()).toMatchObject({ sent: 1 });
    expect(r.digests(1001)).toHaveLength(1);
    expect((await r.store.deliveries(s.id))[0]).toMatchObject({ status: 'sent', attempts: 3 });

    // The next day fails for good: dropped, and its passages come the day after.
    r.clock.set('2026-01-07T00:00:00Z');
    r.api.failNext('sendMessage', { error_code: 400, description: 'Bad Request: something odd' }, 3);
    for (let i = 0; i < 3; i++) {
      await r.scheduler.tick();
      r.clock.advance(10 * 60_000);
    }
    const day2 = (await r.store.deliveries(s.id))[1]!;
    expect(day2).toMatchObject({ status: 'dropped', localDate: '2026-01-07' });
    r.clock.set('2026-01-08T00:00:00Z');
    await r.scheduler.tick();
    const day3 = (await r.store.deliveries(s.id))[2]!;
    expect(day3.content.items.map((i) => i.passageKey)).toEqual(day2.content.items.map((i) => i.passageKey));
    expect(r.digests(1001)).toHaveLength(2);
  });

  it('previews without counting, and a paused subscription gets nothing', async () => {
    const r = await setup();
    const s = await subscribe(r, 1001, '养老', '08:00');
    const preview = await r.service.preview(1001, '养老');
    expect(preview).toMatchObject({ ok: true, content: { preview: true, items: [{ n: 1 }, { n: 2 }, { n: 3 }] } });
    await r.service.pause(1001, s.id);
    await run(r, 2 * DAY, HOUR);
    expect(r.digests(1001)).toHaveLength(0);
    await r.service.resume(1001, s.id);
    await run(r, DAY, HOUR);
    const ledger = await r.store.deliveries(s.id);
    expect(ledger).toHaveLength(1);
    // The preview did not use up the first passages.
    if (preview.ok) expect(ledger[0]!.content.items.map((i) => i.passageKey)).toEqual(preview.content.items.map((i) => i.passageKey));
  });

  it('changing the time on a day already served waits for the next day', async () => {
    const r = await setup();
    const s = await subscribe(r, 1001, '养老', '08:00');
    r.clock.set('2026-01-06T00:00:00Z');
    await r.scheduler.tick();
    r.clock.set('2026-01-06T04:00:00Z'); // 12:00
    const moved = (await r.service.setTime(1001, s.id, '20:00'))!;
    expect(new Date(moved.nextRunAt!).toISOString()).toBe('2026-01-07T12:00:00.000Z');
    await run(r, 2 * DAY, HOUR);
    expect((await r.store.deliveries(s.id)).map((d) => d.localDate)).toEqual(['2026-01-06', '2026-01-07']);
    expect(new Date((await r.store.deliveries(s.id))[1]!.sentAt!).toISOString()).toBe('2026-01-07T12:00:00.000Z');
  });

  it('moves subscriptions to a new DIGEST_TZ, keeping their local time', async () => {
    const r = await setup();
    const s = await subscribe(r, 1001, '养老', '08:00');
    const berlin = new DigestService({ store: r.store, builder: r.builder, config: digestConfig({ timeZone: 'Europe/Berlin' }), now: r.clock.now });
    expect(await berlin.adoptTimeZone()).toBe(1);
    expect(await r.store.subscription(s.id)).toMatchObject({ timeZone: 'Europe/Berlin', sendTime: '08:00', nextRunAt: Date.parse('2026-01-05T07:00:00Z') }); // 05:00 in Berlin now
    expect(await berlin.adoptTimeZone()).toBe(0);
  });
});
