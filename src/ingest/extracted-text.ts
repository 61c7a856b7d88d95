/**
 * What every format's extractor produces: plain text, one paragraph per line, and the
 * tables found in it as grids of spans into that text. This text is the document as the
 * index sees it: it is stored beside the original and quotes are checked against it.
 * A table is written one cell per line (the layout findTables() rebuilds from flattened
 * PDFs), so a row quoted as its cells joined by spaces is verbatim once whitespace is ignored.
 */

export type DocumentFormat = 'pdf' | 'docx' | 'html' | 'md' | 'txt';

export interface TextSpan {
  start: number;
  end: number;
}

export interface GridTable {
  /** The caption paragraph right before the table, when there is one. */
  title?: TextSpan;
  header: Array<TextSpan | undefined>;
  /** Cells by column; a cell merged down from a row above points at that row's span. */
  rows: Array<Array<TextSpan | undefined>>;
}

export interface ExtractedDocument {
  format: DocumentFormat;
  text: string;
  tables: GridTable[];
  /** Raw offsets of lines that begin a paragraph of their own (never joined to the line before). */
  paragraphStarts: number[];
  /** Title from the file's own metadata (PDF Info, HTML <title>), if any. */
  titleHint?: string;
  /** Pages (PDF) for the record. */
  pages?: number;
}

/** Squeezes a cell or paragraph onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/[ \t\u00a0\u3000]+/g, ' ').trim();
}

/** Accumulates extracted text paragraph by paragraph and table by table. */
export class ExtractedTextBuilder {
  private text = '';
  private readonly tables: GridTable[] = [];
  private readonly starts: number[] = [];
  private lastParagraph: TextSpan | undefined;

  constructor(private readonly format: DocumentFormat) {}

  /**
   * Appends a paragraph as one line (empty ones are dropped); returns its span. `sure`:
   * the format marks it as a paragraph (HTML, Word); a PDF's layout only suggests it, so
   * normalization may still join it to the line before (a heading wrapped onto two lines).
   */
  paragraph(raw: string, sure = true): TextSpan | undefined {
    const line = oneLine(raw);
    if (line === '') return undefined;
    const start = this.text.length;
    if (sure) this.starts.push(start);
    this.text += line + '\n';
    this.lastParagraph = { start, end: start + line.length };
    return this.lastParagraph;
  }

  /** Appends one line verbatim (Markdown outside its tables keeps its own lines); blank lines keep the caption candidate. */
  verbatim(line: string): void {
    const body = /^\s*(?:#{1,6}\s+)?(.*?)\s*$/.exec(line.replace(/\n$/, ''))![1]!;
    if (body !== '') {
      const start = this.text.length + line.indexOf(body);
      this.lastParagraph = { start, end: start + body.length };
    }
    this.text += line;
  }

  /**
   * Appends a table: rows of cells, the first row the header. `owned[r][c]` false marks a
   * cell merged from the row above (not written again). Caption: the paragraph just before,
   * when it is short and has no sentence.
   */
  table(rows: string[][], owned?: boolean[][]): void {
    const width = Math.max(0, ...rows.map((r) => r.length));
    if (rows.length < 2 || width < 2) {
      for (const r of rows) this.paragraph(r.join(' '));
      return;
    }
    const caption = this.lastParagraph;
    const captionText = caption ? this.text.slice(caption.start, caption.end) : '';
    const spans: Array<Array<TextSpan | undefined>> = [];
    rows.forEach((row, r) => {
      const out: Array<TextSpan | undefined> = [];
      for (let c = 0; c < width; c++) {
        const own = owned?.[r]?.[c] ?? true;
        if (!own) {
          out.push(spans[r - 1]?.[c]);
          continue;
        }
        const cell = oneLine(row[c] ?? '');
        if (cell === '') {
          out.push(undefined);
          continue;
        }
        const start = this.text.length;
        this.starts.push(start);
        this.text += cell + '\n';
        out.push({ start, end: start + cell.length });
      }
      spans.push(out);
    });
    const isCaption = caption !== undefined && captionText.length <= 60 && !/[。；;]/.test(captionText);
    this.tables.push({ ...(isCaption ? { title: caption } : {}), header: spans[0]!, rows: spans.slice(1) });
    this.lastParagraph = undefined;
  }

  finish(extra: { titleHint?: string; pages?: number } = {}): ExtractedDocument {
    return {
      format: this.format,
      text: this.text,
      tables: this.tables,
      paragraphStarts: this.starts,
      ...(extra.titleHint ? { titleHint: oneLine(extra.titleHint) } : {}),
      ...(extra.pages !== undefined ? { pages: extra.pages } : {}),
    };
  }
}
