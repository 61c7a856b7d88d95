import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_WIDTH, barChartSvg, niceAxis } from '../../src/chart/bar-chart-svg.ts';
import { loadChartFont } from '../../src/chart/chart-font.ts';
import { ChartRenderer, chartKey } from '../../src/chart/chart-renderer.ts';
import { figureValue, unitKind, type ChartSpec } from '../../src/chart/chart-spec.ts';
import { indicatorChartSpec, indicatorTables } from '../../src/chart/indicator-chart.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

/**
 * Charts checked without eyes: the geometry is read back from the SVG before it is
 * rasterized (bar lengths against the values they claim, one unit per axis), the PNG's
 * size from its header, and the font's coverage of every character the corpus's
 * indicator tables put in a chart.
 */

let fixture: TestIndex;
beforeAll(async () => {
  fixture = await buildTestIndex();
});
afterAll(() => fixture?.cleanup());

interface Bar {
  panel: number;
  unit: string;
  series: string;
  value: number;
  width: number;
  x: number;
}

const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function barsOf(svg: string): Bar[] {
  return [...svg.matchAll(/<rect class="bar"[^>]*>/g)].map(([tag]) => ({
    panel: Number(attr(tag, 'data-panel')),
    unit: unescape(attr(tag, 'data-unit')!),
    series: unescape(attr(tag, 'data-series')!),
    value: Number(attr(tag, 'data-value')),
    width: Number(attr(tag, 'width')),
    x: Number(attr(tag, 'x')),
  }));
}

function panelsOf(svg: string): Array<{ panel: number; unit: string; min: number; max: number; zeroX: number }> {
  return [...svg.matchAll(/<g class="panel"[^>]*>/g)].map(([tag]) => ({
    panel: Number(attr(tag, 'data-panel')),
    unit: unescape(attr(tag, 'data-unit')!),
    min: Number(attr(tag, 'data-axis-min')),
    max: Number(attr(tag, 'data-axis-max')),
    zeroX: Number(attr(tag, 'data-zero-x')),
  }));
}

const textsOf = (svg: string) => [...svg.matchAll(/<g class="text" data-text="([^"]*)"/g)].map((m) => unescape(m[1]!));

function wuqingSpec(): ChartSpec {
  const [table] = indicatorTables(fixture.index, '武清区');
  return indicatorChartSpec(table!);
}

describe('indicator chart geometry (read back from the SVG)', () => {
  it('draws one bar per numeric cell, its length proportional to its value within a panel', () => {
    const spec = wuqingSpec();
    const { svg } = barChartSvg(spec, loadChartFont());
    const bars = barsOf(svg);
    const numericCells = spec.panels.flatMap((p) => p.rows.flatMap((r) => r.bars.filter((b) => b.value !== null)));
    expect(bars).toHaveLength(numericCells.length);
    expect(bars.length).toBeGreaterThanOrEqual(25);
    const panels = panelsOf(svg);
    for (const panel of panels) {
      const inPanel = bars.filter((b) => b.panel === panel.panel);
      expect(inPanel.length).toBeGreaterThan(0);
      const perUnit = inPanel.map((b) => b.width / b.value);
      for (const ratio of perUnit) expect(ratio).toBeCloseTo(perUnit[0]!, 3);
      // Bars start at the axis' zero and the longest stays inside the axis.
      for (const b of inPanel) expect(b.x).toBeCloseTo(panel.zeroX, 1);
      expect(Math.max(...inPanel.map((b) => b.value))).toBeLessThanOrEqual(panel.max);
    }
    // 森林覆盖率: 12.07 → 13 in the % panel, drawn 12.07 : 13.
    const pct = panels.find((p) => p.unit === '%')!;
    const forest = bars.filter((b) => b.panel === pct.panel && (b.value === 12.07 || b.value === 13));
    expect(forest).toHaveLength(2);
    expect(forest[0]!.width / forest[1]!.width).toBeCloseTo(12.07 / 13, 4);
  });

  it('never puts two units on one axis: each panel has one unit, and no unit has two panels', () => {
    const { svg } = barChartSvg(wuqingSpec(), loadChartFont());
    const panels = panelsOf(svg);
    expect(panels.map((p) => p.unit)).toEqual(['%', '万元/人', '万家', '家', '件/万人', '人', '年']);
    expect(new Set(panels.map((p) => p.unit)).size).toBe(panels.length);
    for (const b of barsOf(svg)) expect(b.unit).toBe(panels.find((p) => p.panel === b.panel)!.unit);
  });

  it('writes every figure as the table does, and cells without a number as their words, with no bar', () => {
    const spec = wuqingSpec();
    const { svg } = barChartSvg(spec, loadChartFont());
    const texts = textsOf(svg);
    for (const label of ['12.07', '13', '24.9', '40', '640', '850', '完成市级下达任务目标', '与经济增长基本同步', '——']) expect(texts).toContain(label);
    expect(barsOf(svg).some((b) => Number.isNaN(b.value))).toBe(false);
    expect(texts).toContain('约束性');
    expect(texts).toContain('2025年目标（约束性）');
    // Binding targets are drawn in their own colour.
    const binding = /data-series="2025" data-value="13" [^>]*fill="([^"]+)"/.exec(svg)?.[1];
    const expected = /data-series="2025" data-value="40" [^>]*fill="([^"]+)"/.exec(svg)?.[1];
    expect(binding).toBeDefined();
    expect(binding).not.toBe(expected);
  });

  it('keeps a negative value left of zero, in proportion', () => {
    const spec: ChartSpec = {
      title: '测试',
      series: [{ id: 'a', label: 'a', role: 'side' }],
      panels: [{ unit: '%', kind: 'percent', rows: [{ label: '降', bars: [{ series: 'a', value: -5, label: '-5' }] }, { label: '升', bars: [{ series: 'a', value: 10, label: '10' }] }] }],
    };
    const { svg } = barChartSvg(spec, loadChartFont());
    const [down, up] = barsOf(svg);
    const [panel] = panelsOf(svg);
    expect(down!.x + down!.width).toBeCloseTo(panel!.zeroX, 1);
    expect(up!.width / down!.width).toBeCloseTo(2, 4);
  });
});

