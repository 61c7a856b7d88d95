import { createHash } from 'node:crypto';
import { barChartSvg } from './bar-chart-svg.ts';
import { loadChartFont, type ChartFont } from './chart-font.ts';
import type { ChartSpec } from './chart-spec.ts';
import { rasterize } from './rasterize.ts';

/**
 * Charts as PNG, cached by content: the key is a hash of the spec (what is drawn), so
 * the same indicators for any chat are drawn once, and a chart whose numbers change is
 * drawn anew. Concurrent requests for one chart share one render; rasterizing runs off
 * the event loop, a few at a time.
 */

/** Bumped when the drawing changes, so old cache entries (and Telegram file ids) are not reused. */
export const CHART_STYLE_VERSION = 1;

export interface RenderedChart {
  key: string;
  png: Buffer;
  /** Pixel size of the PNG. */
  width: number;
  height: number;
  svg: string;
  /** Characters the font could not draw (should be none; logged by callers). */
  missing: string[];
}

export interface ChartRendererOptions {
  /** PNG pixels per SVG pixel (720 px wide charts → 1080 px). */
  zoom: number;
  cacheEntries: number;
  cacheBytes: number;
  concurrency: number;
}

export const CHART_RENDERER_DEFAULTS: ChartRendererOptions = { zoom: 1.5, cacheEntries: 64, cacheBytes: 32 * 1024 * 1024, concurrency: 2 };

const PUBLISHED_KEPT = 1024;

export function chartKey(spec: ChartSpec): string {
  return createHash('sha256').update(JSON.stringify({ v: CHART_STYLE_VERSION, spec })).digest('hex').slice(0, 24);
}

export class ChartRenderer {
  readonly options: ChartRendererOptions;
  private readonly cache = new Map<string, RenderedChart>();
  private cacheBytes = 0;
  private readonly inFlight = new Map<string, Promise<RenderedChart>>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly published = new Map<string, string>();
  private readonly publishing = new Map<string, Promise<string | undefined>>();

  constructor(
    options: Partial<ChartRendererOptions> = {},
    private readonly font: () => ChartFont = loadChartFont,
  ) {
    this.options = { ...CHART_RENDERER_DEFAULTS, ...options };
  }

  /**
   * Loads the font and draws a small chart, so the first chart a user asks for does not
   * wait (or hold the event loop) for the font to be parsed. Throws ChartError when the
   * font is missing, for the caller to log at start-up.
   */
  async warmUp(): Promise<void> {
    await this.render({ title: '预热 0123456789%', series: [{ id: 'a', label: 'a', role: 'side' }], panels: [{ unit: '%', kind: 'percent', rows: [{ label: '指标', bars: [{ series: 'a', value: 1, label: '1' }] }] }] });
  }

  /** The SVG alone (synchronous; for tests and the console). */
  svg(spec: ChartSpec): ReturnType<typeof barChartSvg> {
    return barChartSvg(spec, this.font());
  }

  async render(spec: ChartSpec): Promise<RenderedChart> {
    const key = chartKey(spec);
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.draw(key, spec).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * Where a chart was published (Telegram's file_id of the uploaded photo), so the same
   * chart — for another chat, or a digest's fan-out — is sent by id instead of uploaded again.
   */
  publishedId(key: string): string | undefined {
    return this.published.get(key);
  }

  /**
   * The chart's published id, uploading it with `upload` only when no copy is published
   * or being published: a digest fanned out to many chats at once uploads its chart once,
   * the others wait for that upload and reuse its id. (If that upload fails, each waiter
   * uploads its own.)
   */
  async publishOnce(key: string, upload: () => Promise<string | undefined>): Promise<string | undefined> {
    const known = this.published.get(key);
    if (known) return known;
    const inFlight = this.publishing.get(key);
    if (inFlight) {
      const id = await inFlight.catch(() => undefined);
      if (id) return id;
    }
    const mine = upload();
    this.publishing.set(key, mine);
    try {
      const id = await mine;
      this.setPublishedId(key, id);
      return id;
    } finally {
      if (this.publishing.get(key) === mine) this.publishing.delete(key);
    }
  }

  setPublishedId(key: string, id: string | undefined): void {
    if (id === undefined) {
      this.published.delete(key);
      return;
    }
    if (this.published.size >= PUBLISHED_KEPT) this.published.delete(this.published.keys().next().value!);
    this.published.set(key, id);
  }

  get cached(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cacheBytes };
  }

  private async draw(key: string, spec: ChartSpec): Promise<RenderedChart> {
    await this.slot();
    try {
      const { svg, missing } = barChartSvg(spec, this.font());
      const { png, width, height } = await rasterize(svg, { zoom: this.options.zoom });
      const chart: RenderedChart = { key, png, width, height, svg, missing };
      this.remember(chart);
      return chart;
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async slot(): Promise<void> {
    if (this.active >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private remember(chart: RenderedChart): void {
    const size = chart.png.length + chart.svg.length;
    if (size > this.options.cacheBytes) return;
    this.cache.set(chart.key, chart);
    this.cacheBytes += size;
    for (const [k, c] of this.cache) {
      if (this.cache.size <= this.options.cacheEntries && this.cacheBytes <= this.options.cacheBytes) break;
      this.cache.delete(k);
      this.cacheBytes -= c.png.length + c.svg.length;
    }
  }
}
