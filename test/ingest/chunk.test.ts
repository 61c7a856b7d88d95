import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { chunkDocument, formatSection, ingestDocument, type IngestedDocument } from '../../src/ingest/chunk.ts';
import { loadCorpus, type DocumentMeta, type SourceDocument } from '../../src/ingest/corpus.ts';
import { normalizeText } from '../../src/ingest/normalize.ts';
import { detectSections } from '../../src/ingest/structure.ts';
import { findTables } from '../../src/ingest/tables.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../data/corpus');
const OPTIONS = { chunkSize: 300, chunkOverlap: 40 };
const squeeze = (s: string) => s.replace(/\s/g, '');

let sources: SourceDocument[];
let docs: IngestedDocument[];

beforeAll(async () => {
  sources = await loadCorpus(CORPUS);
  docs = await Promise.all(sources.map((s) => ingestDocument(s, OPTIONS)));
});

const byFile = (prefix: string) => docs.find((d) => d.meta.file.startsWith(prefix))!;

describe('ingestDocument invariants over the whole corpus', () => {
  it('ingests all five documents into chunks', () => {
    expect(docs).toHaveLength(5);
    for (const d of docs) expect(d.chunks.length, d.meta.file).toBeGreaterThan(30);
  });

  it('maps every normalized character back to the same raw character', () => {
    for (const [i, d] of docs.entries()) {
      const raw = sources[i]!.raw;
      expect(d.norm.toSource).toHaveLength(d.text.length + 1);
      for (let k = 0; k < d.text.length; k++) if (raw[d.norm.toSource[k]!] !== d.text[k]) expect.fail(`${d.meta.file}: char ${k}`);
    }
  });

  it('keeps every quote verbatim in the raw file once whitespace is ignored', () => {
    for (const [i, d] of docs.entries()) {
      const raw = squeeze(sources[i]!.raw);
      for (const c of d.chunks) if (!raw.includes(squeeze(c.quote))) expect.fail(`${c.id}: quote not in source: ${c.quote.slice(0, 60)}`);
    }
  });

  it('gives text chunks exact, trimmed offsets inside one section and outside headings and tables', () => {
    for (const d of docs) {
      for (const c of d.chunks.filter((x) => x.kind === 'text')) {
        expect(d.text.slice(c.start, c.end)).toBe(c.text);
        expect(c.quote).toBe(c.text);
        expect(c.text).toBe(c.text.trim());
        expect([...c.text].length).toBeLessThanOrEqual(OPTIONS.chunkSize);
        const inside = d.sections.filter((s) => s.start <= c.start && c.end <= s.end);
        expect(inside, c.id).toHaveLength(1);
        expect(c.section).toEqual(inside[0]!.path);
        expect(d.tables.some((t) => c.start < t.end && t.start < c.end), c.id).toBe(false);
        expect(c.id).toBe(`${c.file}#${c.start}-${c.end}`);
      }
    }
  });

  it('never puts the section path into chunk text', () => {
    for (const d of docs) {
      for (const c of d.chunks) {
        const own = c.section[c.section.length - 1];
        if (own && own.length > 8) expect(c.text.includes(own), `${c.id} contains "${own}"`).toBe(false);
      }
    }
  });

  it('leaves no table-of-contents or site chrome in the text', () => {
    for (const d of docs) {
      expect(d.text).not.toMatch(/…{2,}|\.{4,}/);
      expect(d.text).not.toMatch(/^(无障碍|IE版本|当前位置|分享到|来源:|【打印页面】|\| |名\s*称)|简体 \| 繁体/m);
      expect(d.text).not.toMatch(/^#|\*\*/m);
    }
  });

  it('covers the body text: every sentence of the wuqing 14th body is in some chunk', () => {
    const d = byFile('wuqing-14th');
    const covered = new Uint8Array(d.text.length);
    for (const c of d.chunks) covered.fill(1, c.start, c.end);
    for (const s of d.sections) {
      for (let k = s.start; k < s.end; k++) {
        if (/\s/.test(d.text[k]!) || d.tables.some((t) => t.start <= k && k < t.end)) continue;
        if (!covered[k]) expect.fail(`uncovered at ${k}: ${d.text.slice(k, k + 20)}`);
      }
    }
  });

  it('gives unique, stable ids', async () => {
    for (const [i, d] of docs.entries()) {
      const ids = d.chunks.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      const again = await ingestDocument(sources[i]!, OPTIONS);
      expect(again.chunks.map((c) => c.id)).toEqual(ids);
    }
  });
});

describe('chunk content', () => {
  it('gives the 推动水绿环境提升 passage its chapter and section', () => {
    const d = byFile('wuqing-14th');
    const c = d.chunks.find((x) => x.text.includes('坚持保护优先、自然恢复为主'))!;
    expect(c.section).toEqual(['第五章 打造优良的自然生态,高标准建设美丽武清', '第二节 推动水绿环境提升']);
    expect(formatSection(c.section)).toBe('第五章 打造优良的自然生态,高标准建设美丽武清 › 第二节 推动水绿环境提升');
  });

  it('turns each of the 16 indicator rows into one readable table-row chunk', () => {
    const d = byFile('wuqing-14th');
    const rows = d.chunks.filter((c) => c.kind === 'table-row');
    expect(rows).toHaveLength(16);
    const forest = rows.find((c) => c.indicator?.name === '森林覆盖率')!;
    expect(forest.text).toBe('森林覆盖率(%)：2020年12.07，2025年13，约束性');
    expect(forest.quote).toBe('13 森林覆盖率(% 12.07 13 约束性');
    expect(forest.section).toEqual(['第二章 “十四五”时期武清经济社会发展指导思想和主要目标', '第三节 主要目标', '十四五”时期经济社会发展主要指标']);
    expect(d.text.slice(forest.start, forest.end).replace(/\n/g, ' ')).toBe(forest.quote);
    const gdp = rows.find((c) => c.indicator?.seq === 1)!;
    expect(gdp.text).toBe('地区生产总值增长率(%)：2020年——，2025年6，预期性；注：地区生产总值年均增长率6%以上');
    const water = rows.find((c) => c.indicator?.seq === 12)!;
    expect(water.indicator!.values.map((v) => v.value)).toEqual(['完成市级下达任务目标', '完成市级下达任务目标']);
    expect(water.quote).toBe('12 地表水达到或好于III类水体比例(% 完成市级下达 任务目标 完成市级下达 任务目标 约束性');
    for (const doc of docs.filter((x) => x !== d)) expect(doc.chunks.some((c) => c.kind === 'table-row')).toBe(false);
  });

  it('keeps 。 with its sentence and never crosses a heading (small chunks on a real passage)', async () => {
    const raw =
      '第二节\u2002\u2002推动水绿环境提升\n\n\n坚持保护优先、自然恢复为主,实现留白、留绿、留璞,实施生态修复和建设工程,全面提升湿地、森林等自然生态系统质量和稳定性,筑牢生态安全屏障,京津冀公园城市成为靓丽的城市名片。\n\n' +
      '加大湿地保护修复力度。健全巡护执法、生态补水、控源减污等长效保护机制,推动大黄堡湿地生态涵养功能持续增强、永定河故道湿地公园品质稳步提升,打造国家湿地保护与修复典范。\n\n\n第三节\u2002\u2002加快推进绿色发展\n\n\n坚持绿色发展理念。';
    const meta: DocumentMeta = { file: 'f.txt', title: 't', district: '武清区', year: 2021, years: [2021], kind: '五年规划' };
    const norm = normalizeText(raw);
    const sections = detectSections(norm.text);
    const chunks = await chunkDocument({ meta, text: norm.text, sections, tables: findTables(norm.text, meta), norm }, { chunkSize: 60, chunkOverlap: 10 });
    expect(chunks.length).toBeGreaterThan(4);
    for (const c of chunks) {
      expect(c.text.startsWith('。')).toBe(false);
      expect(c.text).not.toMatch(/第[二三]节/);
      expect([...c.text].length).toBeLessThanOrEqual(60);
    }
    expect(chunks.some((c) => c.text.endsWith('城市名片。'))).toBe(true);
    expect(chunks[chunks.length - 1]).toMatchObject({ text: '坚持绿色发展理念。', section: ['第三节 加快推进绿色发展'] });
  });

  it('splits at removed markdown emphasis so quotes stay verbatim (plan report)', () => {
    const d = byFile('wuqing-2022');
    expect(d.chunks.some((c) => c.text.includes('开放引资'))).toBe(false);
    expect(d.chunks.some((c) => c.text.endsWith('开放引'))).toBe(true);
  });

  it('drops title-only lines before the first heading', () => {
    expect(byFile('wuqing-2018').chunks.some((c) => c.text === '武清区2018年政府工作报告')).toBe(false);
    expect(byFile('wuqing-2018').chunks[0]!.text).toMatch(/^各位代表:\n现在,我代表区人民政府/);
  });

  it('refuses chunking options the splitter cannot honour', async () => {
    const d = byFile('wuqing-2018');
    await expect(chunkDocument(d, { chunkSize: 40, chunkOverlap: 40 })).rejects.toBeInstanceOf(ConfigError);
    await expect(chunkDocument(d, { chunkSize: 0, chunkOverlap: 0 })).rejects.toThrow(/chunkSize/);
  });
});
