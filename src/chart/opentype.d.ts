/**
 * The part of opentype.js the chart font uses. Declared here rather than taken from
 * @types/opentype.js, which pulls the browser's DOM types into the whole (Node-only) program.
 */
declare module 'opentype.js' {
  namespace opentype {
    interface Path {
      toPathData(decimalPlaces?: number): string;
    }
    interface Glyph {
      advanceWidth?: number;
      getPath(x: number, y: number, fontSize: number): Path;
    }
    interface Font {
      unitsPerEm: number;
      ascender: number;
      descender: number;
      glyphs: { get(index: number): Glyph };
      charToGlyphIndex(char: string): number;
    }
    function parse(buffer: ArrayBuffer, options?: { lowMemory: boolean }): Font;
  }
  export default opentype;
}
