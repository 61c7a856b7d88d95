/**
 * Telegram HTML (parse_mode "HTML"): escaping, conversion back to plain text, and
 * splitting under the 4096-character limit. The limit counts UTF-16 code units of the
 * text *after* tags are removed and entities decoded, so markup does not count.
 */

export const MESSAGE_LIMIT = 4096;

/** Escapes text for an HTML message body (and for a double-quoted attribute). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(entity: string): string {
  const body = entity.slice(1, entity.endsWith(';') ? -1 : undefined);
  if (body.startsWith('#x') || body.startsWith('#X')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
  if (body.startsWith('#')) return String.fromCodePoint(Number(body.slice(1)));
  return NAMED[body] ?? entity;
}

/** The text a user sees: tags removed, entities decoded (no layout). */
export function htmlToText(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (m) => decodeEntity(m));
}

/** Visible length in UTF-16 code units, as Telegram counts it. */
export function visibleLength(html: string): number {
  return htmlToText(html).length;
}

type Token =
  | { kind: 'open'; raw: string; name: string }
  | { kind: 'close'; raw: string; name: string }
  | { kind: 'text'; raw: string; visible: string };

const TOKEN = /<\/?([a-zA-Z][\w-]*)[^>]*>|&(?:#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);?|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\s\S]/g;

function tokenize(html: string): Token[] {
  const tokens: Token[] = [];
  for (const m of html.matchAll(TOKEN)) {
    const raw = m[0];
    if (m[1] !== undefined) tokens.push({ kind: raw.startsWith('</') ? 'close' : 'open', raw, name: m[1].toLowerCase() });
    else tokens.push({ kind: 'text', raw, visible: raw.startsWith('&') ? decodeEntity(raw) : raw });
  }
  return tokens;
}

/** How good a place to cut after this character is: a line break, a sentence end, a clause end. */
function breakQuality(visible: string): number {
  if (visible === '\n') return 3;
  if (/[。！？!?；;]/.test(visible)) return 2;
  if (/[，,、：:\s]/.test(visible)) return 1;
  return 0;
}

/**
 * Splits HTML into messages of at most `limit` visible characters. Cuts only between
 * tokens (never inside a tag, an entity or a surrogate pair), preferring a line break,
 * then a sentence end, then a clause end in the second half of the part; tags open at a
 * cut are closed at the end of one part and reopened at the start of the next. Parts
 * with no visible text are dropped.
 */
export function splitHtml(html: string, limit: number = MESSAGE_LIMIT): string[] {
  if (limit < 16) throw new Error(`html: split limit must be at least 16, got ${limit}`);
  const tokens = tokenize(html);
  const parts: string[] = [];
  let stack: Array<{ name: string; raw: string }> = [];
  let start = 0;
  while (start < tokens.length) {
    const opened = stack.map((t) => t.raw).join('');
    let count = 0;
    let cut = tokens.length;
    // best[q] = token index just after the last break of quality q in this part
    const best = [-1, -1, -1, -1];
    const countAt: number[] = [];
    for (let i = start; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind !== 'text') continue;
      if (count + t.visible.length > limit) {
        cut = i;
        for (let q = 3; q >= 1; q--) {
          const at = best[q]!;
          if (at > start && countAt[at]! >= limit / 2) {
            cut = at;
            break;
          }
        }
        break;
      }
      count += t.visible.length;
      const q = breakQuality(t.visible);
      for (let k = 1; k <= q; k++) best[k] = i + 1;
      countAt[i + 1] = count;
    }
    // Take the tokens of this part, tracking the open tags to the cut.
    let body = '';
    const next = [...stack];
    for (let i = start; i < cut; i++) {
      const t = tokens[i]!;
      body += t.raw;
      if (t.kind === 'open') next.push({ name: t.name, raw: t.raw });
      else if (t.kind === 'close') {
        const at = next.map((s) => s.name).lastIndexOf(t.name);
        if (at >= 0) next.splice(at, 1);
      }
    }
    // Opening tags right before the cut belong to the next part.
    let tail = '';
    while (body.length > 0) {
      const top = next.at(-1);
      if (!top || !body.endsWith(top.raw)) break;
      body = body.slice(0, -top.raw.length);
      tail = top.raw + tail;
      next.pop();
    }
    const closing = [...next].reverse().map((t) => `</${t.name}>`).join('');
    const part = opened + body + closing;
    if (htmlToText(part).trim() !== '') parts.push(part);
    stack = next;
    start = cut;
    if (tail) {
      // The tags moved to the next part are reopened there.
      const moved = tokenize(tail).filter((t): t is Extract<Token, { kind: 'open' }> => t.kind === 'open');
      stack = [...stack, ...moved.map((t) => ({ name: t.name, raw: t.raw }))];
    }
  }
  return parts;
}
