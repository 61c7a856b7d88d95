import { describe, expect, it } from 'vitest';
import { renderTable } from '../../bench/bench-report.ts';

describe('the bench table', () => {
  it('shows one aligned row per figure, percentiles as p50 · p95 · max, units from the key', () => {
    const table = renderTable({
      cpus: 2,
      start: { coldAskMs: { n: 5, p50: 412.5, p95: 480, max: 480 } },
      scale: { chunks: 100000, rssMb: 512, buildRatePerSecond: 2100.4, failed: { error: 'boom' } },
    });
    expect(table.split('\n')).toEqual([
      'cpus                      2',
      'start.coldAskMs           p50 412.5 ms · p95 480 ms · max 480 ms (n=5)',
      'scale.chunks              100,000',
      'scale.rssMb               512 MB',
      'scale.buildRatePerSecond  2,100.4 /s',
      'scale.failed.error        boom',
    ]);
  });
});
