import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createPostgres } from '../../src/postgres-client.ts';

/**
 * PostgreSQL for a test file: the run's server (test/postgres-global-setup.ts) and a
 * fresh database of its own per call, so files running in parallel never see each
 * other's rows. Use `describe.skipIf(!postgresAvailable)` (the run already said why once).
 */

export const postgresAdminUrl: string = inject('postgresAdminUrl');
export const postgresAvailable = postgresAdminUrl !== '';

export interface TestDatabase {
  /** postgres://…/plan_qa_test_xxxx: a database nobody else uses. */
  url: string;
  drop(): Promise<void>;
}

/** CREATE DATABASE with a random name on the run's server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!postgresAvailable) throw new Error('no PostgreSQL server for this run (see the line printed at its start)');
  const name = `plan_qa_test_${randomBytes(6).toString('hex')}`;
  const admin = createPostgres(postgresAdminUrl, { max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = createPostgres(postgresAdminUrl, { max: 1 });
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.close();
      }
    },
  };
}
