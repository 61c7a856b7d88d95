import type { DocumentMeta } from './corpus.ts';

/**
 * Rebuilds indicator tables that extraction flattened to one cell per line:
 *   title / 序号 / 2020 / 2025 / 属性 / 1 / 地区生产总值增长率(% / —— / 6 / 预期性 / 2 / …
 * followed by "注:1.…" notes. Such rows answer the most common questions ("2025年森林覆盖率目标")
 * and are useless as ordinary text chunks, so each row becomes one record.
 */

export interface Indicator {
  file: string;
  district: string;
  /** Table title as it appears, e.g. '十四五”时期经济社会发展主要指标'. */
  table: string;
  seq?: number;
  /** Name without its unit: '森林覆盖率'. */
  name: string;
  unit?: string;
  /** Verbatim cells joined without spaces: '12.07', '——', '完成市级下达任务目标'. */
  values: Array<{ column: string; value: string }>;
  attribute?: string;
  notes: string[];
  /** Span of the row's cells in the normalized text. */
  start: number;
  end: number;
  /** The original cells in order, verbatim (a cell broken over two lines is two cells). */
  cells: string[];
}

/** A row of a table that is not an indicator table: its cells under their column headers. */
export interface TableRow {
  start: number;
  end: number;
  /** '列名：值；列名：值' for reading and retrieval. */
  text: string;
  /** The row's own cells in order, verbatim. */
  cells: string[];
}

export interface Table {
  title: string;
  start: number;
  end: number;
  columns: string[];
  rows: Indicator[];
  /** Rows of a table that holds no indicators (a project list, a schedule). */
  plainRows?: TableRow[];
  notesStart?: number;
  notesEnd?: number;
}

interface Cell {
  text: string;
  start: number;
  end: number;
}

const YEAR_COLUMN = /^(19|20)\d{2}年?(目标值?|基期值?|规划值?|预期值?)?$/;
const ATTRIBUTE = /^(预期性|约束性)$/;
const NAME_COLUMN = /^(指标|指标名称|主要指标|项目)$/;
const MAX_CELL = 40;
// A value cell on its own: a number, a percentage, a dash, or a 〔cumulative〕 figure.
const NUMERIC = /^(〔[^〕]*〕|[<>≤≥]?[-+]?\d[\d.,]*%?|[—–-]+)$/;
// "(%" / "(万元/人)": the unit in the last parenthesis; extraction often lost the closing one.
const UNIT = /^(.*)[(（]([^()（）]{1,12})[)）]?$/;

function paragraphs(text: string): Cell[] {
  const out: Cell[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    out.push({ text: line, start, end: start + line.length });
    start += line.length + 1;
  }
  return out;
}

const isCell = (c: Cell | undefined): c is Cell => c !== undefined && c.text.length > 0 && c.text.length <= MAX_CELL && !/[。；;]/.test(c.text);

/**
 * Groups cells into `n` contiguous groups, numeric cells alone, preferring even groups: with
 * "完成市级下达 / 任务目标 / 完成市级下达 / 任务目标" for two columns that is 2 + 2.
 */
function groupValues(cells: Cell[], n: number): Cell[][] | null {
  const memo = new Map<string, { cost: number; groups: Cell[][] } | null>();
  const solve = (i: number, k: number): { cost: number; groups: Cell[][] } | null => {
    if (k === 0) return i === cells.length ? { cost: 0, groups: [] } : null;
    const key = `${i}:${k}`;
    if (memo.has(key)) return memo.get(key)!;
    let best: { cost: number; groups: Cell[][] } | null = null;
    for (let len = 1; i + len <= cells.length - (k - 1); len++) {
      const group = cells.slice(i, i + len);
      if (len > 1 && group.some((c) => NUMERIC.test(c.text))) break;
      const rest = solve(i + len, k - 1);
      if (rest && (best === null || rest.cost + len * len < best.cost)) best = { cost: rest.cost + len * len, groups: [group, ...rest.groups] };
    }
    memo.set(key, best);
    return best;
  };
  return solve(0, n)?.groups ?? null;
}

