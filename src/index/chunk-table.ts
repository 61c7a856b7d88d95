import { closeSync, fstatSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import * as z from 'zod';
import { SectionFile, writeSectionFile } from './binary-file.ts';
import { storedChunkSchema, type IndexedDocumentMeta, type StoredChunk } from './index-store.ts';

/**
 * The chunk table: what the index knows of each passage besides its vector and postings.
 * Kept as columns, not an object per chunk: a file and a section path are numbers into
 * tables of the distinct ones, offsets are 32-bit, the texts lie UTF-8 in one file of
 * their own, and the rare fields (a table row's quote and indicator, a gapped passage's
 * spans) sit in a sparse map. A chunk becomes an object only when asked for (`at`). When
 * the texts are large they are read from their file when a chunk is asked for rather
 * than held: retrieval needs them only for the few passages it re-ranks and shows.
 *
 * Files: chunks.json (file and section tables, the sparse fields), chunks.bin (columns),
 * texts.bin (the texts, one after another).
 */

/** A chunk as retrieval sees it: its stored record, its ordinal (the vector label) and its document. */
export interface IndexedChunk extends StoredChunk {
  ordinal: number;
  doc: IndexedDocumentMeta;
}

export const CHUNK_TABLE_FILES = { meta: 'chunks.json', columns: 'chunks.bin', texts: 'texts.bin' } as const;

const MAGIC = 'PQCHUNKS';
const KINDS = ['text', 'table-row'] as const;
/** Texts up to this size are read whole at load; larger ones are read per chunk from the file. */
const TEXTS_IN_MEMORY_MAX = 32 * 2 ** 20;

const extrasSchema = storedChunkSchema.pick({ id: true, quote: true, spans: true, indicator: true }).partial();
type ChunkExtras = z.infer<typeof extrasSchema>;
const metaSchema = z.object({
  files: z.array(z.string()),
  sections: z.array(z.array(z.string())),
  extras: z.array(z.tuple([z.number().int().nonnegative(), extrasSchema])),
});
const columnsMetaSchema = z.object({ count: z.number().int().nonnegative() });

/** The id chunking gives a passage; stored only when a chunk's id is another. */
const defaultId = (file: string, start: number, end: number) => `${file}#${start}-${end}`;

class GrowableColumn<T extends Uint32Array | Uint8Array | Float64Array> {
  private data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Writes a chunk table into a build folder, one chunk at a time (texts go to disk as they come). */
export class ChunkTableWriter {
  private readonly fileIds = new Map<string, number>();
  private readonly sectionIds = new Map<string, number>();
  private readonly sections: string[][] = [];
  private readonly extras: Array<[number, ChunkExtras]> = [];
  private readonly fileCol = new GrowableColumn((n) => new Uint32Array(n));
  private readonly sectionCol = new GrowableColumn((n) => new Uint32Array(n));
  private readonly startCol = new GrowableColumn((n) => new Uint32Array(n));
  private readonly endCol = new GrowableColumn((n) => new Uint32Array(n));
  private readonly kindCol = new GrowableColumn((n) => new Uint8Array(n));
  private readonly textStarts = new GrowableColumn((n) => new Float64Array(n));
  private readonly textFd: number;
  private pending = Buffer.alloc(1 << 22);
  private pendingBytes = 0;
  private written = 0;

  constructor(private readonly paths: { meta: string; columns: string; texts: string }) {
    this.textFd = openSync(paths.texts, 'w');
    this.textStarts.push(0);
  }

  get count(): number {
    return this.fileCol.length;
  }

  add(chunk: StoredChunk): void {
    const ordinal = this.count;
    let file = this.fileIds.get(chunk.file);
    if (file === undefined) this.fileIds.set(chunk.file, (file = this.fileIds.size));
    const sectionKey = JSON.stringify(chunk.section);
    let section = this.sectionIds.get(sectionKey);
    if (section === undefined) {
      this.sectionIds.set(sectionKey, (section = this.sections.length));
      this.sections.push(chunk.section);
    }
    if (chunk.start > 0xffffffff || chunk.end > 0xffffffff) throw new RangeError(`chunk-table: offsets of ${chunk.id} exceed 32 bits`);
    this.fileCol.push(file);
    this.sectionCol.push(section);
    this.startCol.push(chunk.start);
    this.endCol.push(chunk.end);
    this.kindCol.push(KINDS.indexOf(chunk.kind));
    // Most chunks have none: an object only for those that do (fields in this order, as the file has them).
    let extras: ChunkExtras | undefined;
    if (chunk.id !== defaultId(chunk.file, chunk.start, chunk.end)) (extras ??= {}).id = chunk.id;
    if (chunk.quote !== chunk.text) (extras ??= {}).quote = chunk.quote;
    if (chunk.spans) (extras ??= {}).spans = chunk.spans;
    if (chunk.indicator) (extras ??= {}).indicator = chunk.indicator;
    if (extras) this.extras.push([ordinal, extras]);
    this.appendText(chunk.text);
  }

  private appendText(text: string): void {
    let bytes: number;
    // A UTF-16 unit takes at most 3 bytes of UTF-8: when that fits, the text is encoded once, not measured first.
    if (this.pendingBytes + text.length * 3 <= this.pending.length) bytes = this.pending.write(text, this.pendingBytes, 'utf8');
    else {
      bytes = Buffer.byteLength(text);
      if (this.pendingBytes + bytes > this.pending.length) this.flush();
      if (bytes > this.pending.length) this.pending = Buffer.alloc(bytes * 2);
      this.pending.write(text, this.pendingBytes, 'utf8');
    }
    this.pendingBytes += bytes;
    this.written += bytes;
    this.textStarts.push(this.written);
  }

  private flush(): void {
    for (let done = 0; done < this.pendingBytes; ) done += writeSync(this.textFd, this.pending, done, this.pendingBytes - done);
    this.pendingBytes = 0;
  }

  /** Writes the tables and closes the texts file. */
  finish(): { count: number } {
    this.flush();
    closeSync(this.textFd);
    writeSectionFile(this.paths.columns, MAGIC, { count: this.count }, [
      { name: 'file', data: this.fileCol.view() },
      { name: 'section', data: this.sectionCol.view() },
      { name: 'start', data: this.startCol.view() },
      { name: 'end', data: this.endCol.view() },
      { name: 'kind', data: this.kindCol.view() },
      { name: 'textStarts', data: this.textStarts.view() },
    ]);
    // The small tables are JSON: readable, and parsed with zod on load.
    const meta: z.infer<typeof metaSchema> = { files: [...this.fileIds.keys()], sections: this.sections, extras: this.extras };
    writeFileSync(this.paths.meta, JSON.stringify(meta));
    return { count: this.count };
  }

  /** Closes the texts file without writing the tables (a build that failed). */
  abort(): void {
    try {
      closeSync(this.textFd);
    } catch {
      // already closed
    }
  }
}

/** Where the texts are: all in memory, or read per chunk from their file. */
interface TextSource {
  read(from: number, to: number): string;
}

const closeOnCollect = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

class FileTexts implements TextSource {
  private scratch = Buffer.alloc(4096);
  constructor(readonly fd: number) {}
  read(from: number, to: number): string {
    const n = to - from;
    if (n > this.scratch.length) this.scratch = Buffer.alloc(n * 2);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, this.scratch, got, n - got, from + got);
      if (r === 0) throw new Error(`texts file ends at ${from + got}, expected ${to}`);
      got += r;
    }
    return this.scratch.toString('utf8', 0, n);
  }
}

