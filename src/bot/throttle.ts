import type { Transformer } from 'grammy';

/**
 * Outgoing throttle as an API transformer, within Telegram's broadcast limits: about 30
 * messages a second overall and 20 a minute to one group.
 *
 * Telegram counts a message when it arrives, somewhere between our sending it and its
 * response coming back. So a send holds its slot from the moment it is sent until one
 * window after its response: then no window at the server can hold more than the limit,
 * however long requests spend in flight (a connection storm, a stalled event loop, a
 * slow network). Calls pass one at a time, in call order, so one chat's messages keep
 * their order; a message to a group first waits for room in its group's one-minute
 * window. Chat actions, callback and inline answers and reads are not throttled; edits
 * count against the global limit only. A 429 that still happens is left to auto-retry.
 */

export interface ThrottleOptions {
  globalPerSecond: number;
  groupPerMinute: number;
  /** Added to each window for clock granularity. */
  marginMs: number;
}

export const THROTTLE_DEFAULTS: ThrottleOptions = { globalPerSecond: 30, groupPerMinute: 20, marginMs: 50 };

const SENDS = /^(send(?!ChatAction)\w+|copyMessages?|forwardMessages?)$/;
const EDITS = /^(edit\w+|stopPoll)$/;
/** While a slot's request is in flight, check again this often. */
const IN_FLIGHT_POLL_MS = 25;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

interface Slot {
  /** When the response came back (Infinity while in flight). */
  done: number;
}

class SlidingWindow {
  private slots: Slot[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** How long from `now` until one more send fits (0: now). */
  waitMs(now: number): number {
    this.slots = this.slots.filter((s) => s.done + this.windowMs > now);
    if (this.slots.length < this.max) return 0;
    const frees = this.slots.map((s) => s.done + this.windowMs).sort((a, b) => a - b);
    const at = frees[this.slots.length - this.max]!;
    return Number.isFinite(at) ? at - now : IN_FLIGHT_POLL_MS;
  }

  take(): Slot {
    const slot = { done: Infinity };
    this.slots.push(slot);
    return slot;
  }

  idleAt(now: number): boolean {
    return this.slots.every((s) => s.done + this.windowMs <= now);
  }
}

/** Lets callers through one at a time, in call order. */
class Gate {
  private tail: Promise<void> = Promise.resolve();

  pass<T>(enter: () => Promise<T>): Promise<T> {
    const run = this.tail.then(enter);
    this.tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }
}

export interface Throttle {
  transformer: Transformer;
  /** Calls currently waiting to be sent. */
  waiting(): number;
}

export function createThrottle(options: Partial<ThrottleOptions> = {}, clock: Clock = realClock): Throttle {
  const o = { ...THROTTLE_DEFAULTS, ...options };
  const global = new SlidingWindow(o.globalPerSecond, 1000 + o.marginMs);
  const globalGate = new Gate();
  const groups = new Map<number, { window: SlidingWindow; gate: Gate }>();
  let waiting = 0;

  const untilRoom = async (window: SlidingWindow) => {
    for (let ms = window.waitMs(clock.now()); ms > 0; ms = window.waitMs(clock.now())) await clock.sleep(ms);
  };
  const takeGlobal = () =>
    globalGate.pass(async () => {
      await untilRoom(global);
      return global.take();
    });

  const transformer: Transformer = async (prev, method, payload, signal) => {
    const send = SENDS.test(method);
    if (!send && !EDITS.test(method)) return prev(method, payload, signal);
    const chatId = (payload as { chat_id?: unknown }).chat_id;
    const slots: Slot[] = [];
    waiting++;
    try {
      if (send && typeof chatId === 'number' && chatId < 0) {
        let group = groups.get(chatId);
        if (!group) groups.set(chatId, (group = { window: new SlidingWindow(o.groupPerMinute, 60_000 + o.marginMs), gate: new Gate() }));
        const g = group;
        await g.gate.pass(async () => {
          await untilRoom(g.window);
          slots.push(await takeGlobal(), g.window.take());
        });
        if (groups.size > 1000) for (const [id, other] of groups) if (other.window.idleAt(clock.now())) groups.delete(id);
      } else {
        slots.push(await takeGlobal());
      }
    } finally {
      waiting--;
    }
    try {
      return await prev(method, payload, signal);
    } finally {
      const t = clock.now();
      for (const s of slots) s.done = t;
    }
  };
  return { transformer, waiting: () => waiting };
}
