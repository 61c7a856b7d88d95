/**
 * Telegram's `parse_mode: 'HTML'` parser, ported from TDLib's `parse_html`
 * (td/telegram/MessageEntity.cpp) so that the emulator accepts and rejects the
 * same markup as the real Bot API, with the same error messages and the same
 * UTF-8 byte offsets in them.
 *
 * One deliberate difference, switchable: TDLib shows an unknown entity such as
 * `&nbsp;` or a bare `&` literally; in `strictEntities` mode (the emulator's
 * default) it is rejected instead, because a bot that emits it almost always
 * forgot to escape something.
 */
import type { MessageEntity } from 'grammy/types';

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

/** The text of a "can't parse entities" error, without the Bot API prefix. */
export class EntityParseError extends Error {
  override readonly name = 'EntityParseError';
}

const SUPPORTED_TAGS = new Set([
  'a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins',
  'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code', 'blockquote',
]);

interface OpenTag {
  name: string;
  argument: string;
  offset: number; // UTF-16 offset in the output text
}

export function parseHtml(html: string, options: { strictEntities: boolean }): FormattedText {
  const at = (i: number): string => html[i] ?? '\0';
  const byteOffset = (i: number): number => Buffer.byteLength(html.slice(0, i), 'utf8');
  const fail = (message: string): never => {
    throw new EntityParseError(message);
  };

  let text = '';
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];

  for (let i = 0; i < html.length; i++) {
    const c = html[i];
    if (c === '&') {
      const decoded = decodeHtmlEntity(html, i);
      if (decoded !== undefined) {
        if (decoded.code >= 0xd800 && decoded.code <= 0xdfff) {
          fail('Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units');
        }
        text += String.fromCodePoint(decoded.code);
        i = decoded.end - 1;
        continue;
      }
      if (options.strictEntities) {
        const token = /^&#?[0-9a-zA-Z]*;?/.exec(html.slice(i))?.[0] ?? '&';
        fail(`Unsupported HTML entity "${token}" at byte offset ${byteOffset(i)}`);
      }
    }
    if (c !== '<') {
      text += c;
      continue;
    }

    const begin = i++;
    if (at(i) !== '/') {
      // a start tag
      while (!isSpace(at(i)) && at(i) !== '>') i++;
      if (at(i) === '\0') fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      const name = html.slice(begin + 1, i).toLowerCase();
      if (!SUPPORTED_TAGS.has(name)) {
        fail(`Unsupported start tag "${name}" at byte offset ${byteOffset(begin)}`);
      }

      let argument = '';
      while (at(i) !== '>') {
        while (at(i) !== '\0' && isSpace(at(i))) i++;
        if (at(i) === '>') break;
        const attributeBegin = i;
        while (!isSpace(at(i)) && at(i) !== '=' && at(i) !== '>') i++;
        const attribute = html.slice(attributeBegin, i);
        if (attribute === '') {
          fail(`Empty attribute name in the tag "${name}" at byte offset ${byteOffset(begin)}`);
        }
        while (at(i) !== '\0' && isSpace(at(i))) i++;
        if (at(i) !== '=') {
          if (name === 'blockquote' && attribute.toLowerCase() === 'expandable') {
            argument = 'expandable';
            continue;
          }
          fail(`Expected equal sign in declaration of an attribute of the tag "${name}" at byte offset ${byteOffset(begin)}`);
        }
        i++;
        while (at(i) !== '\0' && isSpace(at(i))) i++;
        if (at(i) === '\0') fail(`Unclosed start tag "${name}" at byte offset ${byteOffset(begin)}`);

        let value = '';
        if (at(i) !== "'" && at(i) !== '"') {
          // a name token: letters, digits, periods and hyphens, case-insensitive
          const tokenBegin = i;
          while (/[0-9A-Za-z.-]/.test(at(i))) i++;
          value = html.slice(tokenBegin, i).toLowerCase();
          if (!isSpace(at(i)) && at(i) !== '>') {
            fail(`Unexpected end of name token at byte offset ${byteOffset(tokenBegin)}`);
          }
        } else {
          const quote = html[i++];
          while (at(i) !== quote && at(i) !== '\0') {
            const decoded = at(i) === '&' ? decodeHtmlEntity(html, i) : undefined;
            if (decoded !== undefined) {
              value += String.fromCodePoint(decoded.code);
              i = decoded.end;
            } else {
              value += html[i++];
            }
          }
          if (at(i) === quote) i++;
        }
        if (at(i) === '\0') fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);

        if (name === 'a' && attribute === 'href') argument = value;
        else if (name === 'code' && attribute === 'class' && value.startsWith('language-')) argument = value.slice(9);
        else if (name === 'span' && attribute === 'class' && value.startsWith('tg-')) argument = value.slice(3);
        else if (name === 'tg-emoji' && attribute === 'emoji-id') argument = value;
      }

      if (name === 'span' && argument !== 'spoiler') {
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`);
      }
      open.push({ name, argument, offset: text.length });
      continue;
    }

    // an end tag
    const top = open.at(-1);
    if (top === undefined) fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
    while (!isSpace(at(i)) && at(i) !== '>') i++;
    const endName = html.slice(begin + 2, i).toLowerCase();
    while (isSpace(at(i)) && at(i) !== '\0') i++;
    if (at(i) !== '>') fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
    const tag = top as OpenTag;
    if (endName !== '' && endName !== tag.name) {
      fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${tag.name}>", found "</${endName}>"`);
    }
    open.pop();
    if (text.length > tag.offset) {
      const entity = entityFor(tag, text.length - tag.offset, text.slice(tag.offset), entities.at(-1));
      if (entity !== undefined) entities.push(entity);
    }
  }

  const unclosed = open.at(-1);
  if (unclosed !== undefined) fail(`Can't find end tag corresponding to start tag ${unclosed.name}`);
  for (const entity of entities) {
    // like TDLib, a language survives only on a pre entity
    if (entity.type === 'code') delete (entity as { language?: string }).language;
  }
  return { text, entities: sortEntities(entities) };
}

