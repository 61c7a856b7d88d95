import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import opentype from 'opentype.js';
import { ChartError } from '../errors.ts';

/**
 * The charts' font, and the one file that uses opentype.js. Charts draw every character
 * as a glyph outline taken from this font (see svg-text.ts), so what the PNG shows never
 * depends on a font installed on the machine, and a character the font lacks is known
 * before anything is drawn.
 *
 * The font is Noto Sans SC Regular (SIL Open Font License 1.1), the complete face as
 * Google Fonts publishes it (30,898 glyphs: all of GB 2312 and most of GB 18030's CJK),
 * shipped by the npm package @expo-google-fonts/noto-sans-sc — so `npm install` brings it
 * and a document added later with a rare character still renders. Parsed once per process,
 * lazily (lowMemory: glyphs are read from the file's bytes when first used).
 */

export const CHART_FONT = { family: 'Noto Sans SC', package: '@expo-google-fonts/noto-sans-sc', file: '400Regular/NotoSansSC_400Regular.ttf', license: 'OFL-1.1' } as const;

export interface ChartFont {
  readonly unitsPerEm: number;
  readonly ascender: number;
  readonly descender: number;
  /** The glyph drawn for a character (0 when the font has none: the "box"). */
  glyphIndex(ch: string): number;
  /** Advance width in font units. */
  advance(glyph: number): number;
  /** The outline in font units, y down from the baseline, as SVG path data ('' for blank glyphs). */
  outline(glyph: number): string;
  /** Characters of `text` the font cannot draw (whitespace and controls aside), each once. */
  missing(text: string): string[];
}

let loaded: ChartFont | undefined;

/** Where the installed font file is (throws ChartError naming the fix when the package is missing). */
export function chartFontFile(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve(`${CHART_FONT.package}/package.json`);
  } catch (err) {
    throw new ChartError(`chart-font: the package ${CHART_FONT.package} is not installed; run \`npm install\``, { cause: err });
  }
  return path.join(path.dirname(pkg), CHART_FONT.file);
}

export function loadChartFont(): ChartFont {
  if (loaded) return loaded;
  const file = chartFontFile();
  let font: opentype.Font;
  try {
    const bytes = readFileSync(file);
    font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { lowMemory: true });
  } catch (err) {
    throw new ChartError(`chart-font: cannot read ${file} (${(err as Error).message}); reinstall with \`npm ci\``, { cause: err });
  }
  loaded = wrap(font);
  return loaded;
}

function wrap(font: opentype.Font): ChartFont {
  const outlines = new Map<number, string>();
  const advances = new Map<number, number>();
  const indexOf = (ch: string) => font.charToGlyphIndex(ch);
  return {
    unitsPerEm: font.unitsPerEm,
    ascender: font.ascender,
    descender: font.descender,
    glyphIndex: indexOf,
    advance(glyph) {
      let a = advances.get(glyph);
      if (a === undefined) {
        a = font.glyphs.get(glyph).advanceWidth ?? font.unitsPerEm;
        advances.set(glyph, a);
      }
      return a;
    },
    outline(glyph) {
      let d = outlines.get(glyph);
      if (d === undefined) {
        d = font.glyphs.get(glyph).getPath(0, 0, font.unitsPerEm).toPathData(0);
        outlines.set(glyph, d);
      }
      return d;
    },
    missing(text) {
      const out = new Set<string>();
      for (const ch of text) if (!/[\s\p{Cc}\p{Cf}]/u.test(ch) && indexOf(ch) === 0) out.add(ch);
      return [...out];
    },
  };
}
