import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A worker keeps its modules from one test file to the next: loading the product's
    // modules again for each of ~70 files cost a third of the suite's time. Tests hold no
    // state in modules (each builds its own index copy, database and servers); the one
    // that needs a fresh module imports it after vi.resetModules().
    isolate: false,
    // Many tests wait on child processes, servers and timers rather than the CPU: a third
    // worker on 2 cores fills that waiting.
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts', 'test/postgres-global-setup.ts'],
  },
});