describe('rendering', () => {
  it('renders a PNG of the expected size (read from its header), cached by content', async () => {
    const renderer = new ChartRenderer();
    const spec = wuqingSpec();
    const [a, b] = await Promise.all([renderer.render(spec), renderer.render(spec)]);
    expect(a).toBe(b);
    expect(a.png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const width = a.png.readUInt32BE(16);
    const height = a.png.readUInt32BE(20);
    const svgHeight = Number(/height="(\d+)"/.exec(a.svg)![1]);
    expect(width).toBe(CHART_WIDTH * 1.5);
    expect(height).toBe(Math.round(svgHeight * 1.5));
    expect([a.width, a.height]).toEqual([width, height]);
    // Telegram's photo limits: 10 MB, width + height ≤ 10000, ratio ≤ 20.
    expect(a.png.length).toBeLessThan(10 * 1024 * 1024);
    expect(width + height).toBeLessThanOrEqual(10_000);
    expect(await renderer.render(spec)).toBe(a);
    const changed = { ...spec, title: `${spec.title}（改）` };
    expect(chartKey(changed)).not.toBe(a.key);
    expect((await renderer.render(changed)).key).toBe(chartKey(changed));
    expect(renderer.cached.entries).toBe(2);
  });
});

describe('the font', () => {
  it('covers every character of every indicator table of the corpus, as drawn', () => {
    const font = loadChartFont();
    const tables = indicatorTables(fixture.index, null);
    expect(tables.length).toBeGreaterThan(0);
    let characters = 0;
    for (const table of tables) {
      const spec = indicatorChartSpec(table);
      const { svg, missing } = barChartSvg(spec, font);
      expect(missing).toEqual([]);
      const names = table.rows.map((r) => `${r.name}${r.unit ?? ''}${r.values.map((v) => v.value).join('')}${r.attribute ?? ''}`).join('') + table.table + table.title;
      expect(font.missing(names)).toEqual([]);
      // Every name is drawn whole or wrapped: its characters all appear in the drawn text.
      const drawn = textsOf(svg).join('');
      for (const row of table.rows) for (const ch of row.name) expect(drawn).toContain(ch);
      characters += new Set(names).size;
    }
    expect(characters).toBeGreaterThan(100);
  });

  it('reports a character it cannot draw instead of drawing a box', () => {
    const font = loadChartFont();
    expect(font.missing('森林\uE000覆盖率')).toEqual(['\uE000']);
    const spec: ChartSpec = { title: '私用区\uE000', series: [], panels: [] };
    expect(barChartSvg(spec, font).missing).toEqual(['\uE000']);
  });
});

describe('chart-spec', () => {
  it('reads numbers only where the text states one', () => {
    expect(figureValue('12.07')).toBe(12.07);
    expect(figureValue('〔15〕')).toBe(15);
    expect(figureValue('≥95')).toBe(95);
    expect(figureValue('近30%')).toBe(30);
    expect(figureValue('6以上')).toBe(6);
    expect(figureValue('1,200')).toBe(1200);
    for (const t of ['——', '完成市级下达任务目标', '1至2', '']) expect(figureValue(t)).toBeNull();
  });

  it('sorts units into kinds and picks round axes that include zero', () => {
    expect(['%', '万元/人', '万家', '年'].map(unitKind)).toEqual(['percent', 'amount', 'count', 'other']);
    expect(niceAxis([12.07, 13, 63])).toEqual({ min: 0, max: 80, step: 20 });
    expect(niceAxis([640, 850])).toEqual({ min: 0, max: 1000, step: 250 });
    expect(niceAxis([-5, 10])).toMatchObject({ min: -5, max: 10 });
    expect(niceAxis([0])).toMatchObject({ min: 0, max: 0.25 });
  });
});
