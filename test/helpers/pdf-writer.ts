/**
 * Writes small PDFs for tests and benchmarks, in plain JS. Text is drawn with a Type0
 * font (Identity-H, two-byte codes equal to the UTF-16 code unit) and a ToUnicode CMap,
 * so a text extractor reads back exactly the characters given; every glyph is one em
 * wide (CJK text is). No glyphs are embedded: the files are for extraction, not viewing.
 * A page may instead carry only an image, like a scan without a text layer.
 */

export interface PdfTextItem {
  text: string;
  /** Points from the left edge. */
  x: number;
  /** Points from the bottom edge (PDF's own convention). */
  y: number;
  size?: number;
}

export interface PdfPage {
  items?: PdfTextItem[];
  /** Draws a grey image over the page instead of (or besides) text. */
  image?: boolean;
}

export const PAGE_WIDTH = 595;
export const PAGE_HEIGHT = 842;

function hex(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

function toUnicodeCMap(): string {
  const ranges: string[] = [];
  for (let hi = 0; hi < 256; hi++) {
    if (hi >= 0xd8 && hi <= 0xdf) continue; // surrogates
    const h = hi.toString(16).padStart(2, '0');
    ranges.push(`<${h}00> <${h}ff> <${h}00>`);
  }
  const blocks: string[] = [];
  for (let i = 0; i < ranges.length; i += 100) {
    const part = ranges.slice(i, i + 100);
    blocks.push(`${part.length} beginbfrange\n${part.join('\n')}\nendbfrange`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange\n<0000> <ffff>\nendcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/**
 * Builds a PDF file from pages of positioned text. `font: 'standard-gb'` draws with the
 * non-embedded STSong-Light under the predefined UniGB-UCS2-H encoding and no ToUnicode
 * map, as older Chinese PDFs do: a reader needs Adobe's CMaps to get the text back.
 */
export function writePdf(pages: PdfPage[], info: { title?: string; font?: 'identity' | 'standard-gb' } = {}): Buffer {
  const objects: Array<string | Buffer> = [];
  const add = (body: string | Buffer): number => objects.push(body);
  const stream = (dict: string, data: string | Buffer): Buffer => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return Buffer.concat([Buffer.from(`<< ${dict} /Length ${bytes.length} >>\nstream\n`, 'latin1'), bytes, Buffer.from('\nendstream', 'latin1')]);
  };

  const catalog = add('');
  const pagesObj = add('');
  const cmap = add(stream('', toUnicodeCMap()));
  const descriptor = add('<< /Type /FontDescriptor /FontName /PlanSans /Flags 4 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>');
  const cidFont = add(
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /PlanSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${descriptor} 0 R /DW 1000 /CIDToGIDMap /Identity >>`,
  );
  const gbDescriptor = add('<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>');
  const gbFont = add(`<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor ${gbDescriptor} 0 R /DW 1000 >>`);
  const font =
    info.font === 'standard-gb'
      ? add(`<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H /Encoding /UniGB-UCS2-H /DescendantFonts [${gbFont} 0 R] >>`)
      : add(`<< /Type /Font /Subtype /Type0 /BaseFont /PlanSans /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${cmap} 0 R >>`);
  const image = add(stream('/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8', Buffer.alloc(64, 0x99)));

  const pageIds: number[] = [];
  for (const page of pages) {
    const ops: string[] = [];
    if (page.image) ops.push(`q ${PAGE_WIDTH} 0 0 ${PAGE_HEIGHT} 0 0 cm /Im1 Do Q`);
    for (const item of page.items ?? []) {
      ops.push(`BT /F1 ${item.size ?? 12} Tf ${item.x} ${item.y} Td <${hex(item.text)}> Tj ET`);
    }
    const content = add(stream('', ops.join('\n')));
    pageIds.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources << /Font << /F1 ${font} 0 R >> /XObject << /Im1 ${image} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${pageIds.map((p) => `${p} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  const infoObj = info.title ? add(`<< /Title <feff${hex(info.title)}> >>`) : undefined;

  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(chunk);
    offset += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${infoObj ? ` /Info ${infoObj} 0 R` : ''} >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref + trailer, 'latin1'));
  return Buffer.concat(parts);
}

/**
 * Lays out paragraphs as a plan PDF would: a running header and a page number on every
 * page, lines of `perLine` characters with paragraphs indented two characters, a
 * paragraph running on over a page break. A table is drawn as rows of cells at fixed
 * column positions.
 */
export type PlanBlock = { paragraph: string } | { heading: string } | { table: string[][]; columns: number[] };

export function layoutPlanPdf(blocks: PlanBlock[], options: { header: string; title?: string; perLine?: number; linesPerPage?: number }): Buffer {
  const size = 12;
  const left = 72;
  const perLine = options.perLine ?? 36;
  const linesPerPage = options.linesPerPage ?? 40;
  const pages: PdfPage[] = [];
  let items: PdfTextItem[] = [];
  let line = 0;
  const newPage = () => {
    const n = pages.length + 1;
    items.push({ text: options.header, x: left, y: PAGE_HEIGHT - 50, size: 9 });
    items.push({ text: `- ${n} -`, x: PAGE_WIDTH / 2 - 12, y: 40, size: 9 });
    pages.push({ items });
    items = [];
    line = 0;
  };
  const y = () => PAGE_HEIGHT - 90 - line * (size * 1.6);
  const put = (text: string, x: number) => {
    if (line >= linesPerPage) newPage();
    items.push({ text, x, y: y(), size });
  };
  for (const block of blocks) {
    if ('heading' in block) {
      put(block.heading, left);
      line++;
    } else if ('paragraph' in block) {
      let rest = block.paragraph;
      let first = true;
      while (rest.length > 0) {
        const width = first ? perLine - 2 : perLine;
        put(rest.slice(0, width), first ? left + 2 * size : left);
        rest = rest.slice(width);
        first = false;
        line++;
      }
    } else {
      for (const row of block.table) {
        row.forEach((cell, i) => {
          if (cell !== '') put(cell, left + block.columns[i]!);
        });
        line++;
      }
    }
  }
  if (items.length > 0 || pages.length === 0) newPage();
  return writePdf(pages, options.title ? { title: options.title } : {});
}
