import type { TestProject } from 'vitest/node';
import { startCluster } from './helpers/postgres-cluster.ts';

/**
 * Gives the run one PostgreSQL server: PG_TEST_URL when set (.ci/run sets it), otherwise a
 * throwaway cluster started here and stopped at the end. When none can be had, the
 * Postgres tests skip with one line, or, with CI set, the run fails.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test server's maintenance database; '' when there is none. */
    postgresAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.PG_TEST_URL?.trim();
  if (given) {
    project.provide('postgresAdminUrl', given);
    return undefined;
  }
  try {
    const cluster = await startCluster();
    project.provide('postgresAdminUrl', cluster.url);
    return () => cluster.stop();
  } catch (err) {
    const why = (err as Error).message;
    if (process.env.CI) throw new Error(`PostgreSQL tests cannot run (CI is set): ${why}`);
    console.warn(`PostgreSQL tests skipped: ${why}`);
    project.provide('postgresAdminUrl', '');
    return undefined;
  }
}
