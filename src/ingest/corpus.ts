import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { CorpusError, ExtractionError } from '../errors.ts';
import { DOCUMENT_EXTENSIONS, extractDocument, formatOf } from './extract.ts';
import type { DocumentFormat, ExtractedDocument } from './extracted-text.ts';
import { loadExtracted, storeExtracted } from './extracted-store.ts';
import { DOCUMENT_KINDS, inferMetadata, type DocumentKind } from './metadata.ts';

/**
 * The corpus folder: documents in any supported format, and optionally a manifest.json
 * whose entries override what is inferred from each document's text (a document needs no
 * entry when its text names its district and year). A file that cannot be read or
 * described is skipped with one line naming it and why; the rest still load.
 */

export interface DocumentMeta {
  /** Corpus file name, e.g. 'wuqing-14th-five-year-plan.txt'. */
  file: string;
  title: string;
  district: string;
  /** The year the document is about / was issued. */
  year: number;
  /** All years the document covers, e.g. 2021…2025 for a 十四五 plan. */
  years: number[];
  kind: DocumentKind;
  /** Issuing body where the text gives it. */
  issuer?: string;
  /** The file's format (from its extension). */
  format?: DocumentFormat;
  /** When the document was added (ISO date), from the manifest or the file's time. */
  added?: string;
}

