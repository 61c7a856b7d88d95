import type { ChartFont } from './chart-font.ts';
import { UNIT_KIND_LABEL, type ChartBar, type ChartPanel, type ChartRow, type ChartSpec } from './chart-spec.ts';
import { SvgText } from './svg-text.ts';

/**
 * A ChartSpec as SVG: horizontal bars (long Chinese indicator names read best on the
 * left), one panel per unit with its own value axis starting at zero, the value written
 * verbatim at each bar's end. Bars and panels carry data-* attributes (unit, series,
 * value, axis range) so tests can check the geometry against the numbers without
 * looking at pixels.
 */

export const CHART_WIDTH = 720;

export interface SvgChart {
  svg: string;
  width: number;
  height: number;
  /** Characters the font could not draw (should be none). */
  missing: string[];
}

const PAD = 24;
const LABEL_WIDTH = 230;
const VALUE_ROOM = 92;
const BAR_HEIGHT = 14;
const BAR_GAP = 4;
const INK = '#1f2933';
const MUTED = '#616e7c';
const GRID = '#e4e7eb';
const COLORS = { base: '#9fb3c8', target: '#2c6fbb', binding: '#c23b22' };
const SIDE_COLORS = ['#2c6fbb', '#e08a1e', '#3a9b5c', '#8e5cb5', '#c23b22', '#0f8b8d'];

const num = (n: number) => (Math.round(n * 100) / 100).toString();
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step near range/4 (1, 2, 2.5 or 5 × 10^k) and the axis it gives, always including 0. */
export function niceAxis(values: readonly number[]): { min: number; max: number; step: number } {
  const hi = Math.max(0, ...values);
  const lo = Math.min(0, ...values);
  const span = hi - lo || 1;
  const raw = span / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return { min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step || step, step };
}

function barColor(spec: ChartSpec, row: ChartRow, bar: ChartBar, rowIndex: number): string {
  const series = spec.series.find((s) => s.id === bar.series);
  if (series?.role === 'base') return COLORS.base;
  if (series?.role === 'target') return row.attribute === '约束性' ? COLORS.binding : COLORS.target;
  return SIDE_COLORS[rowIndex % SIDE_COLORS.length]!;
}

