/**
 * Character classes for deciding which whitespace in an extraction is noise.
 * PDF/web extraction scatters spaces through Chinese text ("居民人 均", "“ 十四五 ”"); Chinese
 * never uses them, so a space touching a CJK character is dropped, while a space between two
 * Latin words or numbers ("PM 2.5") is real and kept.
 */

/** CJK ideographs (BMP blocks) plus any surrogate half: astral ideographs (Ext. B …) arrive as pairs. */
export function isCjkIdeograph(ch: string | undefined): boolean {
  if (ch === undefined || ch === '') return false;
  const c = ch.charCodeAt(0);
  return (
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xd800 && c <= 0xdfff) ||
    c === 0x3007 // 〇, used in 二〇三五年
  );
}

/** Punctuation that only appears in CJK typesetting: CJK symbols, full-width forms, curly quotes, dashes, …, ·, •. */
export function isCjkPunct(ch: string | undefined): boolean {
  if (ch === undefined || ch === '') return false;
  const c = ch.charCodeAt(0);
  return (
    (c >= 0x3000 && c <= 0x303f && c !== 0x3000 && c !== 0x3007) ||
    (c >= 0xff00 && c <= 0xffef) ||
    (c >= 0x2010 && c <= 0x2027) ||
    c === 0x00b7
  );
}

export function isCjk(ch: string | undefined): boolean {
  return isCjkIdeograph(ch) || isCjkPunct(ch);
}

export function isAsciiPunct(ch: string | undefined): boolean {
  return ch !== undefined && ch.length > 0 && /[!-/:-@[-`{-~]/.test(ch);
}

/** Whitespace inside a line (not the line break): space, tab, NBSP, en/em spaces, ideographic space, BOM. */
export function isHorizontalSpace(ch: string | undefined): boolean {
  return ch !== undefined && ch !== '\n' && /^\s$/.test(ch);
}

/**
 * Punctuation that ends a sentence or clause list, so the paragraph after it is a new one.
 * Used to decide whether a line break is a PDF artefact (the sentence runs on) or real.
 */
export function endsSentence(ch: string | undefined): boolean {
  return ch !== undefined && /[。！？!?；;：:…”’"）)】》〕]/.test(ch);
}
