import { createRequire } from 'node:module';
import path from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { TextItem } from 'pdfjs-dist/types/src/display/api.js';
import { ExtractionError } from '../errors.ts';
import { ExtractedTextBuilder, type ExtractedDocument } from './extracted-text.ts';
import { matchHeading, startsBlock } from './headings.ts';

/**
 * Text PDFs (owner of pdfjs-dist). pdfjs gives positioned text runs; this file rebuilds
 * what a reader sees:
 * - lines from runs on the same baseline, read top to bottom, left to right;
 * - a line whose runs are far apart is a table row: its pieces are cells;
 * - running headers and footers (the same line at the top or bottom of most pages, page
 *   numbers like "- 3 -" or "第3页") are dropped;
 * - a line that reaches the right margin continues on the next line unless that one is
 *   indented or starts a heading, also across a page break, so a sentence broken by the
 *   layout is one paragraph.
 * A PDF without any text (a scan) is refused with a message naming the file.
 */

interface Run {
  text: string;
  x: number;
  y: number;
  width: number;
  size: number;
}

interface Line {
  y: number;
  size: number;
  /** Cells: runs closer than a wide gap are one cell. */
  cells: Array<{ text: string; x: number; end: number }>;
  page: number;
}

const PAGE_NUMBER = /^[-—–\s]*(?:第\s*)?\d{1,4}\s*(?:页)?(?:\s*[/／共]\s*\d{1,4}\s*页?)?[-—–\s]*$/;
// Adobe's character maps and the standard fonts ship with pdfjs-dist: older Chinese PDFs use
// non-embedded fonts (STSong-Light, UniGB-UCS2-H) whose text cannot be read without them.
const PDFJS_DIR = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const CMAP_URL = `${path.join(PDFJS_DIR, 'cmaps')}${path.sep}`;
const STANDARD_FONTS_URL = `${path.join(PDFJS_DIR, 'standard_fonts')}${path.sep}`;

/** Pages read at most, so a hostile file cannot hold ingest for ever. */
const MAX_PAGES = 2000;

function toRuns(items: readonly unknown[]): Run[] {
  const runs: Run[] = [];
  for (const it of items as TextItem[]) {
    if (typeof it.str !== 'string' || it.str.trim() === '') continue;
    const [a, b, , , x, y] = it.transform as number[];
    const size = Math.hypot(a ?? 0, b ?? 0) || 10;
    runs.push({ text: it.str, x: x ?? 0, y: y ?? 0, width: it.width, size });
  }
  return runs;
}

function toLines(runs: Run[], page: number): Line[] {
  runs.sort((p, q) => q.y - p.y || p.x - q.x);
  const lines: Array<{ y: number; size: number; runs: Run[] }> = [];
  for (const r of runs) {
    const line = lines.find((l) => Math.abs(l.y - r.y) <= Math.max(2, r.size * 0.3));
    if (line) line.runs.push(r);
    else lines.push({ y: r.y, size: r.size, runs: [r] });
  }
  return lines.map((l) => {
    l.runs.sort((p, q) => p.x - q.x);
    const cells: Line['cells'] = [];
    for (const r of l.runs) {
      const last = cells[cells.length - 1];
      const gap = last ? r.x - last.end : Infinity;
      if (last && gap < l.size * 1.5) {
        // A gap the width of a space is one ("第一章 总体要求", "PM 2.5"); normalization later
        // drops those that touch Chinese text where they are noise.
        const latin = /[A-Za-z0-9]$/.test(last.text) && /^[A-Za-z0-9]/.test(r.text);
        last.text += gap > l.size * (latin ? 0.2 : 0.5) ? ` ${r.text}` : r.text;
        last.end = Math.max(last.end, r.x + r.width);
      } else {
        cells.push({ text: r.text, x: r.x, end: r.x + r.width });
      }
    }
    return { y: l.y, size: Math.max(...l.runs.map((r) => r.size)), cells, page };
  });
}

const lineText = (l: Line) => l.cells.map((c) => c.text).join(' ').trim();
const shape = (l: Line) => lineText(l).replace(/\d+/g, '#').replace(/\s+/g, '');

/** Drops page numbers and lines repeated at the top or bottom of most pages. */
function dropRunningLines(pages: Line[][]): Line[][] {
  const edgeShapes = new Map<string, number>();
  const edges = (lines: Line[]) => [...lines.slice(0, 2), ...lines.slice(-2)];
  for (const lines of pages) for (const s of new Set(edges(lines).map(shape))) edgeShapes.set(s, (edgeShapes.get(s) ?? 0) + 1);
  const repeated = (l: Line) => pages.length >= 2 && (edgeShapes.get(shape(l)) ?? 0) >= Math.max(2, pages.length * 0.5);
  return pages.map((lines) => {
    const edge = new Set(edges(lines));
    return lines.filter((l) => !(edge.has(l) && (PAGE_NUMBER.test(lineText(l)) || repeated(l))));
  });
}

