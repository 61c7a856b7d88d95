import { renderAsync } from '@resvg/resvg-js';
import { ChartError } from '../errors.ts';
import { encodePng } from './png-encode.ts';

/**
 * SVG to PNG, and the one file that uses @resvg/resvg-js (its native binary ships in the
 * npm package). Drawing runs on libuv's thread pool (renderAsync) and so does the PNG's
 * compression (png-encode.ts; resvg's own asPng() would hold the event loop ~100 ms), so
 * a render does not block answering other chats. Charts carry their text as outlines,
 * so no font is loaded, system or otherwise.
 */

export interface RasterOptions {
  /** Output pixels per SVG pixel. */
  zoom: number;
}

export async function rasterize(svg: string, options: RasterOptions): Promise<{ png: Buffer; width: number; height: number }> {
  try {
    const image = await renderAsync(svg, { fitTo: { mode: 'zoom', value: options.zoom }, font: { loadSystemFonts: false }, shapeRendering: 2, logLevel: 'off' });
    return { png: await encodePng(image.pixels, image.width, image.height), width: image.width, height: image.height };
  } catch (err) {
    throw new ChartError(`rasterize: resvg could not render the chart (${(err as Error).message})`, { cause: err });
  }
}