/**
 * The entity a closed tag produces, or undefined when TDLib drops it (a link
 * whose URL it cannot check). A `<pre>` wrapping a `<code class="language-x">`
 * of the same extent turns that code entity into a pre entity with a language.
 */
function entityFor(tag: OpenTag, length: number, inner: string, previous: MessageEntity | undefined): MessageEntity | undefined {
  const offset = tag.offset;
  switch (tag.name) {
    case 'b': case 'strong': return { type: 'bold', offset, length };
    case 'i': case 'em': return { type: 'italic', offset, length };
    case 'u': case 'ins': return { type: 'underline', offset, length };
    case 's': case 'strike': case 'del': return { type: 'strikethrough', offset, length };
    case 'tg-spoiler': case 'span': return { type: 'spoiler', offset, length };
    case 'blockquote':
      return { type: tag.argument === 'expandable' ? 'expandable_blockquote' : 'blockquote', offset, length };
    case 'tg-emoji': {
      if (!/^\d+$/.test(tag.argument) || /^0+$/.test(tag.argument)) {
        throw new EntityParseError('Invalid custom emoji identifier specified');
      }
      return { type: 'custom_emoji', offset, length, custom_emoji_id: tag.argument };
    }
    case 'a': {
      const url = checkedLink(tag.argument === '' ? inner : tag.argument);
      return url === undefined ? undefined : { type: 'text_link', offset, length, url };
    }
    case 'code':
      if (previous?.type === 'pre' && previous.offset === offset && previous.length === length && tag.argument !== '') {
        previous.language = tag.argument;
        return undefined;
      }
      return { type: 'code', offset, length, ...(tag.argument === '' ? {} : { language: tag.argument }) } as MessageEntity;
    case 'pre':
      if (previous?.type === 'code' && previous.offset === offset && previous.length === length) {
        const language = (previous as { language?: string }).language;
        Object.assign(previous, { type: 'pre' });
        if (language === undefined) delete (previous as { language?: string }).language;
        return undefined;
      }
      return { type: 'pre', offset, length };
    default:
      return undefined;
  }
}

/** A URL TDLib would keep for a text link: http(s), tg and ton links, or a bare host. */
export function checkedLink(raw: string): string | undefined {
  const url = raw.trim();
  if (url === '') return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`;
  try {
    const parsed = new URL(withScheme);
    if (parsed.protocol === 'tg:' || parsed.protocol === 'ton:') return withScheme;
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    if (!parsed.hostname.includes('.') && parsed.hostname !== 'localhost') return undefined;
    return withScheme;
  } catch {
    return undefined;
  }
}

/** TDLib's `decode_html_entity`: &lt; &gt; &amp; &quot; and numeric references; the `;` is optional. */
function decodeHtmlEntity(html: string, pos: number): { code: number; end: number } | undefined {
  let end = pos + 1;
  let code = 0;
  if (html[pos + 1] === '#') {
    end++;
    if (html[pos + 2] === 'x') {
      end++;
      while (end < html.length && /[0-9a-fA-F]/.test(html[end] as string) && end - pos < 12) {
        code = code * 16 + Number.parseInt(html[end] as string, 16);
        end++;
      }
    } else {
      while (end < html.length && /[0-9]/.test(html[end] as string) && end - pos < 12) {
        code = code * 10 + Number(html[end]);
        end++;
      }
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return undefined;
  } else {
    while (end < html.length && /[A-Za-z]/.test(html[end] as string)) end++;
    const name = html.slice(pos + 1, end);
    const named: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22 };
    const value = named[name];
    if (value === undefined) return undefined;
    code = value;
  }
  if (html[end] === ';') end++;
  return { code, end };
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\0' || c === '\v';
}

/** By offset, outer (longer) entities first, as Telegram returns them. */
export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}
