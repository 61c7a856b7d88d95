/**
 * The heading markers Chinese plan documents use, recognised on one normalized paragraph.
 * Shared by normalize (which must not glue a heading onto body text, and joins headings split
 * over two lines) and structure (which builds the section tree).
 */

const NUM = '一二三四五六七八九十百零〇两';

export type HeadingKind = 'chapter' | 'section' | 'part' | 'item' | 'box';

export interface HeadingMatch {
  kind: HeadingKind;
  /** Offset in the paragraph where the heading text begins (after a "- " list marker). */
  textStart: number;
  /** Offset in the paragraph just past the marker (第五章, 专栏 2, (一) …). */
  markerEnd: number;
  /**
   * Offset where the heading ends: the whole paragraph for standalone headings, or just past the
   * first 。 for run-in "(一)xxx。body…" headings whose body continues in the same paragraph.
   */
  headingEnd: number;
  /** Offset where the body begins (equals headingEnd, or the paragraph length). */
  bodyStart: number;
}

const CHAPTER = new RegExp(`^第[${NUM}\\d]+章`);
const SECTION = new RegExp(`^第[${NUM}\\d]+节`);
// 一、 as a heading is short and has no sentence inside; "一、二、三产业" mid-sentence never starts a line.
const PART = new RegExp(`^[${NUM}]+、`);
// (一) … ; the 2018 report has one "()" whose numeral was lost in extraction, so the numeral is optional.
const ITEM = new RegExp(`^[(（][${NUM}]{0,3}[)）]`);
const BOX = new RegExp(`^(专栏|专题)\\s*[${NUM}\\d]+`);
const LIST_MARKER = /^[-*+]\s+/;

const MAX_STANDALONE = 80;
const MAX_RUN_IN = 60;

/** Lengths are measured without spaces so "专栏 2 打造 …" and "专栏2打造…" behave alike. */
function compactLength(s: string): number {
  return s.replace(/\s+/g, '').length;
}

function hasSentence(s: string): boolean {
  return /[。；;！？]/.test(s);
}

/** Recognises a heading at the start of `para` (one normalized paragraph, no line breaks). */
export function matchHeading(para: string): HeadingMatch | null {
  const listMarker = LIST_MARKER.exec(para);
  const offset = listMarker ? listMarker[0].length : 0;
  const line = para.slice(offset);
  const standalone = (kind: HeadingKind, markerLength: number): HeadingMatch | null => {
    if (compactLength(line) > MAX_STANDALONE || hasSentence(line) || listMarker) return null;
    return { kind, textStart: 0, markerEnd: markerLength, headingEnd: para.length, bodyStart: para.length };
  };
  let m: RegExpExecArray | null;
  if ((m = CHAPTER.exec(line))) return standalone('chapter', m[0].length);
  if ((m = SECTION.exec(line))) return standalone('section', m[0].length);
  if ((m = BOX.exec(line))) return standalone('box', m[0].length);
  if ((m = PART.exec(line))) {
    if (compactLength(line) > 50) return null;
    return standalone('part', m[0].length);
  }
  if ((m = ITEM.exec(line))) {
    const stop = line.search(/[。！？]/);
    if (stop < 0) {
      if (compactLength(line) > MAX_RUN_IN || hasSentence(line)) return null;
      return { kind: 'item', textStart: offset, markerEnd: offset + m[0].length, headingEnd: para.length, bodyStart: para.length };
    }
    if (stop <= m[0].length || compactLength(line.slice(0, stop)) > MAX_RUN_IN) return null;
    return { kind: 'item', textStart: offset, markerEnd: offset + m[0].length, headingEnd: offset + stop + 1, bodyStart: offset + stop + 1 };
  }
  return null;
}

/** The label shown in a section path: the heading text, whitespace runs as one space, no trailing 。. */
export function headingLabel(para: string, match: HeadingMatch): string {
  return para
    .slice(match.textStart, match.headingEnd)
    .replace(/\s+/g, ' ')
    .replace(/[。]$/, '')
    .trim();
}

/** Lines that open a new paragraph by their form: headings, list items, "——" principles, salutations. */
export function startsBlock(para: string): boolean {
  return (
    matchHeading(para) !== null ||
    LIST_MARKER.test(para) ||
    /^\d+[.．、](?!\d)/.test(para) ||
    /^——/.test(para) ||
    /^各位代表/.test(para) ||
    /^注[:：]/.test(para)
  );
}
