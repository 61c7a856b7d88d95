import { ExtractedTextBuilder, type ExtractedDocument } from './extracted-text.ts';

/**
 * Markdown and plain text. The text stays as written (normalizeText() reads headings,
 * emphasis and wrapped lines); a Markdown table ("| a | b |" rows with a "|---|" rule
 * under the header) becomes a grid written one cell per line, like every other format's.
 */

const RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/\\\|/g, '|').replace(/\*\*|__|`/g, '').trim());
}

export function extractMarkdown(text: string, format: 'md' | 'txt'): ExtractedDocument {
  const builder = new ExtractedTextBuilder(format);
  const lines = text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (format === 'md' && line.includes('|') && RULE.test(lines[i + 1] ?? '') && !RULE.test(line)) {
      const rows = [cells(line)];
      let j = i + 2;
      for (; j < lines.length && /^\s*\|?.*\|/.test(lines[j]!) && lines[j]!.trim() !== ''; j++) rows.push(cells(lines[j]!));
      builder.table(rows);
      i = j - 1;
      continue;
    }
    builder.verbatim(line + (i < lines.length - 1 ? '\n' : ''));
  }
  return builder.finish();
}
