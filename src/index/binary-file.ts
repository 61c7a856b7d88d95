import { closeSync, openSync, writeSync } from 'node:fs';
import * as z from 'zod';

/**
 * The layout of the index's binary files: an 8-byte magic, the length of a JSON header,
 * the header (the file's own fields and where each section lies), then typed-array
 * sections at 8-byte-aligned offsets. Loading views the sections in the file's buffer
 * without copying or parsing them, which keeps a large index quick to open; writing goes
 * section by section, so nothing is concatenated in memory first.
 */

const ALIGN = 8;
const PREFIX = 16; // magic (8) + header length (u32) + reserved (u32)

const sectionSchema = z.object({ name: z.string(), offset: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() });
const headerSchema = z.object({ meta: z.unknown(), sections: z.array(sectionSchema) });

type TypedArray = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
type TypedArrayConstructor<T extends TypedArray> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

const padTo = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Writes `file` (the caller renames or checksums it afterwards). */
export function writeSectionFile(file: string, magic: string, meta: unknown, sections: ReadonlyArray<{ name: string; data: ArrayBufferView }>): void {
  if (magic.length !== 8) throw new Error(`binary-file: magic must be 8 characters, got "${magic}"`);
  // The header's own length moves the sections; lay it out with room for its offsets first.
  const layout = (start: number) => {
    let at = start;
    return sections.map((s) => {
      const entry = { name: s.name, offset: at, bytes: s.data.byteLength };
      at = padTo(at + s.data.byteLength);
      return entry;
    });
  };
  let start = PREFIX;
  let header = JSON.stringify({ meta, sections: layout(start) });
  while (PREFIX + Buffer.byteLength(header) > start) {
    start = padTo(PREFIX + Buffer.byteLength(header) + 64);
    header = JSON.stringify({ meta, sections: layout(start) });
  }
  // Spaces fill the header up to the first section (JSON.parse ignores them).
  const headerBytes = Buffer.alloc(start - PREFIX, 0x20);
  headerBytes.write(header, 0, 'utf8');
  const fd = openSync(file, 'w');
  try {
    const prefix = Buffer.alloc(PREFIX);
    prefix.write(magic, 0, 'latin1');
    prefix.writeUInt32LE(headerBytes.length, 8);
    writeSync(fd, prefix);
    writeSync(fd, headerBytes);
    let at = PREFIX + headerBytes.length;
    for (const [i, entry] of layout(start).entries()) {
      const data = sections[i]!.data;
      if (entry.offset > at) writeSync(fd, Buffer.alloc(entry.offset - at));
      at = entry.offset;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      // writeSync may write less than asked for large buffers.
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
      at += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** A section file read back: its header's `meta`, and its sections as typed-array views. */
export class SectionFile {
  private constructor(
    readonly meta: unknown,
    private readonly bytes: Uint8Array,
    private readonly sections: Map<string, { offset: number; bytes: number }>,
  ) {}

  /** Throws a plain Error describing what is wrong; callers wrap it in their own error. */
  static parse(data: Uint8Array, magic: string): SectionFile {
    // Typed-array views need aligned offsets: a pooled small Buffer may not start at one.
    const bytes = data.byteOffset % ALIGN === 0 ? data : new Uint8Array(data);
    if (bytes.length < PREFIX || Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') !== magic) throw new Error(`not a ${magic.trim()} file`);
    const headerLength = Buffer.from(bytes.buffer, bytes.byteOffset, PREFIX).readUInt32LE(8);
    if (PREFIX + headerLength > bytes.length) throw new Error('header runs past the end of the file');
    const header = headerSchema.parse(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + PREFIX, headerLength).toString('utf8')));
    const sections = new Map<string, { offset: number; bytes: number }>();
    for (const s of header.sections) {
      if (s.offset % ALIGN !== 0 || s.offset + s.bytes > bytes.length) throw new Error(`section ${s.name} lies outside the file`);
      sections.set(s.name, s);
    }
    return new SectionFile(header.meta, bytes, sections);
  }

  has(name: string): boolean {
    return this.sections.has(name);
  }

  section<T extends TypedArray>(name: string, type: TypedArrayConstructor<T>, length?: number): T {
    const s = this.sections.get(name);
    if (!s) throw new Error(`section ${name} is missing`);
    if (s.bytes % type.BYTES_PER_ELEMENT !== 0) throw new Error(`section ${name} has ${s.bytes} bytes, not a whole number of elements`);
    const n = s.bytes / type.BYTES_PER_ELEMENT;
    if (length !== undefined && n !== length) throw new Error(`section ${name} has ${n} elements, expected ${length}`);
    return new type(this.bytes.buffer, this.bytes.byteOffset + s.offset, n);
  }
}