export function barChartSvg(spec: ChartSpec, font: ChartFont): SvgChart {
  const text = new SvgText(font);
  const W = CHART_WIDTH;
  const parts: string[] = [];
  let y = PAD;

  for (const line of text.wrap(spec.title, 20, W - 2 * PAD, 2)) {
    y += 26;
    parts.push(text.draw(line, PAD, y, { size: 20, fill: INK, bold: true }));
  }
  if (spec.subtitle) {
    for (const line of text.wrap(spec.subtitle, 13, W - 2 * PAD, 2)) {
      y += 19;
      parts.push(text.draw(line, PAD, y, { size: 13, fill: MUTED }));
    }
  }

  // Legend: the series, and the two kinds of target when both occur.
  y += 14;
  let x = PAD;
  const legend: Array<{ color: string; label: string }> = [];
  const attributes = new Set(spec.panels.flatMap((p) => p.rows.map((r) => r.attribute)));
  for (const s of spec.series) {
    if (s.role === 'base') legend.push({ color: COLORS.base, label: s.label });
    else if (s.role === 'target') {
      if (attributes.has('预期性') || !attributes.has('约束性')) legend.push({ color: COLORS.target, label: attributes.has('约束性') ? `${s.label}（预期性）` : s.label });
      if (attributes.has('约束性')) legend.push({ color: COLORS.binding, label: `${s.label}（约束性）` });
    }
  }
  if (legend.length > 0) {
    y += 14;
    for (const item of legend) {
      parts.push(`<rect class="legend" x="${num(x)}" y="${num(y - 11)}" width="12" height="12" rx="2" fill="${item.color}"/>`);
      parts.push(text.draw(item.label, x + 17, y, { size: 12, fill: INK }));
      x += 17 + text.width(item.label, 12) + 20;
    }
    y += 6;
  }

  const plotX = PAD + LABEL_WIDTH + 12;
  const plotW = W - plotX - PAD - VALUE_ROOM;
  spec.panels.forEach((panel, panelIndex) => {
    y += 26;
    parts.push(text.draw(`${UNIT_KIND_LABEL[panel.kind]} · 单位：${panel.unit}`, PAD, y, { size: 14, fill: INK, bold: true }));
    y += 8;
    parts.push(`<line x1="${PAD}" y1="${num(y)}" x2="${W - PAD}" y2="${num(y)}" stroke="${GRID}" stroke-width="1"/>`);
    const values = panel.rows.flatMap((r) => r.bars.map((b) => b.value).filter((v): v is number => v !== null));
    const axis = niceAxis(values);
    const scale = plotW / (axis.max - axis.min);
    const zeroX = plotX + -axis.min * scale;
    const panelTop = y;
    const body: string[] = [];
    y += 10;
    panel.rows.forEach((row, rowIndex) => {
      const labelLines = text.wrap(row.label, 13, LABEL_WIDTH, 3);
      const labelHeight = labelLines.length * 17 + (row.attribute ? 18 : 0);
      const barsHeight = row.bars.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
      const rowHeight = Math.max(labelHeight, barsHeight);
      let ly = y + 13;
      for (const line of labelLines) {
        body.push(text.draw(line, PAD, ly, { size: 13, fill: INK }));
        ly += 17;
      }
      if (row.attribute) {
        const binding = row.attribute === '约束性';
        const color = binding ? COLORS.binding : MUTED;
        body.push(`<rect class="tag" data-attribute="${row.attribute}" x="${PAD}" y="${num(ly - 12)}" width="${num(text.width(row.attribute, 11) + 8)}" height="15" rx="3" fill="none" stroke="${color}" stroke-width="1"/>`);
        body.push(text.draw(row.attribute, PAD + 4, ly, { size: 11, fill: color }));
      }
      let by = y + (rowHeight - barsHeight) / 2;
      for (const bar of row.bars) {
        const color = barColor(spec, row, bar, rowIndex);
        if (bar.value === null) {
          body.push(text.draw(bar.label, zeroX + 4, by + BAR_HEIGHT - 2, { size: 12, fill: color }));
        } else {
          const w = Math.abs(bar.value) * scale;
          const bx = bar.value >= 0 ? zeroX : zeroX - w;
          body.push(
            `<rect class="bar" data-panel="${panelIndex}" data-unit="${esc(panel.unit)}" data-series="${esc(bar.series)}" data-value="${bar.value}" x="${num(bx)}" y="${num(by)}" width="${w.toFixed(3)}" height="${BAR_HEIGHT}" fill="${color}"/>`,
          );
          const labelX = bar.value >= 0 ? bx + w + 4 : zeroX + 4;
          body.push(text.draw(bar.label, labelX, by + BAR_HEIGHT - 2, { size: 12, fill: INK }));
        }
        by += BAR_HEIGHT + BAR_GAP;
      }
      y += rowHeight + 12;
    });
    // Grid lines and tick labels under the rows.
    const grid: string[] = [];
    for (let t = axis.min; t <= axis.max + axis.step / 1e6; t += axis.step) {
      const gx = plotX + (t - axis.min) * scale;
      grid.push(`<line x1="${num(gx)}" y1="${num(panelTop + 4)}" x2="${num(gx)}" y2="${num(y)}" stroke="${t === 0 ? '#9aa5b1' : GRID}" stroke-width="1"/>`);
      const tick = Number(t.toFixed(6)).toString();
      grid.push(text.draw(t === axis.max ? `${tick}${panel.unit.length <= 3 ? panel.unit : ''}` : tick, gx, y + 14, { size: 11, fill: MUTED, anchor: 'middle' }));
    }
    parts.push(
      `<g class="panel" data-panel="${panelIndex}" data-unit="${esc(panel.unit)}" data-axis-min="${axis.min}" data-axis-max="${axis.max}" data-zero-x="${num(zeroX)}" data-scale="${scale}">${grid.join('')}${body.join('')}</g>`,
    );
    y += 16;
  });

  if (spec.footnote) {
    y += 12;
    for (const line of text.wrap(spec.footnote, 11, W - 2 * PAD, 4)) {
      y += 16;
      parts.push(text.draw(line, PAD, y, { size: 11, fill: MUTED }));
    }
  }
  const height = Math.ceil(y + PAD);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">${text.defsSvg()}<rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`;
  return { svg, width: W, height, missing: [...text.missing] };
}
