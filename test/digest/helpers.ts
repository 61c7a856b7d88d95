import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bot } from 'grammy';
import { createDigestSender } from '../../src/bot/digest-format.ts';
import type { DigestConfig } from '../../src/config.ts';
import { DigestBuilder, type ComposeOptions } from '../../src/digest/digest-builder.ts';
import { DigestService } from '../../src/digest/digest-service.ts';
import { DigestScheduler, type DigestClock, type DigestSend, type SchedulerDeps, type SchedulerOptions } from '../../src/digest/scheduler.ts';
import type { PlanIndex } from '../../src/index/plan-index.ts';
import { silentLogger } from '../../src/logger.ts';
import { databaseFile, openDatabase, type Database } from '../../src/store/database.ts';
import { DigestStore, type Delivery } from '../../src/store/digest-store.ts';
import { BOT_INFO, RecordingApi } from '../bot/fixtures.ts';

/** Shared by the digest tests: a fake clock, and the digest wired to a real SQLite file and a recording Bot API. */

/** Time that moves only when told; sleeping advances it at once (a week of schedules runs in milliseconds). */
export class FakeClock implements DigestClock {
  constructor(public t: number) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.t += Math.max(0, ms);
  };
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function digestConfig(overrides: Partial<DigestConfig> = {}): DigestConfig {
  return { timeZone: 'Asia/Shanghai', defaultTime: '08:00', maxSubscriptionsPerChat: 5, ...overrides };
}

export interface DigestRig {
  dir: string;
  file: string;
  db: Database;
  store: DigestStore;
  builder: DigestBuilder;
  service: DigestService;
  scheduler: DigestScheduler;
  api: RecordingApi;
  clock: FakeClock;
  send: DigestSend;
  /** The digests Telegram accepted, in order (one entry per message). */
  digests(chatId?: number): Array<{ chatId: number; html: string; deliveryId: number }>;
  /** A second scheduler (and connection) on the same database file: "after a restart". */
  restart(options?: { send?: DigestSend; afterChoose?: SchedulerDeps['afterChoose']; instance?: string }): Promise<{ db: Database; store: DigestStore; scheduler: DigestScheduler }>;
  close(): Promise<void>;
}

export interface RigOptions {
  index: () => PlanIndex;
  config?: Partial<DigestConfig>;
  compose?: Partial<ComposeOptions>;
  scheduler?: Partial<SchedulerOptions>;
  start?: string;
  /** Wraps the real sender (to inject crashes). */
  wrapSend?: (send: DigestSend) => DigestSend;
  afterChoose?: SchedulerDeps['afterChoose'];
  /** Opens the database (each call a new connection to the same one); default: a SQLite file in `dir`. */
  openDb?: () => Promise<Database>;
  /** The first scheduler's claim name (several schedulers on one database). */
  instance?: string;
}

export async function digestRig(options: RigOptions): Promise<DigestRig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-digest-'));
  const file = databaseFile(dir);
  const clock = new FakeClock(Date.parse(options.start ?? '2026-01-05T04:00:00Z'));
  const api = new RecordingApi();
  const bot = new Bot('424242:TEST', { botInfo: BOT_INFO });
  bot.api.config.use(api.transformer);
  const real = createDigestSender(bot.api);
  const send = options.wrapSend ? options.wrapSend(real) : real;
  const config = digestConfig(options.config);
  const open = (db: Database, over: { send?: DigestSend; afterChoose?: SchedulerDeps['afterChoose']; instance?: string } = {}) => {
    const store = new DigestStore(db, { now: clock.now });
    const builder = new DigestBuilder({ index: options.index, store, options: options.compose });
    const service = new DigestService({ store, builder, config, now: clock.now });
    const afterChoose = over.afterChoose ?? options.afterChoose;
    const instance = over.instance ?? options.instance;
    const scheduler = new DigestScheduler({
      store,
      builder,
      send: over.send ?? send,
      clock,
      log: silentLogger(),
      options: options.scheduler,
      ...(afterChoose ? { afterChoose } : {}),
      ...(instance ? { instance } : {}),
    });
    return { store, builder, service, scheduler };
  };
  const openDb = options.openDb ?? (() => openDatabase(file));
  const db = await openDb();
  const parts = open(db, options.instance ? { instance: options.instance } : {});
  const extra: Database[] = [];
  return {
    dir,
    file,
    db,
    ...parts,
    api,
    clock,
    send,
    digests: (chatId) =>
      api
        .ok('sendMessage')
        .filter((c) => String(c.payload.text).startsWith('<b>📰') && (chatId === undefined || c.payload.chat_id === chatId))
        .map((c) => ({
          chatId: Number(c.payload.chat_id),
          html: String(c.payload.text),
          deliveryId: Number(/"dg:d:(\d+):/.exec(JSON.stringify(c.payload.reply_markup ?? ''))?.[1] ?? NaN),
        })),
    restart: async (over) => {
      const db2 = await openDb();
      extra.push(db2);
      const p = open(db2, over);
      return { db: db2, store: p.store, scheduler: p.scheduler };
    },
    close: async () => {
      for (const d of [db, ...extra]) if (d.open) await d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every passage key a subscription received, day by day. */
export function passagesByDay(deliveries: readonly Delivery[]): Array<{ date: string; keys: string[] }> {
  return deliveries.filter((d) => d.status === 'sent').map((d) => ({ date: d.localDate, keys: d.content.items.map((i) => i.passageKey) }));
}
