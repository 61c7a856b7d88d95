import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { EXTRACTOR_VERSION } from './extract.ts';
import type { ExtractedDocument } from './extracted-text.ts';

/**
 * Extracted texts on disk, one file per source checksum and extractor version: the text
 * each index build was made from, kept so quotes can be checked against it and a user can
 * open it, and so an unchanged PDF is not read again at every start. A file is written
 * whole and renamed into place; one that does not parse is ignored (and extraction redone).
 */

const span = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });
const storedSchema = z.object({
  version: z.literal(EXTRACTOR_VERSION),
  format: z.enum(['pdf', 'docx', 'html', 'md', 'txt']),
  text: z.string(),
  tables: z.array(z.object({ title: span.optional(), header: z.array(span.nullable()), rows: z.array(z.array(span.nullable())) })),
  paragraphStarts: z.array(z.number().int().nonnegative()),
  titleHint: z.string().optional(),
  pages: z.number().int().optional(),
});

/** The folder of extracted texts inside the state folder. */
export function extractedDir(stateDir: string): string {
  return path.join(stateDir, 'extracted');
}

export function extractedFile(dir: string, checksum: string): string {
  return path.join(dir, `${checksum}.v${EXTRACTOR_VERSION}.json`);
}

export async function loadExtracted(dir: string, checksum: string): Promise<ExtractedDocument | undefined> {
  try {
    const parsed = storedSchema.parse(JSON.parse(await readFile(extractedFile(dir, checksum), 'utf8')));
    const tables = parsed.tables.map((t) => ({
      ...(t.title ? { title: t.title } : {}),
      header: t.header.map((c) => c ?? undefined),
      rows: t.rows.map((r) => r.map((c) => c ?? undefined)),
    }));
    return {
      format: parsed.format,
      text: parsed.text,
      tables,
      paragraphStarts: parsed.paragraphStarts,
      ...(parsed.titleHint !== undefined ? { titleHint: parsed.titleHint } : {}),
      ...(parsed.pages !== undefined ? { pages: parsed.pages } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function storeExtracted(dir: string, checksum: string, doc: ExtractedDocument): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = extractedFile(dir, checksum);
  const tmp = `${file}.tmp-${process.pid}`;
  const tables = doc.tables.map((t) => ({ ...t, header: t.header.map((c) => c ?? null), rows: t.rows.map((r) => r.map((c) => c ?? null)) }));
  await writeFile(tmp, JSON.stringify({ version: EXTRACTOR_VERSION, ...doc, tables }));
  await rename(tmp, file);
}

/** The stored extracted text of a document, by its checksum (undefined when not stored). */
export async function readExtractedText(dir: string, checksum: string): Promise<string | undefined> {
  return (await loadExtracted(dir, checksum))?.text;
}
