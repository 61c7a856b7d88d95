import { describe, expect, it } from 'vitest';
import { CAPTION_LIMIT, fitCaption } from '../../src/bot/chart-photo.ts';
import { escapeHtml, htmlToText, visibleLength } from '../../src/bot/html.ts';
import { parseHtml } from '../helpers/bot-api-emulator-html.ts';

describe('fitCaption', () => {
  it('keeps a caption that fits, and cuts one that does not as escaped plain text under 1024', () => {
    const short = '<b>武清区 · 主要指标</b>\n来源：《纲要》';
    expect(fitCaption(short)).toBe(short);
    const long = `<b>标题</b>\n来源：《${escapeHtml('很长的文件名<&>'.repeat(200))}》`;
    const cut = fitCaption(long);
    expect(visibleLength(cut)).toBeLessThanOrEqual(CAPTION_LIMIT);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toContain('<b>');
    expect(htmlToText(cut).startsWith('标题\n来源：《很长的文件名<&>')).toBe(true);
    // Telegram can parse what is sent.
    expect(() => parseHtml(cut, { strictEntities: true })).not.toThrow();
  });
});
