import { renderAsync } from '@resvg/resvg-js';
import { ChartError } from '../errors.ts';

/**
 * SVG to PNG, and the one file that uses @resvg/resvg-js (its native binary ships in the
 * npm package). Runs on libuv's thread pool (renderAsync), so a render never blocks the
 * event loop that answers other chats. Charts carry their text as outlines, so no font
 * is loaded, system or otherwise.
 */

export interface RasterOptions {
  /** Output pixels per SVG pixel. */
  zoom: number;
}

export async function rasterize(svg: string, options: RasterOptions): Promise<{ png: Buffer; width: number; height: number }> {
  try {
    const image = await renderAsync(svg, { fitTo: { mode: 'zoom', value: options.zoom }, font: { loadSystemFonts: false }, shapeRendering: 2, logLevel: 'off' });
    return { png: image.asPng(), width: image.width, height: image.height };
  } catch (err) {
    throw new ChartError(`rasterize: resvg could not render the chart (${(err as Error).message})`, { cause: err });
  }
}
