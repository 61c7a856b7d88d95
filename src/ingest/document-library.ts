import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { CorpusError } from '../errors.ts';
import { ingestDocument, type ChunkingOptions } from './chunk.ts';
import { MANIFEST_FILE, readManifest, writeManifest, type DocumentMeta, type ManifestEntry } from './corpus.ts';
import { extractDocument, formatOf } from './extract.ts';
import { extractedDir, readExtractedText, storeExtracted } from './extracted-store.ts';
import { DOCUMENT_KINDS, inferMetadata, type DocumentKind } from './metadata.ts';

/**
 * Documents added and removed while the bot runs. An upload is staged on disk first
 * (`<state>/uploads/<id>/`: the file and what was inferred from it), so it survives a
 * restart while the admin reviews it; confirming writes the manifest entry (the reviewed
 * metadata) and then the file into the corpus folder, each by rename. Removing moves the
 * file to `<state>/removed/`, nothing is deleted.
 */

export interface UploadDescription {
  title?: string;
  district?: string;
  year?: number;
  years?: number[];
  kind: DocumentKind;
  issuer?: string;
}

export type EditableField = 'title' | 'district' | 'year';

const year = z.number().int().min(1949).max(2100);
const uploadSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  fileName: z.string().min(1),
  chatId: z.number().int(),
  userId: z.number().int(),
  state: z.enum(['pending', 'ingesting', 'done', 'cancelled']),
  editing: z.enum(['title', 'district', 'year']).optional(),
  /** When the field edit was asked for; an edit left open expires (the next text is a question again). */
  editingSince: z.string().optional(),
  meta: z.object({
    title: z.string().optional(),
    district: z.string().optional(),
    year: year.optional(),
    years: z.array(year).optional(),
    kind: z.enum(DOCUMENT_KINDS),
    issuer: z.string().optional(),
  }),
  counts: z.object({ passages: z.number().int(), tables: z.number().int(), indicators: z.number().int(), characters: z.number().int(), pages: z.number().int().optional() }),
  format: z.enum(['pdf', 'docx', 'html', 'md', 'txt']),
  checksum: z.string(),
  createdAt: z.string(),
  corpusFile: z.string().optional(),
});
export type StagedUpload = z.infer<typeof uploadSchema>;

const UPLOAD_FILE = 'upload.json';
/** How long a "send the new value" prompt waits for the value. */
export const EDIT_WINDOW_MS = 10 * 60_000;
const SOURCE_FILE = 'source';

/** A plain, safe corpus file name from what the user's file was called. */
export function safeFileName(name: string): string {
  const ext = path.extname(name).toLowerCase();
  const stem = path
    .basename(name, path.extname(name))
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[.-]+|-+$/g, '')
    .slice(0, 80);
  return `${stem || 'document'}${ext}`;
}

