import type { Answer, Citation } from '../answer/answer.ts';
import type { Passage } from '../retrieve/hybrid-retriever.ts';
import type { SourceExcerpt } from '../store/bot-store.ts';
import { MESSAGE_LIMIT, escapeHtml, visibleLength } from './html.ts';

/**
 * Answers and excerpts as Telegram HTML. Everything that comes from documents, users or
 * a model is escaped; the only markup is ours (b, i, blockquote).
 */

const SECTION_MAX = 40;

/** The last heading of a section path ("第二章 … › 第三节 主要目标" → "第三节 主要目标"), shortened. */
export function shortSection(section: string): string {
  const last = section.split(' › ').at(-1)?.trim() ?? '';
  return last.length > SECTION_MAX ? `${last.slice(0, SECTION_MAX - 1)}…` : last;
}

function sourceLines(citations: readonly Citation[]): string[] {
  const groups = new Map<string, { ns: number[]; title: string; section: string }>();
  for (const c of citations) {
    const section = shortSection(c.section);
    const key = `${c.title}\u0000${section}`;
    const g = groups.get(key) ?? { ns: [], title: c.title, section };
    g.ns.push(c.n);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => `${g.ns.map((n) => `[${n}]`).join('')} 《${escapeHtml(g.title)}》${g.section ? ` <i>${escapeHtml(g.section)}</i>` : ''}`);
}

/** The answer with its [n] claims and a compact source list (《title》 section, one line per source). */
export const SHORTENED_NOTE = '回答较长，只显示了前一部分；可以把问题问得更具体些。';

export function answerHtml(answer: Pick<Answer, 'answer' | 'citations' | 'found' | 'shortened'>): string {
  let body = escapeHtml(answer.answer.trim());
  if (answer.shortened) body += `\n\n<i>${SHORTENED_NOTE}</i>`;
  // A not-found answer may still cite the nearest fact it labels as such.
  if (answer.citations.length === 0) return body;
  return `${body}\n\n<b>来源</b>\n${sourceLines(answer.citations).join('\n')}`;
}

export const NOT_FOUND_HINT = '可以换个说法再问，或点“更多结果”看看相关段落。';

/** A streaming answer so far (unverified): plain text, cut to fit one message. */
export function partialHtml(text: string, limit = MESSAGE_LIMIT - 200): string {
  const t = text.trim();
  return `${escapeHtml(t.length > limit ? t.slice(0, limit) : t)} …`;
}

/** The passage a citation quotes from, as the excerpt its source button shows. */
export function sourcesFromAnswer(answer: Pick<Answer, 'citations' | 'passages'>): SourceExcerpt[] {
  return answer.citations.map((c) => {
    const passage = answer.passages.find((p) => p.chunk.file === c.file && p.chunk.start <= c.start && c.end <= p.chunk.end);
    if (!passage) return { n: c.n, chunkId: `${c.file}#${c.start}-${c.end}`, file: c.file, title: c.title, district: '', section: c.section, excerpt: c.quote, quote: [0, c.quote.length] };
    return excerptOf(passage, c.n, c.quote);
  });
}

/** A retrieved passage as an excerpt; `quote` (verbatim text inside it) is highlighted when found. */
export function excerptOf(passage: Passage, n: number, quote?: string): SourceExcerpt {
  const chunk = passage.chunk;
  const base = { n, chunkId: chunk.id, file: chunk.file, title: chunk.doc.title, district: chunk.doc.district, section: chunk.section.join(' › ') };
  if (chunk.kind === 'table-row') {
    const excerpt = `${chunk.text}\n原表：${chunk.quote}`;
    const at = excerpt.lastIndexOf(chunk.quote);
    return { ...base, excerpt, ...(quote !== undefined ? { quote: [at, at + chunk.quote.length] as [number, number] } : {}) };
  }
  const at = quote ? chunk.text.indexOf(quote) : -1;
  return { ...base, excerpt: chunk.text, ...(at >= 0 && quote ? { quote: [at, at + quote.length] as [number, number] } : {}) };
}

function excerptBody(s: SourceExcerpt): string {
  if (!s.quote) return escapeHtml(s.excerpt);
  const [a, b] = s.quote;
  return `${escapeHtml(s.excerpt.slice(0, a))}<b>${escapeHtml(s.excerpt.slice(a, b))}</b>${escapeHtml(s.excerpt.slice(b))}`;
}

function excerptHeader(s: SourceExcerpt): string {
  const where = [s.district, s.section].filter(Boolean).join(' · ');
  return `<b>[${s.n}] 《${escapeHtml(s.title)}》</b>${where ? `\n<i>${escapeHtml(where)}</i>` : ''}`;
}

/** What a source button shows: document, section, and the whole passage with the quote in bold. */
export function sourceHtml(s: SourceExcerpt): string {
  return `${excerptHeader(s)}\n<blockquote expandable>${excerptBody(s)}</blockquote>`;
}

/** A page of "more results": further passages, each with its document and section. */
export function moreResultsHtml(question: string, sources: readonly SourceExcerpt[]): string {
  if (sources.length === 0) return `没有更多与“${escapeHtml(question)}”相关的段落了。`;
  const blocks = sources.map((s) => `${excerptHeader(s)}\n<blockquote expandable>${excerptBody(s)}</blockquote>`);
  return `<b>更多相关段落</b>：${escapeHtml(question)}\n\n${blocks.join('\n\n')}`;
}

/**
 * A self-contained answer for inline mode (no buttons there): the answer, then each
 * source with its verbatim quote, dropping quotes that would not fit one message.
 */
export function inlineAnswerHtml(answer: Pick<Answer, 'answer' | 'citations' | 'found'>, limit = MESSAGE_LIMIT): string {
  const head = answerHtml(answer);
  if (answer.citations.length === 0) return head;
  let html = head;
  for (const c of answer.citations) {
    const block = `\n<blockquote expandable>[${c.n}] ${escapeHtml(c.quote)}</blockquote>`;
    if (visibleLength(html + block) > limit) break;
    html += block;
  }
  return html;
}
