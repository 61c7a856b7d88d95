import type { ChartFont } from './chart-font.ts';

/**
 * Text in a chart's SVG as glyph outlines: each glyph's path is defined once in <defs>
 * and placed with <use>, inside a group that keeps the text in `data-text` (for tests
 * and accessibility). The rasterizer then needs no font at all — resvg's own text
 * layout re-reads the font for every glyph, which costs seconds for a CJK font — and a
 * character the font lacks is collected in `missing` instead of drawn as a box.
 */

export interface TextStyle {
  size: number;
  fill: string;
  /** Faux bold: the outline stroked in its own colour. */
  bold?: boolean;
  anchor?: 'start' | 'middle' | 'end';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number) => (Math.round(n * 100) / 100).toString();

export class SvgText {
  private readonly defs = new Map<number, string>();
  readonly missing = new Set<string>();

  constructor(private readonly font: ChartFont) {}

  /** Width of `text` at `size`, in pixels. */
  width(text: string, size: number): number {
    let units = 0;
    for (const ch of text) units += this.font.advance(this.font.glyphIndex(ch));
    return (units * size) / this.font.unitsPerEm;
  }

  /**
   * Lines of at most `maxWidth`, broken between characters (Chinese has no spaces to wait
   * for) but never inside a run of digits or Latin letters; at most `maxLines`, the last
   * ending in "…" when cut.
   */
  wrap(text: string, size: number, maxWidth: number, maxLines = 3): string[] {
    const tokens = text.match(/[A-Za-z0-9.%‰()（）/+-]+|./gsu) ?? [];
    const lines: string[] = [];
    let line = '';
    for (const token of tokens) {
      if (line && this.width(line + token, size) > maxWidth) {
        lines.push(line);
        line = token.trimStart();
      } else line += token;
    }
    if (line) lines.push(line);
    if (lines.length <= maxLines) return lines;
    const kept = lines.slice(0, maxLines);
    let last = kept[maxLines - 1]!;
    while (last.length > 1 && this.width(`${last}…`, size) > maxWidth) last = last.slice(0, -1);
    kept[maxLines - 1] = `${last}…`;
    return kept;
  }

  /** One line of text with its baseline at y. */
  draw(text: string, x: number, y: number, style: TextStyle): string {
    const w = this.width(text, style.size);
    let left = x;
    if (style.anchor === 'middle') left = x - w / 2;
    else if (style.anchor === 'end') left = x - w;
    const scale = style.size / this.font.unitsPerEm;
    const uses: string[] = [];
    let pen = 0;
    for (const ch of text) {
      const glyph = this.font.glyphIndex(ch);
      if (glyph === 0 && !/\s/u.test(ch)) this.missing.add(ch);
      if (!this.defs.has(glyph)) this.defs.set(glyph, this.font.outline(glyph));
      if (this.defs.get(glyph)) uses.push(`<use href="#g${glyph}" x="${num(pen)}"/>`);
      pen += this.font.advance(glyph);
    }
    const stroke = style.bold ? ` stroke="${style.fill}" stroke-width="36" stroke-linejoin="round"` : '';
    return `<g class="text" data-text="${esc(text)}" fill="${style.fill}"${stroke} transform="translate(${num(left)} ${num(y)}) scale(${scale})">${uses.join('')}</g>`;
  }

  /** The <defs> with every glyph drawn so far. */
  defsSvg(): string {
    const paths = [...this.defs].filter(([, d]) => d).map(([i, d]) => `<path id="g${i}" d="${d}"/>`);
    return `<defs>${paths.join('')}</defs>`;
  }
}
