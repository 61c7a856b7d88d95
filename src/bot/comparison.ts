import { findComparison, type CitedPassage, type Comparison } from '../answer/comparison.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import type { SourceExcerpt } from '../store/bot-store.ts';
import { shortSection } from './format.ts';
import { escapeHtml } from './html.ts';

/**
 * The comparison behind an answer's 📊 button, found from what the answer stored — its
 * text and its sources' cited quotes — so the button decides at answer time and draws at
 * press time from the same data, after a restart too. A source whose passage the index
 * no longer has (after a re-index) makes no comparison.
 */

export function citedPassages(sources: readonly SourceExcerpt[], index: PlanIndex): CitedPassage[] | undefined {
  const cited: CitedPassage[] = [];
  for (const s of sources) {
    if (!s.quote) return undefined;
    const chunk = index.chunks.byId(s.chunkId);
    if (!chunk) return undefined;
    cited.push({
      n: s.n,
      quote: s.excerpt.slice(s.quote[0], s.quote[1]),
      district: chunk.doc.district,
      year: chunk.doc.year,
      title: s.title,
      section: s.section,
    });
  }
  return cited;
}

export function answerComparison(answerText: string, sources: readonly SourceExcerpt[], index: PlanIndex): { comparison: Comparison; cited: CitedPassage[] } | undefined {
  const cited = citedPassages(sources, index);
  const comparison = cited ? findComparison(answerText, cited) : undefined;
  return comparison && cited ? { comparison, cited } : undefined;
}

export function comparisonCaption(c: Comparison, cited: readonly CitedPassage[]): string {
  const figures = c.figures.map((f) => `${escapeHtml(f.side)} ${escapeHtml(f.text)} [${f.n}]`).join(' · ');
  const used = [...new Set(c.figures.map((f) => f.n))];
  const sources = used.map((n) => {
    const s = cited.find((x) => x.n === n)!;
    const section = shortSection(s.section);
    return `[${n}] 《${escapeHtml(s.title)}》${section ? ` <i>${escapeHtml(section)}</i>` : ''}`;
  });
  return `<b>对比：${escapeHtml(c.indicator)}（${escapeHtml(c.unit)}）</b>\n${figures}\n${sources.join('\n')}`;
}
