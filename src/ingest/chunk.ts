import type { DocumentMeta, SourceDocument } from './corpus.ts';
import { normalizeText, quotableSpans, type NormalizedText } from './normalize.ts';
import { createSplitter } from './splitter.ts';
import { detectSections, sectionAt, type Section } from './structure.ts';
import { gridTables } from './grid-tables.ts';
import { findTables, type Indicator, type Table } from './tables.ts';

/**
 * Passages for retrieval. Each chunk knows its exact span in the normalized text (so its quote
 * is verbatim) and its section path; indicator-table rows become one chunk each.
 */

export interface Chunk {
  /** Stable: `${file}#${start}-${end}`. */
  id: string;
  file: string;
  section: string[];
  /** Offsets into the normalized text. */
  start: number;
  end: number;
  /** 'text': exactly the normalized slice; 'table-row': a readable rebuilt row. Never the title or section path. */
  text: string;
  /** Verbatim citation: for 'text' === text; for 'table-row' the row's cells joined by single spaces. */
  quote: string;
  kind: 'text' | 'table-row';
  indicator?: Indicator;
}

export interface ChunkingOptions {
  chunkSize: number;
  chunkOverlap: number;
}

export interface IngestedDocument {
  meta: DocumentMeta;
  checksum: string;
  text: string;
  norm: NormalizedText;
  sections: Section[];
  tables: Table[];
  chunks: Chunk[];
}

/** Renders a section path for display. */
export function formatSection(path: readonly string[]): string {
  return path.join(' › ');
}

/** '森林覆盖率(%)：2020年12.07，2025年13，约束性' (+ '；注：…'). */
export function describeIndicator(ind: Indicator): string {
  const head = ind.unit ? `${ind.name}(${ind.unit})` : ind.name;
  const parts = ind.values.map((v) => `${v.column}${/^\d{4}$/.test(v.column) ? '年' : ''}${v.value}`);
  if (ind.attribute) parts.push(ind.attribute);
  const notes = ind.notes.length > 0 ? `；注：${ind.notes.join('；')}` : '';
  return `${head}：${parts.join('，')}${notes}`;
}

/** [start,end) minus the given ranges. */
function subtract(start: number, end: number, holes: ReadonlyArray<{ start: number; end: number }>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from = start;
  for (const h of [...holes].sort((a, b) => a.start - b.start)) {
    if (h.end <= from || h.start >= end) continue;
    if (h.start > from) out.push([from, h.start]);
    from = Math.max(from, h.end);
  }
  if (from < end) out.push([from, end]);
  return out;
}

function trimRange(text: string, start: number, end: number): [number, number] {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return [start, end];
}

export async function chunkDocument(
  doc: { meta: DocumentMeta; text: string; sections: Section[]; tables: Table[]; norm?: NormalizedText },
  options: ChunkingOptions,
): Promise<Chunk[]> {
  const { meta, text, sections, tables } = doc;
  const splitter = createSplitter(options);
  const chunks: Chunk[] = [];

  for (const section of sections) {
    for (const [a, b] of subtract(section.start, section.end, tables)) {
      // Without the normalization record every character is taken as contiguous in the source.
      const spans = doc.norm ? quotableSpans(doc.norm, a, b) : [[a, b] as [number, number]];
      for (const [s0, e0] of spans) {
        const [s, e] = trimRange(text, s0, e0);
        if (s >= e) continue;
        const piece = text.slice(s, e);
        let prev = { at: 0, length: -1 };
        for (const part of await splitter.split(piece)) {
          if (part.trim() === '') continue;
          // Title lines before the first heading ("武清区2018年政府工作报告") hold no sentence and answer nothing.
          if (section.path.length === 0 && !/[。！？；;，,：:]/.test(part)) continue;
          // The splitter trims and overlaps without reporting offsets: find each piece at or after
          // the previous one's start (overlap means it may begin inside the previous piece).
          let at = piece.indexOf(part, prev.at);
          if (at === prev.at && part.length === prev.length) at = piece.indexOf(part, prev.at + 1);
          if (at < 0) throw new Error(`chunk: ${meta.file}: splitter output not found in section ${formatSection(section.path)} after offset ${s + prev.at}`);
          const start = s + at;
          const end = start + part.length;
          if (text.slice(start, end) !== part) throw new Error(`chunk: ${meta.file}: offsets ${start}-${end} do not match the chunk text`);
          prev = { at, length: part.length };
          chunks.push({ id: `${meta.file}#${start}-${end}`, file: meta.file, section: section.path, start, end, text: part, quote: part, kind: 'text' });
        }
      }
    }
  }

  for (const table of tables) {
    const path = [...(sectionAt(sections, table.start)?.path ?? []), ...(table.title ? [table.title] : [])];
    for (const row of table.plainRows ?? []) {
      chunks.push({ id: `${meta.file}#${row.start}-${row.end}`, file: meta.file, section: path, start: row.start, end: row.end, text: row.text, quote: row.cells.join(' '), kind: 'table-row' });
    }
    for (const row of table.rows) {
      chunks.push({
        id: `${meta.file}#${row.start}-${row.end}`,
        file: meta.file,
        section: path,
        start: row.start,
        end: row.end,
        text: describeIndicator(row),
        quote: row.cells.join(' '),
        kind: 'table-row',
        indicator: row,
      });
    }
  }
  return chunks.sort((x, y) => x.start - y.start || x.end - y.end);
}

/**
 * normalize → sections → tables → chunks. Tables whose cells the extractor knew come from
 * their grids; the flattened one-cell-per-line tables of plain text are rebuilt by findTables.
 */
export async function ingestDocument(src: Pick<SourceDocument, 'meta' | 'raw' | 'checksum'> & { extracted?: SourceDocument['extracted'] }, options: ChunkingOptions): Promise<IngestedDocument> {
  const norm = normalizeText(src.raw, { paragraphStarts: src.extracted?.paragraphStarts ?? [] });
  const sections = detectSections(norm.text, { markdownHeadings: norm.markdownHeadings });
  const grids = gridTables(src.extracted?.tables ?? [], norm, src.meta);
  const overlapsGrid = (t: Table) => grids.some((g) => t.start < g.end && g.start < t.end);
  const tables = [...grids, ...findTables(norm.text, src.meta).filter((t) => !overlapsGrid(t))].sort((a, b) => a.start - b.start);
  const chunks = await chunkDocument({ meta: src.meta, text: norm.text, sections, tables, norm }, options);
  return { meta: src.meta, checksum: src.checksum, text: norm.text, norm, sections, tables, chunks };
}