export class DocumentLibrary {
  private readonly uploadsDir: string;
  private readonly removedDir: string;
  private changing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly corpusDir: string,
    private readonly stateDir: string,
    private readonly chunking: ChunkingOptions,
  ) {
    this.uploadsDir = path.join(stateDir, 'uploads');
    this.removedDir = path.join(stateDir, 'removed');
  }

  /** Runs corpus changes (add, remove, and the index update after each) one at a time. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.changing.then(work, work);
    this.changing = run.catch(() => {});
    return run;
  }

  /**
   * Reads an uploaded file and stages it with what its text says about it. Throws
   * ExtractionError (one line naming the file) when it cannot be read.
   */
  async stage(bytes: Uint8Array, fileName: string, owner: { chatId: number; userId: number }): Promise<StagedUpload> {
    if (!formatOf(fileName)) throw new CorpusError(`upload: ${fileName}: unsupported format`);
    const extracted = await extractDocument(bytes, fileName);
    const checksum = createHash('sha256').update(bytes).digest('hex');
    await storeExtracted(extractedDir(this.stateDir), checksum, extracted);
    const inferred = inferMetadata(extracted.text, extracted.titleHint);
    // Counting needs a complete description; the placeholders only label the passages.
    const probe: DocumentMeta = { file: fileName, title: inferred.title ?? fileName, district: inferred.district ?? '', year: inferred.year ?? 0, years: inferred.years ?? [], kind: inferred.kind };
    const doc = await ingestDocument({ meta: probe, raw: extracted.text, checksum, extracted }, this.chunking);
    const upload: StagedUpload = {
      id: randomBytes(6).toString('hex'),
      fileName,
      chatId: owner.chatId,
      userId: owner.userId,
      state: 'pending',
      meta: inferred,
      counts: {
        passages: doc.chunks.length,
        tables: doc.tables.length,
        indicators: doc.tables.reduce((n, t) => n + t.rows.length, 0),
        characters: extracted.text.length,
        ...(extracted.pages !== undefined ? { pages: extracted.pages } : {}),
      },
      format: extracted.format,
      checksum,
      createdAt: new Date().toISOString(),
    };
    const dir = path.join(this.uploadsDir, upload.id);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, SOURCE_FILE), bytes);
    await this.save(upload);
    return upload;
  }

  async get(id: string): Promise<StagedUpload | undefined> {
    if (!/^[0-9a-f]{12}$/.test(id)) return undefined;
    try {
      return uploadSchema.parse(JSON.parse(await readFile(path.join(this.uploadsDir, id, UPLOAD_FILE), 'utf8')));
    } catch {
      return undefined;
    }
  }

  async save(upload: StagedUpload): Promise<void> {
    const file = path.join(this.uploadsDir, upload.id, UPLOAD_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(upload, null, 2));
    await rename(`${file}.tmp`, file);
  }

  /** The upload this user asked, in the last EDIT_WINDOW_MS in this chat, to correct a field of. */
  async editing(chatId: number, userId: number, now = Date.now()): Promise<StagedUpload | undefined> {
    const ids = await readdir(this.uploadsDir).catch(() => [] as string[]);
    for (const id of ids) {
      const u = await this.get(id);
      const fresh = now - Date.parse(u?.editingSince ?? '') < EDIT_WINDOW_MS;
      if (u && u.state === 'pending' && u.editing && fresh && u.chatId === chatId && u.userId === userId) return u;
    }
    return undefined;
  }

  /**
   * Puts a reviewed upload into the corpus: the manifest entry first (so a crash before
   * the file lands leaves an entry that is skipped, never a file described wrongly), then
   * the file. Returns the corpus file name.
   */
  async addToCorpus(upload: StagedUpload): Promise<string> {
    const entries = await readManifest(this.corpusDir);
    const taken = new Set([...entries.map((e) => e.file), ...(await readdir(this.corpusDir).catch(() => [] as string[]))]);
    const base = safeFileName(upload.fileName);
    let file = base;
    for (let n = 2; taken.has(file); n++) file = `${path.basename(base, path.extname(base))}-${n}${path.extname(base)}`;
    const m = upload.meta;
    const entry: ManifestEntry = {
      file,
      ...(m.title ? { title: m.title } : {}),
      ...(m.district ? { district: m.district } : {}),
      ...(m.year !== undefined ? { year: m.year } : {}),
      ...(m.years && m.years.length > 0 ? { years: m.years } : {}),
      kind: m.kind,
      ...(m.issuer ? { issuer: m.issuer } : {}),
      added: new Date().toISOString().slice(0, 10),
    };
    await writeManifest(this.corpusDir, [...entries, entry]);
    const target = path.join(this.corpusDir, file);
    await writeFile(`${target}.tmp-${process.pid}`, await readFile(path.join(this.uploadsDir, upload.id, SOURCE_FILE)));
    await rename(`${target}.tmp-${process.pid}`, target);
    return file;
  }

  /**
   * Takes a document out of the corpus: its file moves to the state folder, its manifest
   * entry goes. Returns how to put both back (when the index cannot be updated).
   */
  async removeFromCorpus(file: string): Promise<() => Promise<void>> {
    if (path.basename(file) !== file || file === MANIFEST_FILE) throw new CorpusError(`corpus: ${file} is not a corpus document`);
    await mkdir(this.removedDir, { recursive: true });
    const parked = path.join(this.removedDir, `${Date.now()}-${file}`);
    const entries = await readManifest(this.corpusDir);
    await rename(path.join(this.corpusDir, file), parked);
    if (entries.some((e) => e.file === file)) await writeManifest(this.corpusDir, entries.filter((e) => e.file !== file));
    return async () => {
      await rename(parked, path.join(this.corpusDir, file));
      const now = await readManifest(this.corpusDir);
      const entry = entries.find((e) => e.file === file);
      if (entry && !now.some((e) => e.file === file)) await writeManifest(this.corpusDir, [...now, entry]);
    };
  }

  /** Undoes addToCorpus when the index could not take the document. */
  async withdraw(upload: StagedUpload): Promise<void> {
    if (!upload.corpusFile) return;
    await rm(path.join(this.corpusDir, upload.corpusFile), { force: true });
    const entries = await readManifest(this.corpusDir);
    await writeManifest(this.corpusDir, entries.filter((e) => e.file !== upload.corpusFile));
  }

  /**
   * After a restart: an upload whose indexing was cut short is done when its file made it
   * into the index (the start-up build picks up a changed corpus), else it is taken back
   * out of the corpus and waits for review again. Returns the uploads it settled.
   */
  async settleInterrupted(indexedFiles: ReadonlySet<string>): Promise<StagedUpload[]> {
    const settled: StagedUpload[] = [];
    for (const id of await readdir(this.uploadsDir).catch(() => [] as string[])) {
      const upload = await this.get(id);
      if (upload?.state !== 'ingesting') continue;
      if (upload.corpusFile && indexedFiles.has(upload.corpusFile)) upload.state = 'done';
      else {
        await this.withdraw(upload);
        delete upload.corpusFile;
        upload.state = 'pending';
      }
      await this.save(upload);
      settled.push(upload);
    }
    return settled;
  }

  /** The text a document's passages and quotes come from, by the document's checksum. */
  extractedText(checksum: string): Promise<string | undefined> {
    return readExtractedText(extractedDir(this.stateDir), checksum);
  }

  async discard(upload: StagedUpload): Promise<void> {
    await rm(path.join(this.uploadsDir, upload.id, SOURCE_FILE), { force: true });
  }
}
