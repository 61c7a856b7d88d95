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

  it('an empty table holds nothing', () => {
    expect(TermTable.fromTerms([]).id('森林')).toBeUndefined();
  });
});
