import type { IndexedDocumentMeta } from '../index/index-store.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import { matchDistrictName } from '../retrieve/districts.ts';

/** What the index covers, for /start, /help, /docs and the console banner. */

export interface CorpusSummary {
  districts: string[];
  documents: IndexedDocumentMeta[];
  years?: [number, number];
}

export function corpusSummary(index: PlanIndex): CorpusSummary {
  const documents = index.documents;
  const districts = [...new Set(documents.map((d) => d.district))];
  const years = documents.flatMap((d) => d.years);
  return { districts, documents, ...(years.length > 0 ? { years: [Math.min(...years), Math.max(...years)] as [number, number] } : {}) };
}

/**
 * Example questions offered as buttons. A button carries the example's position in this
 * list, so entries are only ever appended; those about districts the index lacks are
 * not offered.
 */
export const EXAMPLE_QUESTIONS: ReadonlyArray<{ q: string; district: string }> = [
  { q: '武清区2025年森林覆盖率目标是多少？', district: '武清区' },
  { q: '津南区十四五期间要建设哪些医院？', district: '津南区' },
  { q: '河北区养老服务有什么规划？', district: '河北区' },
  { q: '武清区2025年研发支出占比目标是多少？', district: '武清区' },
  { q: '武清区2023年固定资产投资计划增长多少？', district: '武清区' },
];

export function examplesFor(index: PlanIndex, max = 4): Array<{ index: number; q: string }> {
  const districts = new Set(index.documents.map((d) => d.district));
  const fitting = EXAMPLE_QUESTIONS.map((e, i) => ({ index: i, q: e.q, district: e.district })).filter((e) => districts.has(e.district));
  // At most two per district, so every district gets a turn.
  const perDistrict = new Map<string, number>();
  const out: Array<{ index: number; q: string }> = [];
  for (const e of fitting) {
    const n = perDistrict.get(e.district) ?? 0;
    if (n >= 2 || out.length >= max) continue;
    perDistrict.set(e.district, n + 1);
    out.push({ index: e.index, q: e.q });
  }
  return out;
}

/** The district a user typed ("武清" or "武清区"), as the corpus names it. */
export function matchDistrict(index: PlanIndex, wanted: string): string | undefined {
  return matchDistrictName(wanted, corpusSummary(index).districts);
}
