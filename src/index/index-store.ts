import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { IndexCorruptError, IndexMissingError, StateError } from '../errors.ts';
import { PGVECTOR_TABLE } from './vector-search.ts';

/**
 * The index on disk. Each build is written whole into its own folder under
 * `<STATE_DIR>/index/`, then the `CURRENT` pointer is replaced by rename: a crash
 * mid-ingest leaves the previous complete build in use. Everything read back is
 * parsed with zod; a format version guards against reading another layout.
 */

/**
 * 2: the chunk table as columns and a texts file, BM25 postings compressed in a binary file, no separate vectors file.
 * 3: one HNSW file per partition of districts (vector-partitions.ts), listed in `vectorStore`.
 * 4: the HNSW files may hold folded vectors, the full ones in half precision beside them
 *    (`vectorStore.navigation`). A build of format 3 still loads: it has no navigation.
 */
export const INDEX_FORMAT_VERSION = 4;
const PREVIOUS_FORMAT_VERSION = 3;
const READABLE_FORMAT_VERSIONS: readonly unknown[] = [PREVIOUS_FORMAT_VERSION, INDEX_FORMAT_VERSION];

const indicatorSchema = z.object({
  file: z.string(),
  district: z.string(),
  table: z.string(),
  seq: z.number().int().optional(),
  name: z.string(),
  unit: z.string().optional(),
  values: z.array(z.object({ column: z.string(), value: z.string() })),
  attribute: z.string().optional(),
  notes: z.array(z.string()),
  start: z.number().int(),
  end: z.number().int(),
  cells: z.array(z.string()),
});

export const storedChunkSchema = z.object({
  id: z.string(),
  file: z.string(),
  section: z.array(z.string()),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  text: z.string(),
  quote: z.string(),
  kind: z.enum(['text', 'table-row']),
  /** Sub-spans a quote may not cross (only present when the chunk has a gap). */
  spans: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
  indicator: indicatorSchema.optional(),
});
export type StoredChunk = z.infer<typeof storedChunkSchema>;

export const documentMetaSchema = z.object({
  file: z.string(),
  title: z.string(),
  district: z.string(),
  year: z.number().int(),
  years: z.array(z.number().int()),
  kind: z.string(),
  issuer: z.string().optional(),
  format: z.string().optional(),
  added: z.string().optional(),
});

const manifestSchema = z.object({
  formatVersion: z.union([z.literal(PREVIOUS_FORMAT_VERSION), z.literal(INDEX_FORMAT_VERSION)]),
  builtAt: z.string(),
  embedder: z.object({ id: z.string(), model: z.string(), dimensions: z.number().int().positive() }),
  chunking: z.object({ chunkSize: z.number().int(), chunkOverlap: z.number().int() }),
  documents: z.array(documentMetaSchema.extend({ checksum: z.string(), chunkCount: z.number().int().nonnegative() })),
  chunkCount: z.number().int().nonnegative(),
  /** The build's files but the vectors' (see vectorStore). */
  files: z.object({
    chunks: z.string(),
    chunkColumns: z.string(),
    texts: z.string(),
    lexical: z.string(),
    embedder: z.string().optional(),
    /** The corpus as jieba words (corpus-words.ts); earlier builds lack it. */
    corpusWords: z.string().optional(),
  }),
  /** Which backend searches the vectors, and where they are. */
  vectorStore: z.discriminatedUnion('backend', [
    /** One HNSW index file per partition: its districts and its number of vectors. */
    z.object({
      backend: z.literal('hnswlib'),
      partitions: z.array(z.object({ file: z.string(), districts: z.array(z.string()), count: z.number().int().nonnegative() })),
      /** Two-stage search (vector-store.ts): the HNSW files hold the vectors folded to `dimensions`; `vectors`, the full ones in half precision. */
      navigation: z.object({ dimensions: z.number().int().positive(), vectors: z.string() }).optional(),
    }),
    /** `database` names it for messages (postgres://user@host:port/name, never a password). */
    z.object({ backend: z.literal('pgvector'), table: z.string().regex(PGVECTOR_TABLE), database: z.string() }),
  ]),
  /**
   * sha256 of each file of the build (buildFiles), checked before anything is loaded: hnswlib trusts its
   * file, and a damaged one can crash the process (SIGSEGV) or serve wrong neighbours.
   * Absent in builds written before checksums were recorded (then nothing is checked).
   */
  checksums: z.record(z.string(), z.string()).optional(),
});
export type IndexManifest = z.infer<typeof manifestSchema>;
export type IndexedDocumentMeta = IndexManifest['documents'][number];

