import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { ExtractionError } from '../errors.ts';
import { ExtractedTextBuilder, type DocumentFormat, type ExtractedDocument } from './extracted-text.ts';

/**
 * Web pages (owner of linkedom and @mozilla/readability). Chinese government sites serve
 * UTF-8 or GBK/GB2312/GB18030, declared in a <meta> or not at all; the bytes are decoded
 * by what they declare, else as UTF-8 when they are valid UTF-8, else as GB18030 (a
 * superset of GBK and GB2312). Readability picks the article out of the site's navigation;
 * the article is then walked block by block into paragraphs and tables.
 */

const BLOCK = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'BODY', 'CENTER', 'DD', 'DETAILS', 'DIV', 'DL', 'DT', 'FIGCAPTION', 'FIGURE', 'FOOTER', 'FORM',
  'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE', 'SECTION', 'TR', 'UL', 'CAPTION',
]);
const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'IFRAME', 'SVG', 'OBJECT', 'BUTTON', 'SELECT', 'INPUT', 'TEXTAREA']);
/** Characters of article text below which Readability's pick is not trusted over the whole body. */
const MIN_ARTICLE_CHARS = 200;

const LABELS: Record<string, string> = { gb2312: 'gb18030', gbk: 'gb18030', 'x-gbk': 'gb18030', gb18030: 'gb18030', 'utf-8': 'utf-8', utf8: 'utf-8', big5: 'big5' };

/** Decodes an HTML file's bytes by its BOM, its declared charset, or what the bytes are. */
export function decodeHtml(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  const declared = /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  const label = declared ? LABELS[declared] : undefined;
  if (label) return new TextDecoder(label).decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

/** The parts of linkedom's DOM this file uses (the project compiles without the DOM library). */
interface Node {
  nodeType: number;
  textContent: string | null;
  childNodes: Iterable<Node>;
}
interface Element extends Node {
  tagName: string;
  children: Iterable<Element>;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<Element>;
  closest(selector: string): Element | null;
  remove(): void;
}

/** Text of an inline run, whitespace as the browser would collapse it. */
function inlineText(node: Node): string {
  return (node.textContent ?? '').replace(/\s+/g, ' ');
}

function tableRows(table: Element): { rows: string[][]; owned: boolean[][] } {
  // Rows of this table only, not of tables nested in its cells.
  const trs = [...table.querySelectorAll('tr')].filter((tr) => tr.closest('table') === table);
  const rows: string[][] = [];
  const owned: boolean[][] = [];
  trs.forEach((tr, r) => {
    rows[r] ??= [];
    owned[r] ??= [];
    let c = 0;
    for (const cell of [...tr.children].filter((e) => e.tagName === 'TD' || e.tagName === 'TH')) {
      while (owned[r]![c] !== undefined) c++;
      const colspan = Math.min(50, Math.max(1, Number(cell.getAttribute('colspan')) || 1));
      const rowspan = Math.min(500, Math.max(1, Number(cell.getAttribute('rowspan')) || 1));
      const text = blockText(cell);
      for (let dr = 0; dr < rowspan && r + dr < trs.length; dr++) {
        rows[r + dr] ??= [];
        owned[r + dr] ??= [];
        for (let dc = 0; dc < colspan; dc++) {
          // A merged cell is written once; the cells it covers to the right stay empty.
          rows[r + dr]![c + dc] = dc === 0 ? text : '';
          owned[r + dr]![c + dc] = dr === 0;
        }
      }
      c += colspan;
    }
  });
  const width = Math.max(0, ...rows.map((r) => r.length));
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < width; c++) {
      if (rows[r]![c] === undefined) rows[r]![c] = '';
      if (owned[r]![c] === undefined) owned[r]![c] = true;
    }
  }
  return { rows: rows.filter((row) => row.some((t) => t.trim() !== '')), owned: owned.filter((_, r) => rows[r]!.some((t) => t.trim() !== '')) };
}

