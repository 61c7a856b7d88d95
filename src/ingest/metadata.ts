/**
 * Describes a document from its own text: title, district, issuing body, year, the years
 * it covers and its kind. Plans announce all of this on their first lines ("天津市西青区
 * 国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要", "2024年政府工作报告",
 * "关于…2022年…计划执行情况与2023年…计划草案的报告"). Whatever cannot be found is left
 * out and named, so the caller can ask for it (the manifest or the upload dialogue).
 */

export const DOCUMENT_KINDS = ['五年规划', '政府工作报告', '计划报告', '其他'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface InferredMetadata {
  title?: string;
  district?: string;
  issuer?: string;
  year?: number;
  years?: number[];
  kind: DocumentKind;
}

const TITLE_WORDS = /(规划|纲要|报告|计划|方案|意见|通知|办法|决定|公报)$/;
const TITLE_WORDS_ANYWHERE = /规划|纲要|报告|计划|方案|意见|公报/;
const CN_DIGITS: Record<string, number> = { 〇: 0, 零: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9, O: 0, o: 0, Ｏ: 0 };
const PERIOD_NUMBERS: Record<string, number> = { 十一: 11, 十二: 12, 十三: 13, 十四: 14, 十五: 15, 十六: 16 };

/** Years written in digits or in Chinese numerals ("二〇三五年"). */
function yearsIn(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/(?<!\d)(19[5-9]\d|20\d\d)(?=\s*年|\s*[-—–至到]|$|[^\d])/g)) out.push(Number(m[1]));
  for (const m of text.matchAll(/([一二〇零九八七六五四三OoＯ]{4})年/g)) {
    const n = Number([...m[1]!].map((c) => CN_DIGITS[c] ?? 0).join(''));
    if (n >= 1950 && n <= 2100) out.push(n);
  }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The title: the file's own title when it reads like one, else the first title-like lines of the text. */
export function inferTitle(text: string, hint?: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/^\s*#{1,6}\s+/, '').replace(/\s+/g, ' ').replace(/(?<=[\u3000-\u9fff（）()]) | (?=[\u3000-\u9fff（）()])/g, '').trim())
    .filter((l) => l !== '')
    .slice(0, 20);
  const fromHint = hint
    ?.split(/\s*[_|｜]\s*|\s+[-—–]\s+/)
    .map((p) => p.trim())
    .filter((p) => /[\u4e00-\u9fff]/.test(p) && TITLE_WORDS_ANYWHERE.test(p))
    .sort((a, b) => b.length - a.length)[0];
  if (fromHint && text.replace(/\s/g, '').includes(fromHint.replace(/\s/g, ''))) return fromHint;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 80 || /[。；;]/.test(line)) continue;
    const next = lines[i + 1];
    if (!TITLE_WORDS_ANYWHERE.test(line)) {
      // A title wrapped over two lines: "天津市西青区国民经济和社会发展" + "第十四个五年规划…纲要".
      if (line.length <= 40 && !/[，,:：]/.test(line) && next && next.length <= 60 && TITLE_WORDS.test(next) && !/[。；;，,]/.test(next)) return `${line}${next}`;
      continue;
    }
    // "…关于印发天津市武清区…纲要的通知": the notice wraps the document's own title.
    return /关于印发(.{6,})的通知$/.exec(line)?.[1]?.replace(/^《|》$/g, '') ?? line;
  }
  return fromHint ?? undefined;
}

/** "天津市西青区…" / "关于天津市武清区…" / "武清区2018年…" → the district. */
function districtIn(title: string): string | undefined {
  const t = title.replace(/[()（）]/g, '').replace(/^关于/, '');
  const m = /(?:^|[省市])([\u4e00-\u9fff]{1,4}?(?:新区|区|县))/.exec(t);
  return m?.[1];
}

function mostFrequent(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function kindOf(title: string): DocumentKind {
  if (/五年(发展)?规划|十[一二三四五六]五.{0,12}规划/.test(title)) return '五年规划';
  if (/政府工作报告/.test(title)) return '政府工作报告';
  if (/计划(执行情况|草案)|计划的报告|计划报告/.test(title)) return '计划报告';
  return '其他';
}

export function inferMetadata(text: string, hint?: string): InferredMetadata {
  const title = inferTitle(text, hint);
  const head = text.slice(0, 3000);
  const tail = text.slice(-1500);
  const district =
    (title ? districtIn(title) : undefined) ??
    mostFrequent([...text.slice(0, 20000).matchAll(/(?:天津市)?([\u4e00-\u9fff]{2,4}?(?:新区|区|县))(?:人民政府|委员会|人大|政协)/g)].map((m) => m[1]!));
  const issuer = mostFrequent([...`${head}\n${tail}`.matchAll(/((?:天津市)?[\u4e00-\u9fff]{2,4}?(?:新区|区|县)人民政府(?:办公室)?)/g)].map((m) => m[1]!));
  const kind = title ? kindOf(title) : '其他';
  const titleYears = title ? yearsIn(title) : [];
  // A date the document is signed or published on: "2023年1月5日".
  const dated = [...`${head}\n${tail}`.matchAll(/(?<!\d)(20\d\d)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日/g)].map((m) => Number(m[1]));

  let year: number | undefined;
  let years: number[] | undefined;
  const period = title ? /(?:第)?(十[一二三四五六])(?:个)?五年|“?(十[一二三四五六])五”?/.exec(title) : null;
  if (kind === '五年规划' && period) {
    const n = PERIOD_NUMBERS[period[1] ?? period[2]!]!;
    const start = 2021 + (n - 14) * 5;
    // Plans review the period before and may look ahead to a far target year (2035).
    years = [...range(start - 5, start + 4), ...titleYears.filter((y) => y > start + 4)];
    const inPeriod = (y: number) => y >= start && y <= start + 4;
    year = titleYears.filter(inPeriod).sort((a, b) => b - a)[0] ?? dated.find(inPeriod) ?? start;
  } else if (titleYears.length > 0) {
    year = Math.max(...titleYears);
    years = kind === '政府工作报告' ? [year - 1, year] : range(Math.min(...titleYears), year);
  } else if (dated.length > 0) {
    year = dated[0]!;
    years = kind === '政府工作报告' ? [year - 1, year] : [year];
  }
  return {
    ...(title ? { title } : {}),
    ...(district ? { district } : {}),
    ...(issuer ? { issuer } : {}),
    ...(year !== undefined ? { year, years: [...new Set(years ?? [year])].sort((a, b) => a - b) } : {}),
    kind,
  };
}
