import mammoth from 'mammoth';
import { ExtractionError } from '../errors.ts';
import type { ExtractedDocument } from './extracted-text.ts';
import { htmlToExtracted } from './html-extract.ts';

/**
 * Word documents (owner of mammoth). mammoth renders paragraphs, headings and tables
 * (merged cells as colspan/rowspan) to HTML; the HTML walker turns that into text and grids.
 */
export async function extractDocx(bytes: Uint8Array, file: string): Promise<ExtractedDocument> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }, { ignoreEmptyParagraphs: true })).value;
  } catch (err) {
    throw new ExtractionError(`docx: ${file} is not a readable Word document (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  return htmlToExtracted(html, 'docx', { article: false });
}
