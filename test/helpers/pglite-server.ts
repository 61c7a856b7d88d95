import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL with pgvector for tests, in process: PGlite (Postgres compiled to WASM) with
 * its pgvector extension, served on 127.0.0.1 over the wire protocol so the product's own
 * `pg` pool (src/postgres-client.ts) talks to it exactly as it talks to a real server.
 * PGlite is one backend: the socket server runs one statement at a time and keeps an open
 * transaction's connection to itself until it ends.
 */
export interface PgliteServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  db: PGlite;
  stop(): Promise<void>;
}

export async function startPgliteServer(): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    db,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