export type BuildFileNames = IndexManifest['files'];

/** Every file of a build but its manifest: `files` and the vector partitions' files. */
export function buildFiles(manifest: Pick<IndexManifest, 'files' | 'vectorStore'>): string[] {
  const store = manifest.vectorStore;
  const vectorFiles = store.backend === 'hnswlib' ? [...store.partitions.map((p) => p.file), ...(store.navigation ? [store.navigation.vectors] : [])] : [];
  return [...Object.values(manifest.files), ...vectorFiles];
}

export function indexRoot(stateDir: string): string {
  return path.join(stateDir, 'index');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** sha256 of a file read through `buffer`, one piece at a time. */
async function fileChecksum(file: string, buffer: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

const REBUILD = 'run `npm run ingest -- --rebuild` (or just `npm start`, which rebuilds it)';

/**
 * Files the caller does not parse are read whole for their checksum up to this size (one
 * read instead of many); larger ones, such as the HNSW graphs of a big index, go through
 * the hash one after another in pieces of one buffer. (Streaming them all at once in a
 * read stream's 64 KB chunks left 20 to 45 MB of freed memory with the process, varying
 * from start to start: a tenth of a 100,000-passage index's resident size.)
 */
const READ_WHOLE_MAX = 8 * 2 ** 20;
const HASH_BUFFER_BYTES = 2 ** 20;

/**
 * Checks every file of a build against the manifest's checksums: a missing or damaged
 * file is an IndexCorruptError naming it (ensureIndex then rebuilds from the corpus).
 * The files named in `keep` (names in `manifest.files`), which the caller parses whole
 * anyway, are read once: their bytes are returned, checksummed, for the caller to parse
 * (a stream through the hash and a second read took a cold start 15 ms for 5 MB). None
 * are returned when the manifest has no checksums.
 */
export async function verifyBuildFiles(dir: string, manifest: IndexManifest, keep: readonly string[] = []): Promise<Map<string, Buffer>> {
  const read = new Map<string, Buffer>();
  const checksums = manifest.checksums;
  if (!checksums) return read;
  const large: string[] = [];
  const check = (name: string, got: string) => {
    if (got !== checksums[name]) throw new IndexCorruptError(`index: ${path.join(dir, name)} is damaged (its checksum differs from the manifest's); ${REBUILD}`);
  };
  const unreadable = (name: string, err: unknown) =>
    new IndexCorruptError(`index: ${path.join(dir, name)} is missing or unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'}); ${REBUILD}`, { cause: err });
  await Promise.all(
    buildFiles(manifest).map(async (name) => {
      let bytes: Buffer;
      try {
        if (!keep.includes(name) && (await fs.stat(path.join(dir, name))).size > READ_WHOLE_MAX) {
          large.push(name);
          return;
        }
        bytes = await fs.readFile(path.join(dir, name));
      } catch (err) {
        throw unreadable(name, err);
      }
      if (keep.includes(name)) read.set(name, bytes);
      check(name, sha256(bytes));
    }),
  );
  const buffer = large.length > 0 ? Buffer.allocUnsafe(HASH_BUFFER_BYTES) : undefined;
  for (const name of large) {
    let got: string;
    try {
      got = await fileChecksum(path.join(dir, name), buffer!);
    } catch (err) {
      throw unreadable(name, err);
    }
    check(name, got);
  }
  return read;
}

/** `<STATE_DIR>/index` as a folder, or a StateError when something else is in its place. */
async function ensureIndexRoot(root: string): Promise<void> {
  try {
    await fs.mkdir(root, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new StateError(`index: ${root} is not a folder; move that file away (the index is rebuilt there at the next start)`, { cause: err });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new StateError(`index: cannot write ${root} (${code}); give this user write access to STATE_DIR or point STATE_DIR elsewhere`, { cause: err });
    throw err;
  }
}

/**
 * A new build folder to write a build's files into. It stays incomplete (and unused) until
 * commitBuild writes its manifest; a build that fails leaves it to be removed by the next.
 */
export async function createBuildDir(stateDir: string): Promise<string> {
  const root = indexRoot(stateDir);
  await ensureIndexRoot(root);
  const dir = path.join(root, `build-${Date.now()}-${process.pid}`);
  await fs.mkdir(dir);
  return dir;
}

/** Checksums a build's files, writes its manifest, switches CURRENT to it, then removes older builds. */
export async function commitBuild(stateDir: string, dir: string, build: Omit<IndexManifest, 'formatVersion' | 'checksums'>): Promise<void> {
  const root = indexRoot(stateDir);
  const checksums: Record<string, string> = {};
  const buffer = Buffer.allocUnsafe(HASH_BUFFER_BYTES);
  for (const file of buildFiles(build)) checksums[file] = await fileChecksum(path.join(dir, file), buffer);
  const manifest: IndexManifest = { formatVersion: INDEX_FORMAT_VERSION, ...build, checksums };
  // The manifest is written last inside the build: a build folder without one is incomplete.
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const name = path.basename(dir);
  await writeAtomic(path.join(root, 'CURRENT'), name);
  for (const entry of await fs.readdir(root)) {
    if (entry.startsWith('build-') && entry !== name) await fs.rm(path.join(root, entry), { recursive: true, force: true });
  }
}

/** The folder of the current build, or IndexMissingError when none was ever completed. */
export async function currentBuildDir(stateDir: string): Promise<string> {
  const root = indexRoot(stateDir);
  let name: string;
  try {
    name = (await fs.readFile(path.join(root, 'CURRENT'), 'utf8')).trim();
  } catch {
    throw new IndexMissingError(`index: no index in ${root}; run \`npm run ingest\``);
  }
  if (!/^build-[\w-]+$/.test(name)) throw new IndexCorruptError(`index: ${path.join(root, 'CURRENT')} is damaged; run \`npm run ingest -- --rebuild\``);
  return path.join(root, name);
}

export async function readManifest(dir: string): Promise<IndexManifest> {
  let raw: string;
  try {
    raw = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
  } catch (err) {
    throw new IndexCorruptError(`index: manifest missing in ${dir}; run \`npm run ingest -- --rebuild\``, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new IndexCorruptError(`index: manifest in ${dir} is not valid JSON; run \`npm run ingest -- --rebuild\``, { cause: err });
  }
  const version = (json as { formatVersion?: unknown })?.formatVersion;
  if (!READABLE_FORMAT_VERSIONS.includes(version))
    throw new IndexCorruptError(`index: format version ${String(version)} in ${dir}, this program reads ${READABLE_FORMAT_VERSIONS.join(' and ')}; run \`npm run ingest -- --rebuild\``);
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new IndexCorruptError(`index: manifest in ${dir} is invalid (${parsed.error.issues[0]?.path.join('.')}); run \`npm run ingest -- --rebuild\``);
  return parsed.data;
}

/** A build file's bytes, or IndexCorruptError naming it. */
export async function readBuildFile(file: string, what: string): Promise<Buffer> {
  return fs.readFile(file).catch((err: unknown) => {
    throw new IndexCorruptError(`index: ${what} (${file}) is missing or unreadable; ${REBUILD}`, { cause: err });
  });
}
