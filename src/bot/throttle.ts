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

/** One limit: at most `max` sends in any `windowMs`, counted per `key` ("global", a group's id). */
export interface SendWindow {
  key: string;
  max: number;
  windowMs: number;
}

/** A send's place in its windows; `release` when its response is back (the window runs from then). */
export interface SendSlot {
  release(): void;
}

/**
 * Where the sends are counted: in this process (LocalSendBudget, the default), or for a
 * whole fleet in PostgreSQL (store/postgres-send-budget.ts). `tryTake` is atomic: a slot
 * in every window, or none and how long until the window that is full (`blockedBy`) may
 * have room.
 */
export interface SendBudget {
  tryTake(windows: readonly SendWindow[]): Promise<SendSlot | { waitMs: number; blockedBy: string }>;
  /** How long until one more send fits in every window of `windows` (0: now), taking nothing. */
  waitMs(windows: readonly SendWindow[]): Promise<number>;
}

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

/** The sends of this process only: right for one instance. */
export class LocalSendBudget implements SendBudget {
  private readonly windows = new Map<string, SlidingWindow>();
  private takes = 0;

  constructor(private readonly clock: Pick<Clock, 'now'> = realClock) {}

  private counted(windows: readonly SendWindow[]): Array<{ key: string; window: SlidingWindow }> {
    return windows.map((w) => {
      let window = this.windows.get(w.key);
      if (!window) this.windows.set(w.key, (window = new SlidingWindow(w.max, w.windowMs)));
      return { key: w.key, window };
    });
  }

  async waitMs(windows: readonly SendWindow[]): Promise<number> {
    const now = this.clock.now();
    return Math.max(0, ...this.counted(windows).map(({ window }) => window.waitMs(now)));
  }

  async tryTake(windows: readonly SendWindow[]): Promise<SendSlot | { waitMs: number; blockedBy: string }> {
    const now = this.clock.now();
    const counted = this.counted(windows);
    for (const { key, window } of counted) {
      const waitMs = window.waitMs(now);
      if (waitMs > 0) return { waitMs, blockedBy: key };
    }
    const slots = counted.map(({ window }) => window.take());
    if (++this.takes % 1000 === 0) for (const [key, window] of this.windows) if (key !== 'global' && window.idleAt(now)) this.windows.delete(key);
    return { release: () => slots.forEach((slot) => (slot.done = this.clock.now())) };
  }
}

/** Lets callers through one at a time, in call order. */
class Gate {
  private tail: Promise<void> = Promise.resolve();
  /** Callers waiting or passing. */
  pending = 0;

  pass<T>(enter: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.tail.then(enter).finally(() => this.pending--);
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

export function createThrottle(options: Partial<ThrottleOptions> = {}, clock: Clock = realClock, budget: SendBudget = new LocalSendBudget(clock)): Throttle {
  const o = { ...THROTTLE_DEFAULTS, ...options };
  const global: SendWindow = { key: 'global', max: o.globalPerSecond, windowMs: 1000 + o.marginMs };
  const globalGate = new Gate();
  const groupGates = new Map<number, Gate>();
  let waiting = 0;

  /** Takes a slot in every window, waiting for the full ones; `narrow` (a group's) first, without holding up other chats. */
  const acquire = async (windows: SendWindow[]): Promise<SendSlot> => {
    for (;;) {
      const narrow = windows.filter((w) => w !== global);
      for (let ms = await budget.waitMs(narrow); ms > 0; ms = await budget.waitMs(narrow)) await clock.sleep(ms);
      const taken = await globalGate.pass(async () => {
        for (;;) {
          const r = await budget.tryTake(windows);
          if ('release' in r || r.blockedBy !== 'global') return r;
          await clock.sleep(r.waitMs);
        }
      });
      if ('release' in taken) return taken;
    }
  };

  const transformer: Transformer = async (prev, method, payload, signal) => {
    const send = SENDS.test(method);
    if (!send && !EDITS.test(method)) return prev(method, payload, signal);
    const chatId = (payload as { chat_id?: unknown }).chat_id;
    let slot: SendSlot;
    waiting++;
    try {
      if (send && typeof chatId === 'number' && chatId < 0) {
        let gate = groupGates.get(chatId);
        if (!gate) groupGates.set(chatId, (gate = new Gate()));
        if (groupGates.size > 1000) for (const [id, g] of groupGates) if (g.pending === 0) groupGates.delete(id);
        const group: SendWindow = { key: `chat${chatId}`, max: o.groupPerMinute, windowMs: 60_000 + o.marginMs };
        slot = await gate.pass(() => acquire([group, global]));
      } else {
        slot = await acquire([global]);
      }
    } finally {
      waiting--;
    }
    try {
      return await prev(method, payload, signal);
    } finally {
      slot.release();
    }
  };
  return { transformer, waiting: () => waiting };
}