/** The loaded chunk table. Iterating it, or `at`, gives chunks as objects. */
export class ChunkTable implements Iterable<IndexedChunk> {
  /** A few recently asked-for chunks, so one query asking for the same chunk twice gets the same object. */
  private readonly recent = new Map<number, IndexedChunk>();
  private readonly docs: IndexedDocumentMeta[];

  private constructor(
    readonly files: readonly string[],
    /** The distinct section paths; `sectionId` numbers them. */
    readonly sections: ReadonlyArray<readonly string[]>,
    private readonly extras: ReadonlyMap<number, ChunkExtras>,
    private readonly fileCol: Uint32Array,
    private readonly sectionCol: Uint32Array,
    private readonly startCol: Uint32Array,
    private readonly endCol: Uint32Array,
    private readonly kindCol: Uint8Array,
    private readonly textStarts: Float64Array,
    private readonly texts: TextSource,
    documents: readonly IndexedDocumentMeta[],
  ) {
    const byFile = new Map(documents.map((d) => [d.file, d]));
    this.docs = files.map((f) => {
      const doc = byFile.get(f);
      if (!doc) throw new Error(`a chunk names unknown document ${f}`);
      return doc;
    });
  }

  /**
   * Reads a chunk table written by ChunkTableWriter. Throws a plain Error saying what is
   * inconsistent; the caller names the build and the fix.
   */
  static open(
    paths: { meta: string; columns: string; texts: string },
    read: { meta: string; columns: Uint8Array },
    documents: readonly IndexedDocumentMeta[],
    options: { textsInMemoryMax?: number } = {},
  ): ChunkTable {
    const meta = metaSchema.parse(JSON.parse(read.meta));
    const file = SectionFile.parse(read.columns, MAGIC);
    const { count } = columnsMetaSchema.parse(file.meta);
    const fileCol = file.section('file', Uint32Array, count);
    const sectionCol = file.section('section', Uint32Array, count);
    const kindCol = file.section('kind', Uint8Array, count);
    for (let i = 0; i < count; i++) {
      if (fileCol[i]! >= meta.files.length || sectionCol[i]! >= meta.sections.length || kindCol[i]! >= KINDS.length) throw new Error(`chunk ${i} points outside its tables`);
    }
    const textStarts = file.section('textStarts', Float64Array, count + 1);
    const fd = openSync(paths.texts, 'r');
    let texts: TextSource;
    try {
      const size = fstatSync(fd).size;
      if (textStarts[count] !== size) throw new Error(`texts file has ${size} bytes, the table expects ${textStarts[count]}`);
      if (size <= (options.textsInMemoryMax ?? TEXTS_IN_MEMORY_MAX)) {
        const all = Buffer.alloc(size);
        for (let got = 0; got < size; ) {
          const r = readSync(fd, all, got, size - got, got);
          if (r === 0) throw new Error(`texts file ends at ${got}, expected ${size} bytes`);
          got += r;
        }
        closeSync(fd);
        texts = { read: (from, to) => all.toString('utf8', from, to) };
      } else {
        texts = new FileTexts(fd);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const table = new ChunkTable(
      meta.files,
      meta.sections,
      new Map(meta.extras),
      fileCol,
      sectionCol,
      file.section('start', Uint32Array, count),
      file.section('end', Uint32Array, count),
      kindCol,
      textStarts,
      texts,
      documents,
    );
    if (texts instanceof FileTexts) closeOnCollect.register(table, texts.fd);
    return table;
  }

  get length(): number {
    return this.fileCol.length;
  }

  /** The chunk with this ordinal, as an object (its text read now). */
  at(ordinal: number): IndexedChunk {
    const cached = this.recent.get(ordinal);
    if (cached) return cached;
    if (!(ordinal >= 0 && ordinal < this.length)) throw new RangeError(`chunk-table: no chunk ${ordinal} (the table has ${this.length})`);
    const file = this.files[this.fileCol[ordinal]!]!;
    const start = this.startCol[ordinal]!;
    const end = this.endCol[ordinal]!;
    const text = this.text(ordinal);
    const extras = this.extras.get(ordinal);
    const chunk: IndexedChunk = {
      id: extras?.id ?? defaultId(file, start, end),
      file,
      section: this.sections[this.sectionCol[ordinal]!] as string[],
      start,
      end,
      text,
      quote: extras?.quote ?? text,
      kind: KINDS[this.kindCol[ordinal]!]!,
      ...(extras?.spans ? { spans: extras.spans } : {}),
      ...(extras?.indicator ? { indicator: extras.indicator } : {}),
      ordinal,
      doc: this.docs[this.fileCol[ordinal]!]!,
    };
    if (this.recent.size >= 256) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(ordinal, chunk);
    return chunk;
  }

  text(ordinal: number): string {
    return this.texts.read(this.textStarts[ordinal]!, this.textStarts[ordinal + 1]!);
  }

  fileOf(ordinal: number): string {
    return this.files[this.fileCol[ordinal]!]!;
  }

  /** The number of the chunk's section path in `sections`. */
  sectionId(ordinal: number): number {
    return this.sectionCol[ordinal]!;
  }

  /** The indicator-table rows, in order (without building the other chunks). */
  indicatorRows(): IndexedChunk[] {
    const rows: IndexedChunk[] = [];
    for (const [ordinal, extras] of this.extras) if (extras.indicator) rows.push(this.at(ordinal));
    return rows.sort((a, b) => a.ordinal - b.ordinal);
  }

  /** The chunk with this id, found from the columns (the id names file and offsets). */
  byId(id: string): IndexedChunk | undefined {
    for (const [ordinal, extras] of this.extras) if (extras.id === id) return this.at(ordinal);
    const m = /^(.*)#(\d+)-(\d+)$/.exec(id);
    const file = m ? this.files.indexOf(m[1]!) : -1;
    if (file < 0) return undefined;
    const start = Number(m![2]);
    const end = Number(m![3]);
    for (let i = 0; i < this.length; i++) {
      if (this.startCol[i] === start && this.endCol[i] === end && this.fileCol[i] === file && !this.extras.get(i)?.id) return this.at(i);
    }
    return undefined;
  }

  *[Symbol.iterator](): Iterator<IndexedChunk> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** Bytes the table holds in memory beside its JSON tables (columns, and the texts when they are held). */
  get columnBytes(): number {
    return this.fileCol.byteLength + this.sectionCol.byteLength + this.startCol.byteLength + this.endCol.byteLength + this.kindCol.byteLength + this.textStarts.byteLength;
  }
}
