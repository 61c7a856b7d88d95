import { describe, expect, it } from 'vitest';
import { planPartitions } from '../../src/index/vector-partitions.ts';

const docs = (sizes: Record<string, number>) => Object.entries(sizes).map(([district, chunks], i) => ({ file: `doc-${i}.txt`, district, chunks }));

describe('planPartitions', () => {
  it('keeps a small corpus in one partition', () => {
    const plan = planPartitions(docs({ 武清区: 300, 河北区: 200, 津南区: 144 }));
    expect(plan.partitions).toEqual([{ districts: ['武清区', '河北区', '津南区'], chunks: 644 }]);
    expect([...plan.partitionOfFile.values()]).toEqual([0, 0, 0]);
  });

  it('gives each large district its own partition and packs the small ones together', () => {
    const plan = planPartitions([...docs({ A: 12_000, B: 9_000, C: 3_000, D: 2_500, E: 400 }), { file: 'more-a.txt', district: 'A', chunks: 1_000 }]);
    expect(plan.partitions).toEqual([
      { districts: ['A'], chunks: 13_000 },
      { districts: ['B'], chunks: 9_000 },
      { districts: ['C', 'D'], chunks: 5_500 },
      { districts: ['E'], chunks: 400 },
    ]);
    expect(plan.partitionOfFile.get('more-a.txt')).toBe(0);
    expect(plan.partitionOfFile.get('doc-3.txt')).toBe(2);
  });

  it('bounds the number of partitions when there are many districts', () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`区${i}`, 6_000]));
    const plan = planPartitions(docs(many));
    expect(plan.partitions.length).toBeLessThanOrEqual(17);
    expect(plan.partitions.reduce((n, p) => n + p.chunks, 0)).toBe(1_200_000);
  });
});