/** A cell's text: its paragraphs joined by a space. */
function blockText(el: Element): string {
  const parts: string[] = [];
  let run = '';
  const visit = (n: Node) => {
    if (n.nodeType === 3) run += inlineText(n);
    else if (n.nodeType === 1) {
      const e = n as Element;
      if (SKIP.has(e.tagName)) return;
      const block = BLOCK.has(e.tagName) || e.tagName === 'BR';
      if (block) parts.push(run), (run = '');
      for (const child of [...e.childNodes]) visit(child);
      if (block) parts.push(run), (run = '');
    }
  };
  for (const child of [...el.childNodes]) visit(child);
  parts.push(run);
  return parts.map((p) => p.trim()).filter(Boolean).join(' ');
}

/** Longest cell text a data table has; older government sites lay whole articles out in tables. */
const MAX_DATA_CELL_CHARS = 300;

/** A table used for page layout (nested tables, or a cell holding paragraphs of text) is read as blocks. */
function isLayoutTable(table: Element): boolean {
  if ([...table.querySelectorAll('table')].some((t) => t !== table)) return true;
  const cells = [...table.querySelectorAll('td, th')].filter((c) => c.closest('table') === table);
  return cells.some((c) => (c.textContent ?? '').replace(/\s/g, '').length > MAX_DATA_CELL_CHARS);
}

/** Walks an element into paragraphs and tables. */
function walk(root: Element, builder: ExtractedTextBuilder): void {
  let run = '';
  const flush = () => {
    builder.paragraph(run);
    run = '';
  };
  const visit = (n: Node) => {
    if (n.nodeType === 3) {
      run += inlineText(n);
      return;
    }
    if (n.nodeType !== 1) return;
    const e = n as Element;
    if (SKIP.has(e.tagName)) return;
    if (e.tagName === 'TABLE' && !isLayoutTable(e)) {
      flush();
      const { rows, owned } = tableRows(e);
      builder.table(rows, owned);
      return;
    }
    if (e.tagName === 'BR') return flush();
    const block = BLOCK.has(e.tagName);
    if (block) flush();
    for (const child of [...e.childNodes]) visit(child);
    if (block) flush();
  };
  visit(root);
  flush();
}

/** HTML markup (a page's article, or mammoth's rendering of a .docx) → extracted text. */
export function htmlToExtracted(html: string, format: DocumentFormat, options: { article: boolean; titleHint?: string }): ExtractedDocument {
  const { document } = parseHTML(/<html[\s>]/i.test(html) ? html : `<!doctype html><html><head></head><body>${html}</body></html>`);
  let titleHint = options.titleHint ?? document.querySelector('title')?.textContent?.trim();
  let root: Element | null = document.body ?? document.documentElement;
  let leading: string | undefined;
  if (options.article) {
    // Readability changes the document it is given: let it work on a copy.
    const copy = parseHTML(document.toString()).document;
    const article = new Readability(copy as never, { charThreshold: MIN_ARTICLE_CHARS }).parse();
    if (article?.content && (article.textContent ?? '').replace(/\s/g, '').length >= MIN_ARTICLE_CHARS) {
      root = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`).document.body;
      if (article.title) titleHint = article.title;
      // Readability lifts the page's heading out of the article; it is the document's title, keep it.
      const heading = document.querySelector('h1')?.textContent?.trim();
      if (heading && !(root?.textContent ?? '').includes(heading)) leading = heading;
    } else if (root) {
      for (const e of [...root.querySelectorAll('nav, header, footer, aside, [role=navigation]')]) e.remove();
    }
  }
  const builder = new ExtractedTextBuilder(format);
  if (leading) builder.paragraph(leading);
  if (root) walk(root, builder);
  return builder.finish(titleHint ? { titleHint } : {});
}

export function extractHtml(bytes: Uint8Array, file: string): ExtractedDocument {
  let html: string;
  try {
    html = decodeHtml(bytes);
  } catch (err) {
    throw new ExtractionError(`html: ${file} could not be decoded (${(err as Error).message})`, { cause: err });
  }
  if (!/<[a-z!][^>]*>/i.test(html)) throw new ExtractionError(`html: ${file} contains no HTML markup`);
  return htmlToExtracted(html, 'html', { article: true });
}
