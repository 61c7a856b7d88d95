/**
 * Which HNSW partition each document's vectors go to. Most questions name a district, and
 * a search limited to one district of a large index was the slow case: HNSW cannot skip
 * the other districts' nodes, so the search over-fetched about k / share neighbours and
 * filtered them (5.5 ms of a 7.3 ms query at 100,000 chunks, a district being a tenth of
 * them). With one index per district, that search is a plain search in its partition.
 *
 * Partitions are by district, and only worth it for large districts: a district with at
 * least `min` chunks (5,000, or a sixteenth of the index when that is more) has its own;
 * the smaller ones share partitions packed to about that size, where a district's search
 * filters as before, cheaply at that size. So a small corpus is one partition, and a
 * search over every district (fanned out to each partition, then merged) visits at most
 * about 16 + a few partitions however many districts the index holds.
 */

export interface PartitionPlan {
  /** Partition of each document file. */
  partitionOfFile: ReadonlyMap<string, number>;
  /** Per partition: the districts it holds and its number of chunks. */
  partitions: ReadonlyArray<{ districts: string[]; chunks: number }>;
}

export const PARTITION_MIN = 5_000;
export const PARTITIONS_MOST = 16;

export function planPartitions(
  documents: Iterable<{ file: string; district: string; chunks: number }>,
  options: { min?: number; most?: number } = {},
): PartitionPlan {
  const docs = [...documents];
  const byDistrict = new Map<string, number>();
  for (const d of docs) byDistrict.set(d.district, (byDistrict.get(d.district) ?? 0) + d.chunks);
  const total = docs.reduce((n, d) => n + d.chunks, 0);
  const min = Math.max(options.min ?? PARTITION_MIN, Math.ceil(total / (options.most ?? PARTITIONS_MOST)), 1);

  // Largest districts first (then by name, so the plan is the same for the same corpus).
  const districts = [...byDistrict].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const partitions: Array<{ districts: string[]; chunks: number }> = [];
  let open: { districts: string[]; chunks: number } | undefined;
  for (const [district, chunks] of districts) {
    if (chunks >= min) {
      partitions.push({ districts: [district], chunks });
      continue;
    }
    open ??= { districts: [], chunks: 0 };
    open.districts.push(district);
    open.chunks += chunks;
    if (open.chunks >= min) {
      partitions.push(open);
      open = undefined;
    }
  }
  if (open) partitions.push(open);

  const partitionOfDistrict = new Map<string, number>();
  partitions.forEach((p, i) => p.districts.forEach((d) => partitionOfDistrict.set(d, i)));
  const partitionOfFile = new Map<string, number>();
  for (const d of docs) partitionOfFile.set(d.file, partitionOfDistrict.get(d.district) ?? 0);
  return { partitionOfFile, partitions };
}
