import path from 'node:path';
import { ExtractionError } from '../errors.ts';
import type { DocumentFormat, ExtractedDocument } from './extracted-text.ts';
import { extractMarkdown } from './markdown-extract.ts';

/** The formats a document may come in, by file extension, and the one entry point that reads them. */

const FORMATS: Record<string, DocumentFormat> = { '.pdf': 'pdf', '.docx': 'docx', '.html': 'html', '.htm': 'html', '.md': 'md', '.markdown': 'md', '.txt': 'txt' };

export const DOCUMENT_EXTENSIONS = Object.keys(FORMATS);

/** Bumped whenever extraction changes what it produces, so stored extractions are redone. */
export const EXTRACTOR_VERSION = 1;

export function formatOf(file: string): DocumentFormat | undefined {
  return FORMATS[path.extname(file).toLowerCase()];
}

function decodeUtf8Text(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\ufeff/, '');
  } catch {
    // Text saved by Chinese Windows tools is often GB18030.
    const text = new TextDecoder('gb18030').decode(bytes);
    if (text.includes('\ufffd')) throw new ExtractionError(`text: ${file} is neither UTF-8 nor GB18030 text`);
    return text;
  }
}

/** Reads a document's text and tables; ExtractionError (one line naming the file) when it cannot. */
export async function extractDocument(bytes: Uint8Array, file: string): Promise<ExtractedDocument> {
  const format = formatOf(file);
  if (!format) throw new ExtractionError(`extract: ${file}: unsupported format; use .pdf, .docx, .html/.htm, .md or .txt`);
  if (bytes.length === 0) throw new ExtractionError(`extract: ${file} is empty`);
  let doc: ExtractedDocument;
  // The PDF, Word and HTML libraries load on first use: starting the bot or a CLI over an
  // index that is up to date never pays for them.
  if (format === 'pdf') doc = await (await import('./pdf-extract.ts')).extractPdf(bytes, file);
  else if (format === 'docx') doc = await (await import('./docx-extract.ts')).extractDocx(bytes, file);
  else if (format === 'html') doc = (await import('./html-extract.ts')).extractHtml(bytes, file);
  else {
    const text = decodeUtf8Text(bytes, file);
    if (text.includes('\u0000')) throw new ExtractionError(`text: ${file} is a binary file, not text`);
    doc = format === 'md' ? extractMarkdown(text, 'md') : { format, text, tables: [], paragraphStarts: [] };
  }
  if (doc.text.replace(/\s/g, '').length === 0) throw new ExtractionError(`extract: ${file} contains no text`);
  return doc;
}
