/**
 * A fleet of the real product for tests and benchmarks: N `src/main.ts` processes in
 * webhook mode on one PostgreSQL database and one shared index folder, behind a
 * round-robin load balancer that the Bot API emulator delivers webhooks to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { start, type Started } from '../main/start.ts';
import { RoundRobinProxy } from './round-robin-proxy.ts';
import type { BotApiEmulator, RecordedCall } from './bot-api-emulator.ts';

export const WEBHOOK_SECRET = 'fleet_secret_1';

export interface FleetInstance {
  port: number;
  stateDir: string;
  process: Started;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Parsed JSON log lines of an instance (pino writes one object a line to stderr). */
export function logLines(instance: FleetInstance): Array<Record<string, unknown>> {
  return instance.process
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export class Fleet {
  readonly instances: FleetInstance[] = [];

  private constructor(
    readonly proxy: RoundRobinProxy,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts `n` instances (one after another, as a rolling deploy would) and waits until each listens. */
  static async start(n: number, options: { emulator: BotApiEmulator; databaseUrl: string; sharedIndexDir: string; corpusDir: string; env?: Record<string, string> }): Promise<Fleet> {
    const proxy = await RoundRobinProxy.start();
    const fleet = new Fleet(proxy, {
      TELEGRAM_BOT_TOKEN: options.emulator.token,
      TELEGRAM_API_ROOT: options.emulator.apiRoot,
      WEBHOOK_URL: `${proxy.url}/tg/hook`,
      WEBHOOK_SECRET,
      DATABASE_URL: options.databaseUrl,
      INDEX_SHARED_DIR: options.sharedIndexDir,
      CORPUS_DIR: options.corpusDir,
      ...options.env,
    });
    try {
      await Promise.all(Array.from({ length: n }, () => fleet.add()));
    } catch (err) {
      // One did not start: stop the others and the load balancer, so nothing outlives the failure.
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  /** Starts one more instance and puts it behind the load balancer once it listens. */
  async add(): Promise<FleetInstance> {
    const port = await freePort();
    // Not test-index's tempDir: that module needs vitest, and the fleet bench runs this outside it.
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-fleet-'));
    const instance = { port, stateDir, process: start(process.execPath, ['--import', 'tsx', 'src/main.ts'], { ...this.env, STATE_DIR: stateDir, PORT: String(port) }) };
    this.instances.push(instance);
    const t0 = Date.now();
    while (!instance.process.stderr().includes('"msg":"webhook listening"')) {
      if (Date.now() - t0 > 60_000 || instance.process.child.exitCode !== null) throw new Error(`fleet: instance on port ${port} did not start:\n${instance.process.stderr().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.proxy.backends = [...this.proxy.backends, port];
    return instance;
  }

  /** kill -9: the instance vanishes mid-work; the load balancer finds its port refusing. */
  kill(instance: FleetInstance): Promise<number | null> {
    instance.process.child.kill('SIGKILL');
    return instance.process.exited;
  }

  async stop(): Promise<void> {
    for (const i of this.instances) if (i.process.child.exitCode === null && i.process.child.signalCode === null) i.process.child.kill('SIGTERM');
    await Promise.all(this.instances.map((i) => i.process.exited));
    await this.proxy.close();
    for (const i of this.instances) rmSync(i.stateDir, { recursive: true, force: true });
  }
}

/** The most calls in any one-second window (calls in the order the emulator recorded them). */
export function peakPerSecond(calls: readonly RecordedCall[]): number {
  let peak = 0;
  for (let i = 0, j = 0; i < calls.length; i++) {
    while (calls[i]!.at - calls[j]!.at >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** Waits, polling every 0.1 s, until `check` holds; after `ms`, fails saying what did not happen. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`fleet: ${what()} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
