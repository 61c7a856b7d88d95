/**
 * The lexical index's terms as their UTF-8 bytes end to end with offsets, and a hash table
 * from a term to its number. Read from the index file as it is: loading makes no string
 * per term (a Map of them was half the index's load time, and 100 bytes or so a term in
 * memory), and a lookup costs a hash of a few bytes.
 */
export class TermTable {
  /** Open addressing, linear probing: term number + 1, 0 for an empty slot. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private scratch = new Uint8Array(256);
  private readonly encoder = new TextEncoder();

  /**
   * `slots`: the table as `slots` gave it for these terms (read from the index file), used
   * as it is; otherwise it is built here (about 6 ms for the shipped corpus' terms).
   */
  constructor(
    /** The terms' bytes, end to end. */
    readonly text: Uint8Array,
    /** Per term: offset of its bytes in `text` (length terms + 1). */
    readonly starts: Uint32Array,
    slots?: Int32Array,
  ) {
    const count = starts.length - 1;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.mask = size - 1;
    if (slots && slots.length === size && holdsEachTermOnce(slots, count)) {
      this.slots = slots;
      return;
    }
    this.slots = new Int32Array(size);
    for (let id = 0; id < count; id++) {
      let slot = hashBytes(text, starts[id]!, starts[id + 1]!) & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = id + 1;
    }
  }

  /** The hash table, for writing beside the terms (the constructor takes it back). */
  get table(): Int32Array {
    return this.slots;
  }

  /** Terms in number order. */
  static fromTerms(terms: readonly string[]): TermTable {
    const encoded = terms.map((t) => Buffer.from(t, 'utf8'));
    const starts = new Uint32Array(encoded.length + 1);
    encoded.forEach((b, i) => (starts[i + 1] = starts[i]! + b.length));
    return new TermTable(Buffer.concat(encoded), starts);
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /** The term's number, or undefined when it is not in the table. */
  id(term: string): number | undefined {
    if (this.scratch.length < term.length * 3) this.scratch = new Uint8Array(term.length * 3);
    const length = this.encoder.encodeInto(term, this.scratch).written;
    const bytes = this.scratch;
    for (let slot = hashBytes(bytes, 0, length) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return undefined;
      const from = this.starts[entry - 1]!;
      if (this.starts[entry]! - from !== length) continue;
      let i = 0;
      while (i < length && this.text[from + i] === bytes[i]) i++;
      if (i === length) return entry - 1;
    }
  }

  /** Bytes the table holds in memory. */
  get byteSize(): number {
    return this.text.byteLength + this.starts.byteLength + this.slots.byteLength;
  }
}

/**
 * Whether a stored table holds the numbers 1..count, each once, and nothing else: a
 * damaged one is rebuilt rather than trusted (a lookup probes until an empty slot, which
 * a table at most half full always has).
 */
function holdsEachTermOnce(slots: Int32Array, count: number): boolean {
  const seen = new Uint8Array(count + 1);
  let n = 0;
  for (let i = 0; i < slots.length; i++) {
    const v = slots[i]!;
    if (v === 0) continue;
    if (v < 0 || v > count || seen[v]) return false;
    seen[v] = 1;
    n++;
  }
  return n === count;
}

/** FNV-1a over bytes [from, to). */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
