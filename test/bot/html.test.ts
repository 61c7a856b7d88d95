import { describe, expect, it } from 'vitest';
import { escapeHtml, htmlToText, splitHtml, visibleLength } from '../../src/bot/html.ts';
import { parseHtml } from '../helpers/bot-api-emulator-html.ts';

/** Telegram's own parser (ported in the emulator) decides whether a part is valid. */
function telegramText(html: string): string {
  return parseHtml(html, { strictEntities: true }).text;
}

function checkParts(html: string, limit: number): string[] {
  const parts = splitHtml(html, limit);
  for (const part of parts) {
    expect(() => telegramText(part)).not.toThrow();
    expect(telegramText(part).length).toBeLessThanOrEqual(limit);
    expect(telegramText(part).trim()).not.toBe('');
  }
  // Nothing lost or duplicated (Telegram trims each message, so compare without whitespace).
  const squash = (s: string) => s.replace(/\s+/g, '');
  expect(squash(parts.map(telegramText).join(''))).toBe(squash(telegramText(html)));
  return parts;
}

describe('escapeHtml / htmlToText', () => {
  it('escapes what Telegram would parse, and round-trips', () => {
    const raw = '<b>规划</b> R&D "2035" a<b &amp;';
    const escaped = escapeHtml(raw);
    expect(telegramText(escaped)).toBe(raw);
    expect(htmlToText(escaped)).toBe(raw);
    expect(htmlToText('<b>森林</b>&lt;13%&gt;&#20013;')).toBe('森林<13%>中');
    expect(visibleLength('<b>&amp;</b>')).toBe(1);
  });
});

describe('splitHtml', () => {
  it('leaves a short message whole', () => {
    expect(splitHtml('<b>答案</b> [1]')).toEqual(['<b>答案</b> [1]']);
  });

  it('splits at line breaks, under the limit, each part valid HTML', () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) => `第${i + 1}条：${'规划建设'.repeat(20)}。`);
    const parts = checkParts(paragraphs.join('\n'), 1000);
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts.slice(0, -1)) expect(p.endsWith('。\n') || p.endsWith('。')).toBe(true);
  });

  it('closes and reopens tags around a cut, never splits an entity or a surrogate pair', () => {
    const excerpt = `${'&lt;目标&gt; 森林覆盖率达到13%，'.repeat(80)}😀${'&amp;'.repeat(300)}`;
    const html = `<b>[1] 《规划》</b>\n<blockquote expandable>${excerpt}<b>引文</b>${'这是很长的一句话没有标点'.repeat(50)}</blockquote>`;
    const parts = checkParts(html, 300);
    for (const p of parts.slice(1)) expect(p.startsWith('<blockquote expandable>')).toBe(true);
    expect(parts.every((p) => !/&[a-z]*$/.test(p.replace(/<\/[^>]+>$/g, '')))).toBe(true);
  });

  it('moves an opening tag at the cut into the next part', () => {
    const html = `${'字'.repeat(20)}\n<b>${'粗'.repeat(30)}</b>`;
    const parts = checkParts(html, 25);
    expect(parts[0]).not.toContain('<b>');
  });

  it('holds for random markup', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pieces = ['规划', '，', '。', '\n', '&amp;', '&lt;', '😀', 'abc ', '2025年'];
    for (let round = 0; round < 30; round++) {
      let html = '';
      for (let i = 0; i < 400; i++) {
        const r = rnd();
        if (r < 0.05) html += `<b>${pieces[Math.floor(rnd() * pieces.length)]}${'目标'.repeat(Math.floor(rnd() * 20))}</b>`;
        else if (r < 0.08) html += `<blockquote expandable>${'摘录'.repeat(Math.floor(rnd() * 40))}<i>斜体</i></blockquote>`;
        else html += pieces[Math.floor(rnd() * pieces.length)];
      }
      checkParts(html, 16 + Math.floor(rnd() * 300));
    }
  });
});