function writeText(pages: Line[][], builder: ExtractedTextBuilder): void {
  const body = pages.flat();
  if (body.length === 0) return;
  // Margins of the running text: the most common left edge and the right edge of full lines.
  const lefts = new Map<number, number>();
  for (const l of body) if (l.cells.length === 1) lefts.set(Math.round(l.cells[0]!.x), (lefts.get(Math.round(l.cells[0]!.x)) ?? 0) + 1);
  const left = [...lefts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  // The right edge full lines reach: a high percentile, so one overlong line (a URL, a wide
  // caption) does not leave every other line looking short.
  const ends = body.filter((l) => l.cells.length === 1 && lineText(l).length >= 10).map((l) => l.cells[0]!.end).sort((a, b) => a - b);
  const right = ends[Math.floor(ends.length * 0.9)] ?? ends.at(-1) ?? 0;

  let paragraph = '';
  let joinable = false;
  let grid: string[][] = [];
  let gridColumns: number[] = [];
  const flushParagraph = () => {
    builder.paragraph(paragraph, false);
    paragraph = '';
    joinable = false;
  };
  const flushGrid = () => {
    if (grid.length > 0) builder.table(grid);
    grid = [];
    gridColumns = [];
  };
  for (const l of body) {
    // "第一章    总则" set with a wide gap is a heading, not a table row.
    if (l.cells.length >= 2 && matchHeading(lineText(l))) l.cells = [{ text: lineText(l), x: l.cells[0]!.x, end: l.cells.at(-1)!.end }];
    if (l.cells.length >= 2) {
      flushParagraph();
      if (grid.length === 0) gridColumns = l.cells.map((c) => c.x);
      // Each cell goes to the header column it starts under (rows may leave cells empty).
      const row = new Array<string>(gridColumns.length).fill('');
      for (const c of l.cells) {
        let col = 0;
        gridColumns.forEach((x, i) => {
          if (x <= c.x + l.size) col = i;
        });
        row[col] = row[col] ? `${row[col]}${c.text}` : c.text;
      }
      grid.push(row);
      continue;
    }
    const cell = l.cells[0]!;
    // A table cell wrapped onto a second line ("全社会研发经费投入占地区" / "生产总值比重(%)"):
    // a short piece under one of the table's columns (not the first, which lines up with the
    // text after the table) continues that column's cell.
    const column = gridColumns.findIndex((x) => Math.abs(x - cell.x) < l.size);
    if (grid.length > 0 && column > 0 && cell.text.length <= 20 && !/[。；;]/.test(cell.text)) {
      const row = grid[grid.length - 1]!;
      row[column] = `${row[column] ?? ''}${cell.text}`;
      continue;
    }
    flushGrid();
    const indented = cell.x > left + l.size * 0.8;
    // A heading or list item never continues the line before, however full that line is.
    if (joinable && !indented && !startsBlock(cell.text)) paragraph += cell.text;
    else {
      flushParagraph();
      paragraph = cell.text;
    }
    joinable = cell.end >= right - l.size * 1.5 && Math.abs(cell.x - left) < l.size * 3;
  }
  flushParagraph();
  flushGrid();
}

export async function extractPdf(bytes: Uint8Array, file: string): Promise<ExtractedDocument> {
  let doc;
  try {
    // pdfjs takes ownership of the buffer it is given: hand it a copy.
    doc = await getDocument({
      data: new Uint8Array(bytes),
      cMapUrl: CMAP_URL,
      cMapPacked: true,
      standardFontDataUrl: STANDARD_FONTS_URL,
      isEvalSupported: false,
      useSystemFonts: false,
      verbosity: 0,
      stopAtErrors: false,
    }).promise;
  } catch (err) {
    throw new ExtractionError(`pdf: ${file} is not a readable PDF (${(err as Error).message})`, { cause: err });
  }
  try {
    if (doc.numPages > MAX_PAGES) throw new ExtractionError(`pdf: ${file} has ${doc.numPages} pages, more than the ${MAX_PAGES} this bot reads`);
    const pages: Line[][] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      pages.push(toLines(toRuns(content.items), p));
      page.cleanup();
    }
    if (pages.every((lines) => lines.length === 0)) {
      throw new ExtractionError(`pdf: ${file} has no text layer (a scanned PDF?); run it through OCR or add a text version of it`);
    }
    const builder = new ExtractedTextBuilder('pdf');
    writeText(dropRunningLines(pages), builder);
    const info = (await doc.getMetadata().catch(() => undefined))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' ? info.Title : undefined;
    return builder.finish({ ...(title ? { titleHint: title } : {}), pages: doc.numPages });
  } catch (err) {
    if (err instanceof ExtractionError) throw err;
    throw new ExtractionError(`pdf: ${file} could not be read (${(err as Error).message})`, { cause: err });
  } finally {
    await doc.destroy();
  }
}
