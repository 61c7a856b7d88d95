import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL cluster from Debian's binaries (/usr/lib/postgresql/N/bin):
 * initdb in a temporary folder, trust auth on 127.0.0.1 only, a free port, no fsync.
 * initdb refuses to run as root, so when we are root the binaries run as the `postgres`
 * user (runuser). Used by test/postgres-global-setup.ts once per `vitest run`.
 */

const run = promisify(execFile);

export interface Cluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres: the maintenance database, for CREATE DATABASE. */
  url: string;
  stop(): Promise<void>;
}

/** The newest installed server's bin folder, or undefined. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster, or throws an Error whose message says in one line why it could not
 * (no binaries, no `postgres` user, initdb or pg_ctl failing).
 */
export async function startCluster(): Promise<Cluster> {
  const bin = binDir();
  if (!bin) throw new Error('no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb); apt-get install postgresql, or set PG_TEST_URL');
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root and there is no `postgres` user to run initdb as; set PG_TEST_URL');
    owner = { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plan-qa-pg-'));
  const data = path.join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const command = (cmd: string, args: string[]): [string, string[]] => (owner ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args]);
  const exec = (cmd: string, args: string[]) => run(...command(cmd, args));
  const port = await freePort();
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const settings = [`-p ${port}`, "-c listen_addresses=127.0.0.1", `-c unix_socket_directories=${dir}`, '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200', '-c shared_buffers=32MB'];
    await exec('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o', settings.join(' '), 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not start a PostgreSQL cluster with ${bin}: ${(e.stderr || e.message).trim().split('\n').at(-1)}`);
  }
  // Should vitest exit without its teardown (an error, process.exit), the server still stops.
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(...command('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopNow);
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