/** Longest common subsequence length, to match a footnote to the row it talks about. */
function lcs(a: string, b: string): number {
  const dp = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = a[i - 1] === b[j - 1] ? prev + 1 : Math.max(dp[j]!, dp[j - 1]!);
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function parseRow(seqCell: Cell, body: Cell[], attr: Cell | undefined, yearColumns: string[], meta: DocumentMeta, title: string, seq: number): Indicator | null {
  const n = yearColumns.length;
  // The name ends at the cell carrying the unit; a two-line name ("…工业增加值" + "比重(%") ends on line two.
  let nameLength = body.slice(0, 3).findIndex((c) => UNIT.test(c.text) && !NUMERIC.test(c.text)) + 1;
  if (nameLength === 0 || body.length - nameLength < 1) {
    // No unit: the name is whatever leading non-numeric cells leave exactly n value groups possible.
    nameLength = 1;
    while (nameLength < body.length - n && !NUMERIC.test(body[nameLength]!.text) && groupValues(body.slice(nameLength), n) === null) nameLength++;
  }
  const nameCells = body.slice(0, nameLength);
  if (nameCells.length === 0 || nameCells.some((c) => NUMERIC.test(c.text))) return null;
  const groups = groupValues(body.slice(nameLength), n) ?? body.slice(nameLength).map((c) => [c]).slice(0, n);
  const fullName = nameCells.map((c) => c.text).join('');
  const unitMatch = UNIT.exec(fullName);
  const cells = [seqCell, ...body, ...(attr ? [attr] : [])];
  return {
    file: meta.file,
    district: meta.district,
    table: title,
    seq,
    name: unitMatch ? unitMatch[1]!.trim() : fullName,
    ...(unitMatch ? { unit: unitMatch[2]!.trim() } : {}),
    values: groups.map((g, i) => ({ column: yearColumns[i]!, value: g.map((c) => c.text).join('') })),
    ...(attr ? { attribute: attr.text } : {}),
    notes: [],
    start: seqCell.start,
    end: cells[cells.length - 1]!.end,
    cells: cells.map((c) => c.text),
  };
}

function attachNotes(rows: Indicator[], notes: string[]): void {
  for (const note of notes) {
    const cumulative = note.includes('〔〕');
    for (const row of rows) {
      const bracketed = cumulative && row.values.some((v) => v.value.includes('〔'));
      const shared = lcs(row.name, note) >= Math.max(4, Math.ceil(row.name.length * 0.8));
      if (bracketed || shared) row.notes.push(note);
    }
  }
}

export function findTables(text: string, meta: DocumentMeta): Table[] {
  const paras = paragraphs(text);
  const tables: Table[] = [];
  for (let i = 0; i < paras.length; i++) {
    if (paras[i]!.text !== '序号') continue;
    // Header: short cells up to the first row number.
    let j = i;
    const header: Cell[] = [];
    while (isCell(paras[j]) && paras[j]!.text !== '1' && header.length < 8) header.push(paras[j++]!);
    const yearColumns = header.map((c) => c.text).filter((t) => YEAR_COLUMN.test(t));
    if (yearColumns.length === 0 || paras[j]?.text !== '1') continue;
    const hasAttribute = header.some((c) => /属性/.test(c.text));
    const titleCell = paras[i - 1];
    const title = isCell(titleCell) && !NAME_COLUMN.test(titleCell.text) ? titleCell.text : '';

    const rows: Indicator[] = [];
    let seq = 1;
    while (paras[j]?.text === String(seq)) {
      const seqCell = paras[j]!;
      const body: Cell[] = [];
      let attr: Cell | undefined;
      let k = j + 1;
      for (; isCell(paras[k]); k++) {
        const c = paras[k]!;
        if (hasAttribute && ATTRIBUTE.test(c.text)) {
          attr = c;
          k++;
          break;
        }
        // Without an attribute column a row ends where the next number starts, once it has a name and values.
        if (!hasAttribute && c.text === String(seq + 1) && body.length > yearColumns.length) break;
        body.push(c);
      }
      if (hasAttribute && !attr) break;
      const row = parseRow(seqCell, body, attr, yearColumns, meta, title, seq);
      if (!row) break;
      rows.push(row);
      j = k;
      seq++;
    }
    if (rows.length === 0) continue;

    // Notes: "注:1.…;" then "2.…" lines.
    const notes: string[] = [];
    let notesStart: number | undefined;
    let notesEnd: number | undefined;
    for (let k = j; paras[k] && (/^注[:：]/.test(paras[k]!.text) || (notesStart !== undefined && /^\d+[.．、]/.test(paras[k]!.text))); k++) {
      const p = paras[k]!;
      notesStart ??= p.start;
      notesEnd = p.end;
      notes.push(p.text.replace(/^注[:：]/, '').replace(/^\d+[.．、]/, '').replace(/[;；。]$/, ''));
      j = k + 1;
    }
    attachNotes(rows, notes);
    const start = title ? titleCell!.start : paras[i]!.start;
    const end = notesEnd ?? rows[rows.length - 1]!.end;
    tables.push({
      title,
      start,
      end,
      columns: header.map((c) => c.text),
      rows,
      ...(notesStart !== undefined ? { notesStart, notesEnd: notesEnd! } : {}),
    });
    i = j - 1;
  }
  return tables;
}
