import type { DocumentMeta } from './corpus.ts';
import type { GridTable, TextSpan } from './extracted-text.ts';
import type { NormalizedText } from './normalize.ts';
import type { Indicator, Table, TableRow } from './tables.ts';

/**
 * Tables whose cells the extractor knows (Markdown, Word, HTML, PDF rows) become records:
 * an indicator table (a name column and year or target columns) yields indicator rows,
 * any other table one row per record with its column headers. Cells are located in the
 * normalized text, so a row's quote (its own cells joined by spaces) is verbatim.
 */

const SEQ = /^(序号|编号|No\.?)$/i;
const NAME = /指标|名称|项目|内容/;
const UNIT_COLUMN = /^(计量)?单位$/;
const ATTRIBUTE = /属性|性质/;
// A value column names its year: "2025", "2025年", "2025年目标值", "2023年完成".
const VALUE_COLUMN = /^(19|20)\d{2}(?!\d)/;
// "(%" / "(万元/人)": the unit in the last parenthesis.
const UNIT_IN_NAME = /^(.*)[(（]([^()（）]{1,12})[)）]?$/;

/** First normalized offset whose source offset is at or after `raw`. */
function toNormalized(norm: NormalizedText, raw: number): number {
  let lo = 0;
  let hi = norm.text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (norm.toSource[mid]! < raw) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Cell {
  text: string;
  start: number;
  end: number;
}

function locate(norm: NormalizedText, span: TextSpan | undefined): Cell | undefined {
  if (!span) return undefined;
  const start = toNormalized(norm, span.start);
  const end = toNormalized(norm, span.end);
  if (end <= start) return undefined;
  return { text: norm.text.slice(start, end), start, end };
}

function findColumn(header: Array<Cell | undefined>, re: RegExp, except: ReadonlySet<number> = new Set()): number {
  return header.findIndex((c, i) => c !== undefined && !except.has(i) && re.test(c.text.replace(/\s/g, '')));
}

export function gridTables(grids: readonly GridTable[], norm: NormalizedText, meta: DocumentMeta): Table[] {
  const tables: Table[] = [];
  for (const grid of grids) {
    const header = grid.header.map((s) => locate(norm, s));
    const rows = grid.rows.map((r) => r.map((s) => locate(norm, s)));
    const title = locate(norm, grid.title);
    const headerText = header.map((c) => c?.text ?? '');
    // A row's own cells: those written for it, not merged down from the row above.
    const ownCells = (r: number): Cell[] => rows[r]!.filter((c, i): c is Cell => c !== undefined && c.start !== rows[r - 1]?.[i]?.start);
    const seqCol = findColumn(header, SEQ);
    const attrCol = findColumn(header, ATTRIBUTE);
    const unitCol = findColumn(header, UNIT_COLUMN);
    const taken = new Set([seqCol, attrCol, unitCol].filter((i) => i >= 0));
    const valueCols = header.map((c, i) => (c && !taken.has(i) && !NAME.test(c.text) && VALUE_COLUMN.test(c.text.replace(/\s/g, '')) ? i : -1)).filter((i) => i >= 0);
    const years = valueCols.map((i) => /^\d{4}/.exec(headerText[i]!.replace(/\s/g, ''))![0]);
    // Columns are named by their year, as answers word them ("2025年目标13%"), unless two share a year.
    const columnName = (k: number) => (years.filter((y) => y === years[k]).length === 1 ? years[k]! : headerText[valueCols[k]!]!.replace(/\s/g, ''));
    let nameCol = findColumn(header, NAME, new Set([...taken, ...valueCols]));
    if (nameCol < 0) nameCol = header.findIndex((c, i) => c !== undefined && !taken.has(i) && !valueCols.includes(i));
    const isIndicatorTable = valueCols.length > 0 && nameCol >= 0 && (attrCol >= 0 || unitCol >= 0 || seqCol >= 0 || valueCols.length >= 2);

    const cellsFirst = [title, ...header, ...rows.flat()].filter((c): c is Cell => c !== undefined);
    if (cellsFirst.length === 0) continue;
    const start = Math.min(...cellsFirst.map((c) => c.start));
    const end = Math.max(...cellsFirst.map((c) => c.end));
    const table: Table = { title: title?.text ?? '', start, end, columns: headerText, rows: [] };

    rows.forEach((row, r) => {
      const own = ownCells(r);
      if (own.length === 0) return;
      const rowStart = own[0]!.start;
      const rowEnd = own[own.length - 1]!.end;
      const name = nameCol >= 0 ? row[nameCol]?.text : undefined;
      const values = valueCols.map((i, k) => ({ column: columnName(k), value: (row[i]?.text ?? '').replace(/\s/g, '') }));
      if (isIndicatorTable && name && values.some((v) => v.value !== '')) {
        const unitMatch = unitCol < 0 ? UNIT_IN_NAME.exec(name) : null;
        const unit = unitCol >= 0 ? row[unitCol]?.text : unitMatch?.[2]?.trim();
        const seq = seqCol >= 0 ? Number(row[seqCol]?.text) : NaN;
        const indicator: Indicator = {
          file: meta.file,
          district: meta.district,
          table: table.title,
          ...(Number.isInteger(seq) ? { seq } : {}),
          name: unitMatch ? unitMatch[1]!.trim() : name,
          ...(unit ? { unit } : {}),
          values,
          ...(attrCol >= 0 && row[attrCol] ? { attribute: row[attrCol]!.text } : {}),
          notes: [],
          start: rowStart,
          end: rowEnd,
          cells: own.map((c) => c.text),
        };
        table.rows.push(indicator);
        return;
      }
      const record: TableRow = {
        start: rowStart,
        end: rowEnd,
        text: row
          .map((c, i) => (c ? (headerText[i] && headerText[i] !== c.text ? `${headerText[i]}：${c.text}` : c.text) : ''))
          .filter(Boolean)
          .join('；'),
        cells: own.map((c) => c.text),
      };
      (table.plainRows ??= []).push(record);
    });
    if (table.rows.length > 0 || (table.plainRows?.length ?? 0) > 0) tables.push(table);
  }
  return tables;
}
