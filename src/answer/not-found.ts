import type { IndexedDocumentMeta } from '../index/index-store.ts';

/** The not-found message: says so plainly and what the corpus does cover. */
export function notFoundMessage(documents: readonly IndexedDocumentMeta[], uncovered?: string): string {
  const districts = [...new Set(documents.map((d) => d.district))];
  const lead = uncovered ? `资料中没有关于${uncovered}的内容。` : '资料中没有找到能回答这个问题的内容。';
  const list = documents
    .map((d) => `《${d.title}》（${d.district}，${d.kind}）`)
    .join('；');
  const yearsAll = documents.flatMap((d) => d.years);
  const span = yearsAll.length ? `，时间范围${Math.min(...yearsAll)}–${Math.max(...yearsAll)}年` : '';
  return `${lead}目前收录天津市${districts.join('、')}的${documents.length}份文件${span}：${list}。`;
}
