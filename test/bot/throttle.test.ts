import { describe, expect, it } from 'vitest';
import { LocalRateLimiter } from '../../src/bot/rate-limiter.ts';
import { createThrottle } from '../../src/bot/throttle.ts';

/** A clock that advances only when every caller is asleep. */
function fakeClock() {
  let now = 0;
  const sleepers: Array<{ at: number; wake: () => void }> = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: now + ms, wake })),
    async run(until: () => boolean) {
      for (let guard = 0; guard < 100_000 && !until(); guard++) {
        await new Promise((r) => setImmediate(r));
        if (until()) break;
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers.shift();
        if (!next) continue;
        now = Math.max(now, next.at);
        next.wake();
      }
    },
  };
}

describe('outgoing throttle', () => {
  it('keeps any 1-second window under 30 sends and any minute under 20 per group, in order', async () => {
    const clock = fakeClock();
    const { transformer } = createThrottle({}, clock);
    const sent: Array<{ chat: number; n: number; at: number }> = [];
    const actions: number[] = [];
    const prev = async (m: string, p: unknown) => {
      const { chat_id, text } = p as { chat_id: number; text: string };
      if (m === 'sendChatAction') actions.push(clock.now());
      else sent.push({ chat: chat_id, n: Number(text), at: clock.now() });
      return { ok: true as const, result: true };
    };
    const calls: Promise<unknown>[] = [];
    for (let n = 0; n < 120; n++) calls.push(transformer(prev as never, 'sendMessage', { chat_id: 100 + (n % 10), text: String(n) } as never));
    for (let n = 0; n < 30; n++) calls.push(transformer(prev as never, 'sendMessage', { chat_id: -1, text: String(n) } as never));
    for (let n = 0; n < 5; n++) calls.push(transformer(prev as never, 'sendChatAction', { chat_id: 100, action: 'typing' } as never));
    let done = 0;
    calls.forEach((c) => void c.then(() => done++));
    await clock.run(() => done === calls.length);

    expect(sent).toHaveLength(150);
    expect(actions).toEqual([0, 0, 0, 0, 0]); // chat actions never wait
    for (const s of sent) expect(sent.filter((x) => x.at > s.at - 1000 && x.at <= s.at).length).toBeLessThanOrEqual(30);
    const group = sent.filter((s) => s.chat === -1);
    for (const s of group) expect(group.filter((x) => x.at > s.at - 60_000 && x.at <= s.at).length).toBeLessThanOrEqual(20);
    expect(group.map((s) => s.n)).toEqual([...Array(30).keys()]);
    for (let chat = 100; chat < 110; chat++) {
      const ns = sent.filter((s) => s.chat === chat).map((s) => s.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    // 120 private sends at 30/s: about 4 s; the group's last 10 wait for the minute window.
    expect(sent.filter((s) => s.chat > 0).at(-1)!.at).toBeLessThan(5000);
    expect(group.at(-1)!.at).toBeGreaterThanOrEqual(60_000);
  });

  it('holds the limit at the server even when requests spend long, uneven times in flight', async () => {
    const clock = fakeClock();
    const { transformer } = createThrottle({}, clock);
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const arrivals: number[] = [];
    const prev = async () => {
      const flight = rnd() < 0.2 ? 600 * rnd() : 20 * rnd();
      const arrive = clock.now() + flight * rnd();
      await clock.sleep(flight);
      arrivals.push(arrive);
      return { ok: true as const, result: true };
    };
    const calls = Array.from({ length: 200 }, (_, n) => transformer(prev as never, 'sendMessage', { chat_id: 1 + (n % 7), text: 'x' } as never));
    let done = 0;
    calls.forEach((c) => void c.then(() => done++));
    await clock.run(() => done === calls.length);
    arrivals.sort((a, b) => a - b);
    for (const a of arrivals) expect(arrivals.filter((x) => x > a - 1000 && x <= a).length).toBeLessThanOrEqual(30);
    expect(arrivals.at(-1)!).toBeLessThan(10_000); // still close to 30 a second
  });
});

describe('rate limiter', () => {
  it('allows `limit` per window and reports the first refusal of an episode once', () => {
    let now = 0;
    const limiter = new LocalRateLimiter(3, 60_000, () => now);
    expect([1, 2, 3].map(() => limiter.takeNow('u').allowed)).toEqual([true, true, true]);
    expect(limiter.takeNow('u')).toEqual({ allowed: false, retryAfterMs: 60_000, firstRefusal: true });
    now = 10_000;
    expect(limiter.takeNow('u')).toEqual({ allowed: false, retryAfterMs: 50_000, firstRefusal: false });
    expect(limiter.takeNow('other').allowed).toBe(true);
    now = 60_001;
    expect(limiter.takeNow('u').allowed).toBe(true);
  });
});
