import type { InlineKeyboardMarkup } from 'grammy/types';
import { htmlToText } from './html.ts';

/**
 * Telegram HTML and inline keyboards as terminal text, for the console chat: bold and
 * italics as ANSI styles (when colour is on), blockquotes as an indented bar, links with
 * their address, and buttons numbered so they can be pressed by typing the number.
 */

export interface TerminalStyle {
  color: boolean;
}

const ansi = (on: boolean, open: string, close: string) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

export function renderHtml(html: string, style: TerminalStyle): string {
  const bold = ansi(style.color, '1', '22');
  const italic = ansi(style.color, '3', '23');
  const dim = ansi(style.color, '2', '22');
  const quoted = html.replace(/<blockquote[^>]*>([\s\S]*?)<\/blockquote>/g, (_m, inner: string) =>
    inner
      .trim()
      .split('\n')
      .map((line) => `${dim('│')} ${line}`)
      .join('\n'),
  );
  const styled = quoted
    .replace(/<(b|strong)>([\s\S]*?)<\/\1>/g, (_m, _t, inner: string) => bold(inner))
    .replace(/<(i|em)>([\s\S]*?)<\/\1>/g, (_m, _t, inner: string) => italic(inner))
    .replace(/<a href="([^"]*)">([\s\S]*?)<\/a>/g, (_m, href: string, inner: string) => `${inner} (${href})`);
  return htmlToText(styled).trim();
}

export interface NumberedButton {
  n: number;
  text: string;
  data?: string;
  url?: string;
}

/** Numbers the buttons from 1, one keyboard row per line. */
export function renderKeyboard(markup: InlineKeyboardMarkup, style: TerminalStyle): { lines: string[]; buttons: NumberedButton[] } {
  const buttons: NumberedButton[] = [];
  const num = ansi(style.color, '36', '39');
  const lines = markup.inline_keyboard.map((row) =>
    row
      .map((b) => {
        const button: NumberedButton = { n: buttons.length + 1, text: b.text, ...('callback_data' in b ? { data: b.callback_data } : {}), ...('url' in b ? { url: b.url } : {}) };
        buttons.push(button);
        return `${num(`[${button.n}]`)} ${b.text}`;
      })
      .join('   '),
  );
  return { lines: lines.map((l) => `  ${l}`), buttons };
}

/** Columns a string takes in a terminal (East Asian wide characters count two; ANSI codes none). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text.replace(/\x1b\[[0-9;]*m/g, '')) {
    const cp = ch.codePointAt(0)!;
    w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd) ? 2 : 1;
  }
  return w;
}
