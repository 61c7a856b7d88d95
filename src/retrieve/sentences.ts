/**
 * Splits passage text into quotable units: sentences ending in 。！？； or a line break,
 * and, for a unit too long to be a short answer, windows of consecutive comma clauses.
 * Offsets are relative to the text given; units never start or end with whitespace.
 */

export interface TextUnit {
  start: number;
  end: number;
  text: string;
}

const SENTENCE_END = /[。！？；!?;]+[”’」』)）]*|\n+/g;
const CLAUSE_END = /[，,、：:]+/g;

function trimmed(text: string, start: number, end: number): TextUnit | undefined {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  // A lone list marker or punctuation is not a unit.
  if (end - start < 2 || !/[\p{L}\p{N}]/u.test(text.slice(start, end))) return undefined;
  return { start, end, text: text.slice(start, end) };
}

function splitBy(text: string, re: RegExp, start: number, end: number): TextUnit[] {
  const out: TextUnit[] = [];
  const slice = text.slice(start, end);
  let from = 0;
  for (const m of slice.matchAll(re)) {
    const to = m.index + m[0].length;
    const u = trimmed(text, start + from, start + (m[0].startsWith('\n') ? m.index : to));
    if (u) out.push(u);
    from = to;
  }
  const last = trimmed(text, start + from, end);
  if (last) out.push(last);
  return out;
}

export function splitSentences(text: string): TextUnit[] {
  return splitBy(text, SENTENCE_END, 0, text.length);
}

/** Clauses of one sentence (split after ，、：), for cutting a long sentence down. */
export function splitClauses(text: string, unit: TextUnit): TextUnit[] {
  return splitBy(text, CLAUSE_END, unit.start, unit.end);
}

/**
 * The plans open many paragraphs with a short title sentence ("华津3526创意产业园。",
 * "发展质量效益稳步提高。") that says what the paragraph is about but not what is
 * planned; such a sentence is joined with the one after it in the same paragraph.
 */
export function joinLeadPhrases(text: string, units: readonly TextUnit[], maxLeadChars = 18): TextUnit[] {
  const out: TextUnit[] = [];
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    const next = units[i + 1];
    // A title has no clause break and does not end in a quantity ("新开通公交线路2条。" is a fact).
    const titleLike = /。$/.test(u.text) && !/[，,；;]/.test(u.text) && !/\d[^\d]{0,2}。$/.test(u.text);
    if (next && titleLike && u.end - u.start <= maxLeadChars && !text.slice(u.end, next.start).includes('\n')) {
      out.push({ start: u.start, end: next.end, text: text.slice(u.start, next.end) });
      i++;
    } else out.push(u);
  }
  return out;
}
