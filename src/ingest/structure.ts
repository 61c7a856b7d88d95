import { headingLabel, matchHeading, type HeadingKind } from './headings.ts';

/**
 * The heading tree of a normalized document. Every passage gets a section path such as
 * ['第五章 打造优良的自然生态,高标准建设美丽武清', '第二节 推动水绿环境提升'], which retrieval
 * shows with each citation.
 */

export interface Section {
  path: string[];
  /** [start,end): the section's own body, after its heading up to the next heading of any level. */
  start: number;
  end: number;
  /** Where the heading text begins (for the preamble, 0). */
  headingStart: number;
  /** Depth in the tree: path.length (0 for the preamble). */
  level: number;
  /** End of the section including its sub-sections: the next heading of same-or-higher level. */
  subtreeEnd: number;
}

export interface StructureOptions {
  /** Paragraph starts that were markdown headings in the raw file (NormalizedText.markdownHeadings). */
  markdownHeadings?: ReadonlyArray<{ start: number; level: number }>;
}

interface Heading {
  lineStart: number;
  headingStart: number;
  bodyStart: number;
  /** 'resume': not a heading but the point where a box's content ends and its parent's text resumes. */
  kind: HeadingKind | 'markdown' | 'resume';
  rank: number;
  label: string;
  path: string[];
}

/**
 * Ranks are relative, not absolute: a report has no 章/节, so its 一、 is the top level and its
 * (一) the second. Boxes (专栏/专题) sit one level below whatever heading precedes them and end at
 * the next regular heading. Markdown hash counts are not trusted for marked headings: the plan
 * report writes both "# 一、" and "#### 二、".
 */
// Boxes are never compared by rank: they nest under whatever heading is open.
const RANK: Record<HeadingKind, number> = { chapter: 1, section: 2, part: 3, item: 4, box: Number.NaN };

export function detectSections(text: string, options: StructureOptions = {}): Section[] {
  const mdLevels = new Map((options.markdownHeadings ?? []).map((h) => [h.start, h.level]));
  const headings: Heading[] = [];
  const stack: Heading[] = [];
  let sawMarked = false;
  let sawBody = false;

  for (let lineStart = 0; lineStart <= text.length; ) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    const para = text.slice(lineStart, lineEnd);
    const next = nl < 0 ? text.length + 1 : nl + 1;
    const m = /^各位代表/.test(para) ? null : matchHeading(para);
    const md = mdLevels.get(lineStart);
    let h: Heading | null = null;
    if (m) {
      sawMarked = true;
      const bodyStart = m.bodyStart >= para.length ? Math.min(next, text.length) : lineStart + m.bodyStart;
      h = { lineStart, headingStart: lineStart + m.textStart, bodyStart, kind: m.kind, rank: RANK[m.kind], label: headingLabel(para, m), path: [] };
    } else if (md !== undefined && (sawMarked || sawBody) && !/^各位代表/.test(para)) {
      // An unmarked markdown heading inside the document; before any body text it is a title line.
      h = { lineStart, headingStart: lineStart, bodyStart: Math.min(next, text.length), kind: 'markdown', rank: md, label: para.replace(/\s+/g, ' ').trim(), path: [] };
    } else if (md === undefined && !/^各位代表/.test(para) && para.trim() !== '') {
      sawBody = true;
      // A box holds list items ("- 1. …", "1. …"). Prose after it belongs to the parent: in the
      // hebei plan the box captions follow ordinary paragraphs whose boxes were lost in extraction.
      if (stack[stack.length - 1]?.kind === 'box' && !/^([-*+]\s|\d+[.．、])/.test(para)) {
        while (stack.length && stack[stack.length - 1]!.kind === 'box') stack.pop();
        const resume: Heading = { lineStart, headingStart: lineStart, bodyStart: lineStart, kind: 'resume', rank: Number.NaN, label: '', path: stack.map((s) => s.label) };
        headings.push(resume);
      }
    }
    if (h) {
      // Any heading closes an open box; a box then nests under whatever is left, others pop by rank.
      while (stack.length && stack[stack.length - 1]!.kind === 'box') stack.pop();
      if (h.kind !== 'box') while (stack.length && stack[stack.length - 1]!.rank >= h.rank) stack.pop();
      stack.push(h);
      h.path = stack.map((s) => s.label);
      headings.push(h);
    }
    lineStart = next;
  }

  const sections: Section[] = [];
  const firstStart = headings[0]?.lineStart ?? text.length;
  if (firstStart > 0 || headings.length === 0) {
    sections.push({ path: [], start: 0, end: firstStart, headingStart: 0, level: 0, subtreeEnd: firstStart });
  }
  headings.forEach((h, i) => {
    const end = headings[i + 1]?.lineStart ?? text.length;
    const closer = headings.slice(i + 1).find((o) => o.kind !== 'resume' && o.path.length <= h.path.length);
    sections.push({
      path: h.path,
      start: Math.min(h.bodyStart, end),
      end,
      headingStart: h.headingStart,
      level: h.path.length,
      subtreeEnd: closer?.lineStart ?? text.length,
    });
  });
  return sections;
}

/** The section whose body contains `offset`, or the one whose heading covers it. */
export function sectionAt(sections: readonly Section[], offset: number): Section | undefined {
  let found: Section | undefined;
  for (const s of sections) {
    if (s.headingStart <= offset || s.start <= offset) found = s;
    else break;
  }
  return found;
}
