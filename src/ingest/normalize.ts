import { dropLines } from './boilerplate.ts';
import { endsSentence, isAsciiPunct, isCjk, isCjkIdeograph, isHorizontalSpace } from './cjk.ts';
import { matchHeading, startsBlock } from './headings.ts';

/**
 * Cleans the extraction mess without ever changing a character: the normalized text is the raw
 * text with characters removed (noise spaces, line breaks inside sentences, site chrome, TOC,
 * markdown markers), so every normalized character maps back to the same character in the file
 * and every quote can be found in the original once whitespace is ignored.
 * Paragraphs are separated by a single "\n" (hebei/jinnan use one line per paragraph, wuqing uses
 * blank lines; one form for all).
 */

export interface NormalizedText {
  text: string;
  /** toSource[i] = offset in raw of normalized char i; length text.length + 1 (last = end of last kept char). */
  toSource: Int32Array;
  /** Sorted offsets i where raw characters other than whitespace were removed between text[i-1] and text[i]. */
  gaps: number[];
  /** Paragraphs that were markdown headings in the raw file ("## 专题二"), with their hash count. */
  markdownHeadings: Array<{ start: number; level: number }>;
}

interface KeptLine {
  /** Raw index of the line's start. */
  rawStart: number;
  /** Raw index of the line's end ("\n" or raw.length). */
  rawEnd: number;
  offsets: number[];
  mdLevel: number;
  /** A dropped line (chrome, TOC) lies between this line and the previous kept one. */
  afterDrop: boolean;
}

const MARKER_WITH_SPACES = /^第\s*[一二三四五六七八九十百零〇两\d]+\s*[章节]|^(专栏|专题)\s*[一二三四五六七八九十\d]+/;

