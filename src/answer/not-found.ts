import type { IndexedDocumentMeta } from '../index/index-store.ts';

/**
 * The not-found message: says so plainly, then what the corpus does cover, compactly
 * (district → its documents by year and kind), so the user can rephrase or look elsewhere.
 */
export function notFoundMessage(documents: readonly IndexedDocumentMeta[], uncovered?: string, lead?: string): string {
  lead ??= uncovered ? `资料中没有关于${uncovered}的内容。` : '资料中没有找到能回答这个问题的内容。';
  const byDistrict = new Map<string, IndexedDocumentMeta[]>();
  for (const d of documents) byDistrict.set(d.district, [...(byDistrict.get(d.district) ?? []), d]);
  const list = [...byDistrict]
    .map(([district, docs]) => `${district}（${docs.map((d) => `${d.year}年${d.kind}`).join('、')}）`)
    .join('；');
  const years = documents.flatMap((d) => d.years);
  const span = years.length ? `，涉及${Math.min(...years)}–${Math.max(...years)}年` : '';
  // Districts come from the documents (an added one may lie outside Tianjin): no city is assumed.
  return `${lead}目前收录${[...byDistrict.keys()].join('、')}的${documents.length}份文件${span}：${list}。`;
}
