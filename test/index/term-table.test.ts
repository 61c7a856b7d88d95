import { describe, expect, it } from 'vitest';
import { TermTable } from '../../src/index/term-table.ts';

describe('TermTable', () => {
  const terms = ['森林', '覆盖率', '#森林', '#林覆', 'pm2.5', 'gdp', '武清区', '武清', '😀', 'a', ...Array.from({ length: 3000 }, (_, i) => `词${i}`)];

  it('finds every term by its number, from the strings and from their bytes', () => {
    const table = TermTable.fromTerms(terms);
    const read = new TermTable(Uint8Array.from(table.text), Uint32Array.from(table.starts));
    for (const t of [table, read]) {
      expect(t.size).toBe(terms.length);
      terms.forEach((term, i) => expect(t.id(term)).toBe(i));
    }
  });

  it('finds nothing for a term it does not hold, however close', () => {
    const table = TermTable.fromTerms(terms);
    for (const absent of ['', '森', '森林覆盖率', '#森', '武清区区', 'PM2.5', '词3000', '词-1', '😀😀', 'b']) expect(table.id(absent)).toBeUndefined();
    // A term longer than the lookup's scratch space.
    expect(table.id('长'.repeat(500))).toBeUndefined();
    expect(TermTable.fromTerms(['长'.repeat(500)]).id('长'.repeat(500))).toBe(0);
  });

  it('takes a stored table back as it is, and rebuilds a damaged one', () => {
    const table = TermTable.fromTerms(terms);
    const stored = Int32Array.from(table.table);
    const read = new TermTable(table.text, table.starts, stored);
    expect(read.table).toBe(stored);
    terms.forEach((term, i) => expect(read.id(term)).toBe(i));
    for (const damage of [(t: Int32Array) => t.fill(7), (t: Int32Array) => (t[t.indexOf(3)] = 0), (t: Int32Array) => (t[t.indexOf(0)] = terms.length + 5)]) {
      const damaged = Int32Array.from(table.table);
      damage(damaged);
      const rebuilt = new TermTable(table.text, table.starts, damaged);
      expect(rebuilt.table).not.toBe(damaged);
      terms.forEach((term, i) => expect(rebuilt.id(term)).toBe(i));
    }
    // A table of another size (written for other terms) is not used either.
    expect(new TermTable(table.text, table.starts, new Int32Array(16)).id('森林')).toBe(0);
  });

  it('an empty table holds nothing', () => {
    expect(TermTable.fromTerms([]).id('森林')).toBeUndefined();
  });
});