/** Which characters of one raw line survive, as raw offsets. */
function keepLine(raw: string, start: number, end: number): { offsets: number[]; mdLevel: number } {
  let offsets: number[] = [];
  for (let i = start; i < end; i++) offsets.push(i);
  const str = () => offsets.map((o) => raw[o]).join('');

  // Leading/trailing spaces first, so "  # 专题" and "- 1." are seen at the line start.
  const trim = () => {
    while (offsets.length && isHorizontalSpace(raw[offsets[0]!])) offsets.shift();
    while (offsets.length && isHorizontalSpace(raw[offsets[offsets.length - 1]!])) offsets.pop();
  };
  trim();
  let mdLevel = 0;
  const md = /^(#{1,6})(\s+|$)/.exec(str());
  if (md) {
    mdLevel = md[1]!.length;
    offsets = offsets.slice(md[0].length);
  }
  // Emphasis markers "**资效果明显。**" carry no text.
  const s0 = str();
  const emphasis = new Set<number>();
  for (const m of s0.matchAll(/\*{2,}|_{2,}/g)) for (let k = 0; k < m[0].length; k++) emphasis.add(m.index + k);
  offsets = offsets.filter((_, k) => !emphasis.has(k));
  trim();

  // A list marker keeps exactly one space after it ("- (二)…", "- 1.…").
  const s1 = str();
  const list = /^[-*+](\s+)/.exec(s1);
  // Runs that keep one space: after "-" and between a heading marker and its title
  // ("第五章  打造…" → "第五章 打造…", "专栏 2 打造" → "专栏2 打造").
  const protectedRun = new Set<number>();
  if (list) protectedRun.add(1);
  const marker = MARKER_WITH_SPACES.exec(list ? s1.slice(list[0].length) : s1);
  if (marker) protectedRun.add((list ? list[0].length : 0) + marker[0].length);

  const out: number[] = [];
  const chars = offsets.map((o) => raw[o]!);
  for (let k = 0; k < offsets.length; ) {
    if (!isHorizontalSpace(chars[k])) {
      out.push(offsets[k]!);
      k++;
      continue;
    }
    let e = k;
    while (e < offsets.length && isHorizontalSpace(chars[e])) e++;
    const L = chars[k - 1];
    const R = chars[e];
    const cjkSide = isCjk(L) || isCjk(R) || (isAsciiPunct(L) && isCjk(chars[k - 2])) || (isAsciiPunct(R) && isCjk(chars[e + 1]));
    // One space survives between Latin words/numbers ("PM 2.5") and after a heading marker.
    if (protectedRun.has(k) || !cjkSide) out.push(offsets[k]!);
    k = e;
  }
  return { offsets: out, mdLevel };
}

function compactLength(s: string): number {
  return s.replace(/\s+/g, '').length;
}

/** "第三节 打造海河沿线、新开河沿线、中山路沿线" + "三大经济带": a heading wrapped onto a second line. */
function continuesHeading(head: string, next: string, afterNext: string | undefined): boolean {
  const m = matchHeading(head);
  if (!m || (m.kind !== 'chapter' && m.kind !== 'section' && m.kind !== 'box')) return false;
  if (startsBlock(next) || /[。；;！？]/.test(next) || compactLength(next) > 40 || !isCjkIdeograph(next[0])) return false;
  if (/[,，、]$/.test(head)) return true;
  // Otherwise only a short tail without punctuation, followed by something that is clearly not
  // a table cell or another fragment.
  if (compactLength(next) > 20 || /[,，、:：]/.test(next)) return false;
  return afterNext === undefined || startsBlock(afterNext) || compactLength(afterNext) >= 15;
}

/** "…产业升级步伐进一步加快。新兴动能" + "快速成长。…": a sentence broken by the extraction. */
function continuesSentence(prev: string, next: string): boolean {
  const h = matchHeading(prev);
  if (h && h.bodyStart >= prev.length) return false;
  // Short fragments without a sentence are titles, signatures or table cells: leave them alone.
  if (!/[。；;！？]/.test(prev) && compactLength(prev) < 40) return false;
  const last = prev[prev.length - 1];
  const first = next[0];
  if (endsSentence(last) || /[\d%]/.test(last ?? '')) return false; // "…保持90%" ends paragraphs in wuqing
  if (!(isCjkIdeograph(last) || /[A-Za-z,，、(（“‘《]/.test(last ?? ''))) return false;
  if (startsBlock(next) || compactLength(next) < 10) return false;
  return isCjk(last) || isCjk(first);
}

export interface NormalizeOptions {
  /**
   * Raw offsets of lines that begin a paragraph of their own. Extractors that know the
   * layout (PDF, HTML, Word, table cells) name every paragraph; only plain text and
   * Markdown leave line joining to the heuristics here.
   */
  paragraphStarts?: readonly number[];
}

export function normalizeText(raw: string, options: NormalizeOptions = {}): NormalizedText {
  const ownParagraph = new Set(options.paragraphStarts ?? []);
  const bounds: Array<[number, number]> = [];
  for (let s = 0; s <= raw.length; ) {
    const nl = raw.indexOf('\n', s);
    const e = nl < 0 ? raw.length : nl;
    bounds.push([s, e]);
    s = e + 1;
    if (nl < 0) break;
  }
  const drop = dropLines(bounds.map(([s, e]) => raw.slice(s, e)));

  const lines: KeptLine[] = [];
  let sawDrop = false;
  bounds.forEach(([s, e], i) => {
    if (drop[i]) {
      sawDrop = true;
      return;
    }
    const { offsets, mdLevel } = keepLine(raw, s, e);
    if (offsets.length === 0) return;
    lines.push({ rawStart: s, rawEnd: e, offsets, mdLevel, afterDrop: sawDrop });
    sawDrop = false;
  });

  const textOf = (l: KeptLine) => l.offsets.map((o) => raw[o]).join('');
  const paragraphs: Array<{ offsets: number[]; rawEnd: number; mdLevel: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const para = paragraphs[paragraphs.length - 1];
    const prevText = para ? para.offsets.map((o) => raw[o]).join('') : '';
    const joinable = para !== undefined && !line.afterDrop && line.mdLevel === 0 && para.mdLevel === 0 && !ownParagraph.has(line.rawStart);
    const next = textOf(line);
    const afterNext = lines[i + 1] ? textOf(lines[i + 1]!) : undefined;
    if (joinable && (continuesHeading(prevText, next, afterNext) || continuesSentence(prevText, next))) {
      para.offsets.push(...line.offsets);
      para.rawEnd = line.rawEnd;
      continue;
    }
    paragraphs.push({ offsets: [...line.offsets], rawEnd: line.rawEnd, mdLevel: line.mdLevel });
  }

  const map: number[] = [];
  const markdownHeadings: NormalizedText['markdownHeadings'] = [];
  paragraphs.forEach((p, i) => {
    // The paragraph break is the raw "\n" that ended the previous paragraph's last line.
    if (i > 0) map.push(paragraphs[i - 1]!.rawEnd);
    if (p.mdLevel > 0) markdownHeadings.push({ start: map.length, level: p.mdLevel });
    map.push(...p.offsets);
  });
  const toSource = new Int32Array(map.length + 1);
  map.forEach((o, i) => (toSource[i] = o));
  toSource[map.length] = map.length > 0 ? map[map.length - 1]! + 1 : 0;
  const text = map.map((o) => raw[o]).join('');

  const gaps: number[] = [];
  for (let i = 1; i < map.length; i++) {
    for (let r = map[i - 1]! + 1; r < map[i]!; r++) {
      if (!/\s/.test(raw[r]!)) {
        gaps.push(i);
        break;
      }
    }
  }
  return { text, toSource, gaps, markdownHeadings };
}

/**
 * Splits [start,end) of the normalized text into maximal sub-spans that are contiguous in the raw
 * source apart from whitespace. Quotes must never span such a gap, so they stay verbatim in the
 * original file once whitespace is ignored.
 */
export function quotableSpans(norm: NormalizedText, start: number, end: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let from = start;
  for (const g of norm.gaps) {
    if (g <= start) continue;
    if (g >= end) break;
    spans.push([from, g]);
    from = g;
  }
  if (end > from) spans.push([from, end]);
  return spans;
}
