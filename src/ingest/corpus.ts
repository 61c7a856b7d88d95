import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CorpusError } from '../errors.ts';

/**
 * The corpus folder: documents plus a manifest.json describing each one. The manifest is the only
 * place metadata comes from (district, years, kind), so a document without an entry is refused
 * rather than guessed at.
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
  kind: '五年规划' | '政府工作报告' | '计划报告';
  /** Issuing body where the text gives it. */
  issuer?: string;
}

export interface SourceDocument {
  meta: DocumentMeta;
  raw: string;
  /** sha256 hex of the raw bytes. */
  checksum: string;
}

export const MANIFEST_FILE = 'manifest.json';
const DOCUMENT_EXTENSIONS = ['.txt', '.md'];

const year = z.number().int().min(1949).max(2100);

const documentSchema = z.object({
  file: z
    .string()
    .min(1)
    .refine((f) => path.basename(f) === f, 'must be a plain file name inside the corpus folder')
    .refine((f) => DOCUMENT_EXTENSIONS.includes(path.extname(f).toLowerCase()), 'must end in .txt or .md'),
  title: z.string().trim().min(1),
  district: z.string().trim().min(1),
  year,
  years: z.array(year).min(1),
  kind: z.enum(['五年规划', '政府工作报告', '计划报告']),
  issuer: z.string().trim().min(1).optional(),
});

const manifestSchema = z.object({
  version: z.literal(1),
  documents: z.array(documentSchema).min(1),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${where || '(root)'}: ${issue.message}`;
}

async function readManifest(dir: string): Promise<DocumentMeta[]> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CorpusError(`corpus: cannot read ${file}; every corpus folder needs a ${MANIFEST_FILE} listing its documents`, { cause: err });
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
  return parsed.data.documents.map((d) => ({
    file: d.file,
    title: d.title,
    district: d.district,
    year: d.year,
    years: [...d.years],
    kind: d.kind,
    ...(d.issuer !== undefined ? { issuer: d.issuer } : {}),
  }));
}

/**
 * Reads <dir>/manifest.json and every document it lists, in manifest order.
 * A .txt/.md in the folder without a manifest entry, or an entry without its file, is an error.
 */
export async function loadCorpus(dir: string): Promise<SourceDocument[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CorpusError(`corpus: cannot read the corpus folder ${dir}`, { cause: err });
  }
  const metas = await readManifest(dir);
  const listed = new Set(metas.map((m) => m.file));
  const unlisted = names.filter((n) => DOCUMENT_EXTENSIONS.includes(path.extname(n).toLowerCase()) && !listed.has(n)).sort();
  if (unlisted.length > 0) {
    throw new CorpusError(
      `corpus: ${unlisted.join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} in ${dir} but not in ${MANIFEST_FILE}; ` +
        'add a manifest entry (file, title, district, year, years, kind) for each document',
    );
  }
  const present = new Set(names);
  const missing = metas.filter((m) => !present.has(m.file)).map((m) => m.file);
  if (missing.length > 0) throw new CorpusError(`corpus: ${MANIFEST_FILE} lists ${missing.join(', ')} but no such file is in ${dir}`);

  return Promise.all(
    metas.map(async (meta) => {
      const bytes = await readFile(path.join(dir, meta.file));
      return { meta, raw: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}