export interface SourceDocument {
  meta: DocumentMeta;
  /** The extracted text (for .txt the file itself): what the index is built from and quotes are checked against. */
  raw: string;
  /** sha256 hex of the file's bytes. */
  checksum: string;
  extracted: ExtractedDocument;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface Corpus {
  documents: SourceDocument[];
  skipped: SkippedFile[];
}

export const MANIFEST_FILE = 'manifest.json';
/** Largest document read from the folder (a plan PDF is a few MB; 100 MB is a mistake or an attack). */
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;
export const MANIFEST_VERSION = 1;

const year = z.number().int().min(1949).max(2100);

const entrySchema = z.object({
  file: z
    .string()
    .min(1)
    .refine((f) => path.basename(f) === f, 'must be a plain file name inside the corpus folder')
    .refine((f) => formatOf(f) !== undefined, `must end in ${DOCUMENT_EXTENSIONS.join(', ')}`),
  title: z.string().trim().min(1).optional(),
  district: z.string().trim().min(1).optional(),
  year: year.optional(),
  years: z.array(year).min(1).optional(),
  kind: z.enum(DOCUMENT_KINDS).optional(),
  issuer: z.string().trim().min(1).optional(),
  added: z.string().trim().min(1).optional(),
});
export type ManifestEntry = z.infer<typeof entrySchema>;

const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  documents: z.array(entrySchema),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${where || '(root)'}: ${issue.message}`;
}

/** The manifest's entries; none when the folder has no manifest. */
export async function readManifest(dir: string): Promise<ManifestEntry[]> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CorpusError(`corpus: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix its permissions or remove it`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CorpusError(`corpus: ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${describeIssue(i)}`);
    throw new CorpusError(`corpus: ${file} is invalid:\n${lines.join('\n')}`);
  }
  const seen = new Set<string>();
  for (const d of parsed.data.documents) {
    if (seen.has(d.file)) throw new CorpusError(`corpus: ${file} lists ${d.file} twice`);
    seen.add(d.file);
  }
  return parsed.data.documents;
}

/** Replaces the manifest whole (temporary file, then rename), keeping entries in order. */
export async function writeManifest(dir: string, entries: readonly ManifestEntry[]): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  await mkdir(dir, { recursive: true });
  await writeFile(tmp, `${JSON.stringify({ version: MANIFEST_VERSION, documents: entries }, null, 2)}\n`);
  await rename(tmp, file);
}

/**
 * Inferred metadata under the manifest's overrides; a reason instead when the document
 * still lacks a district or a year.
 */
export function describeDocument(file: string, extracted: ExtractedDocument, entry: ManifestEntry | undefined, added?: string): DocumentMeta | { reason: string } {
  const inferred = inferMetadata(extracted.text, extracted.titleHint);
  const title = entry?.title ?? inferred.title ?? path.basename(file, path.extname(file));
  const district = entry?.district ?? inferred.district;
  const docYear = entry?.year ?? inferred.year ?? entry?.years?.[entry.years.length - 1];
  const missing = [...(district ? [] : ['district']), ...(docYear !== undefined ? [] : ['year'])];
  if (missing.length > 0) return { reason: `its text does not say its ${missing.join(' or ')}; add them in ${MANIFEST_FILE} ({"file": "${file}", ${missing.map((m) => `"${m}": …`).join(', ')}})` };
  const years = [...new Set([...(entry?.years ?? inferred.years ?? []), docYear!])].sort((a, b) => a - b);
  const issuer = entry?.issuer ?? inferred.issuer;
  return {
    file,
    title,
    district: district!,
    year: docYear!,
    years,
    kind: entry?.kind ?? inferred.kind,
    ...(issuer ? { issuer } : {}),
    format: extracted.format,
    ...((entry?.added ?? added) ? { added: entry?.added ?? added } : {}),
  };
}

export interface ReadCorpusOptions {
  /** Where extracted texts are stored (and reused while a file is unchanged). */
  extractedDir?: string;
}

/**
 * Reads every document in `dir`: manifest entries first in manifest order, then the other
 * documents by name. Throws CorpusError only when the folder or the manifest itself is unusable.
 */
export async function readCorpus(dir: string, options: ReadCorpusOptions = {}): Promise<Corpus> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CorpusError(`corpus: cannot read the corpus folder ${dir}`, { cause: err });
  }
  const entries = await readManifest(dir);
  const byFile = new Map(entries.map((e) => [e.file, e]));
  const present = new Set(names);
  const skipped: SkippedFile[] = entries.filter((e) => !present.has(e.file)).map((e) => ({ file: e.file, reason: `${MANIFEST_FILE} lists it but no such file is in ${dir}` }));
  const candidates = names.filter((n) => n !== MANIFEST_FILE && !n.startsWith('.') && !n.includes('.tmp-'));
  const unlisted = candidates.filter((n) => !byFile.has(n)).sort();
  const ordered = [...entries.map((e) => e.file).filter((f) => present.has(f)), ...unlisted];

  const documents: SourceDocument[] = [];
  for (const file of ordered) {
    const full = path.join(dir, file);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (!formatOf(file)) {
      skipped.push({ file, reason: `unsupported format; use ${DOCUMENT_EXTENSIONS.join(', ')}` });
      continue;
    }
    if (info.size > MAX_DOCUMENT_BYTES) {
      skipped.push({ file, reason: `${(info.size / 1024 / 1024).toFixed(0)} MB is more than the ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB a document may have` });
      continue;
    }
    try {
      const bytes = await readFile(full);
      const checksum = createHash('sha256').update(bytes).digest('hex');
      let extracted = options.extractedDir ? await loadExtracted(options.extractedDir, checksum) : undefined;
      if (!extracted) {
        extracted = await extractDocument(bytes, file);
        if (options.extractedDir) await storeExtracted(options.extractedDir, checksum, extracted);
      }
      const meta = describeDocument(file, extracted, byFile.get(file), info.mtime.toISOString().slice(0, 10));
      if ('reason' in meta) {
        skipped.push({ file, reason: meta.reason });
        continue;
      }
      documents.push({ meta, raw: extracted.text, checksum, extracted });
    } catch (err) {
      if (!(err instanceof ExtractionError)) throw err;
      skipped.push({ file, reason: err.message });
    }
  }
  return { documents, skipped };
}

/** The readable documents of `dir` (see readCorpus for the skipped ones). */
export async function loadCorpus(dir: string, options: ReadCorpusOptions = {}): Promise<SourceDocument[]> {
  return (await readCorpus(dir, options)).documents;
}
