/**
 * Telegram's `MarkdownV2` and legacy `Markdown` parse modes, ported from
 * TDLib's `parse_markdown_v2` and `parse_markdown` (td/telegram/MessageEntity.cpp)
 * closely enough to reject what the real Bot API rejects — above all an
 * unescaped reserved character such as `.` or `-` in MarkdownV2 — with the
 * same messages. Expandable block quotes (`**>`) are not supported.
 */
import type { MessageEntity } from 'grammy/types';
import { checkedLink, EntityParseError, sortEntities, type FormattedText } from './bot-api-emulator-html.ts';

type Kind = 'Bold' | 'Italic' | 'Underline' | 'Strikethrough' | 'Spoiler' | 'TextUrl' | 'Code' | 'Pre' | 'PreCode' | 'CustomEmoji';

interface Open {
  kind: Kind;
  argument: string;
  offset: number; // UTF-16 offset in the output text
  byteOffset: number; // where it began in the input, for error messages
}

const RESERVED = '_*[]()~`>#+-=|{}.!';

export function parseMarkdownV2(source: string): FormattedText {
  const at = (i: number): string => source[i] ?? '\0';
  const byteOffset = (i: number): number => Buffer.byteLength(source.slice(0, i), 'utf8');
  const fail = (message: string): never => {
    throw new EntityParseError(message);
  };
  const reserved = (c: string): never =>
    fail(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);

  let text = '';
  const entities: MessageEntity[] = [];
  const open: Open[] = [];
  let quoteStart: number | undefined;

  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const code = c.charCodeAt(0);
    const next = at(i + 1);
    if (c === '\\' && next.charCodeAt(0) > 0 && next.charCodeAt(0) <= 126) {
      text += next;
      i++;
      continue;
    }
    const top = open.at(-1);
    const inCode = top !== undefined && (top.kind === 'Code' || top.kind === 'Pre' || top.kind === 'PreCode');

    if (c === '>' && !inCode && (i === 0 || source[i - 1] === '\n')) {
      quoteStart ??= text.length;
      continue;
    }
    if (c === '\n' && quoteStart !== undefined && at(i + 1) !== '>') {
      if (text.length > quoteStart) entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
      quoteStart = undefined;
    }

    if (!(inCode ? '`' : RESERVED).includes(c) || code === 0) {
      text += c;
      continue;
    }

    const isEnd = top !== undefined && ((): boolean => {
      switch (top.kind) {
        case 'Bold': return c === '*';
        case 'Italic': return c === '_' && next !== '_';
        case 'Code': return c === '`';
        case 'Pre': case 'PreCode': return c === '`' && next === '`' && at(i + 2) === '`';
        case 'TextUrl': case 'CustomEmoji': return c === ']';
        case 'Underline': return c === '_' && next === '_';
        case 'Strikethrough': return c === '~';
        case 'Spoiler': return c === '|' && next === '|';
      }
    })();

    if (!isEnd) {
      const begin = i;
      let kind: Kind;
      let argument = '';
      switch (c) {
        case '_':
          if (next === '_') {
            kind = 'Underline';
            i++;
          } else {
            kind = 'Italic';
          }
          break;
        case '*': kind = 'Bold'; break;
        case '~': kind = 'Strikethrough'; break;
        case '|':
          if (next !== '|') reserved(c);
          kind = 'Spoiler';
          i++;
          break;
        case '[': kind = 'TextUrl'; break;
        case '`':
          if (next === '`' && at(i + 2) === '`') {
            i += 3;
            kind = 'Pre';
            let languageEnd = i;
            while (!isSpace(at(languageEnd)) && at(languageEnd) !== '`') languageEnd++;
            if (i !== languageEnd && languageEnd < source.length && at(languageEnd) !== '`') {
              kind = 'PreCode';
              argument = source.slice(i, languageEnd);
              i = languageEnd;
            }
            if (at(i) === '\n' || at(i) === '\r') {
              i += (at(i + 1) === '\n' || at(i + 1) === '\r') && at(i) !== at(i + 1) ? 2 : 1;
            }
            i--;
          } else {
            kind = 'Code';
          }
          break;
        case '!':
          if (next === '[') {
            kind = 'CustomEmoji';
            i++;
            break;
          }
          return reserved(c);
        default:
          return reserved(c);
      }
      open.push({ kind, argument, offset: text.length, byteOffset: byteOffset(begin) });
      continue;
    }

    const entity = open.pop() as Open;
    let skip = text.length === entity.offset;
    let argument = entity.argument;
    switch (entity.kind) {
      case 'Underline': case 'Spoiler': i++; break;
      case 'Pre': case 'PreCode': i += 2; break;
      case 'TextUrl': case 'CustomEmoji': {
        let url = '';
        if (next !== '(') {
          url = text.slice(entity.offset);
        } else {
          i += 2;
          const urlBegin = i;
          while (i < source.length && source[i] !== ')') {
            const escaped = at(i + 1).charCodeAt(0);
            if (source[i] === '\\' && escaped > 0 && escaped <= 126) {
              url += source[i + 1];
              i += 2;
              continue;
            }
            url += source[i++];
          }
          if (at(i) !== ')') fail(`Can't find end of a URL at byte offset ${byteOffset(urlBegin)}`);
        }
        if (entity.kind === 'CustomEmoji') {
          const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(url)?.[1];
          if (id === undefined) fail('Custom emoji entity must contain a tg://emoji URL');
          argument = id as string;
        } else {
          const checked = checkedLink(url);
          if (checked === undefined) skip = true;
          else argument = checked;
        }
        break;
      }
      default: break;
    }
    if (!skip) entities.push(toEntity(entity.kind, entity.offset, text.length - entity.offset, argument));
  }

  const unclosed = open.at(-1);
  if (unclosed !== undefined) {
    fail(`Can't find end of ${unclosed.kind} entity at byte offset ${unclosed.byteOffset}`);
  }
  if (quoteStart !== undefined && text.length > quoteStart) {
    entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
  }
  return { text, entities: sortEntities(entities) };
}

/** Legacy Markdown: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````, `[text](url)`; no nesting. */
export function parseMarkdownLegacy(source: string): FormattedText {
  const at = (i: number): string => source[i] ?? '\0';
  let text = '';
  const entities: MessageEntity[] = [];

  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const next = at(i + 1);
    if (c === '\\' && '_*`['.includes(next) && next !== '\0') {
      text += next;
      i++;
      continue;
    }
    if (!'_*`['.includes(c)) {
      text += c;
      continue;
    }

    const begin = i;
    const endCharacter = c === '[' ? ']' : c;
    let isPre = false;
    let language = '';
    i++;
    if (c === '`' && at(i) === '`' && at(i + 1) === '`') {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (!isSpace(at(languageEnd)) && at(languageEnd) !== '`') languageEnd++;
      if (i !== languageEnd && languageEnd < source.length && at(languageEnd) !== '`') {
        language = source.slice(i, languageEnd);
        i = languageEnd;
      }
      if (at(i) === '\n' || at(i) === '\r') {
        i += (at(i + 1) === '\n' || at(i + 1) === '\r') && at(i) !== at(i + 1) ? 2 : 1;
      }
    }

    const offset = text.length;
    while (i < source.length && (source[i] !== endCharacter || (isPre && !(at(i + 1) === '`' && at(i + 2) === '`')))) {
      text += source[i++];
    }
    if (i === source.length) {
      throw new EntityParseError(
        `Can't find end of the entity starting at byte offset ${Buffer.byteLength(source.slice(0, begin), 'utf8')}`,
      );
    }

    const length = text.length - offset;
    if (length > 0) {
      if (c === '_') entities.push({ type: 'italic', offset, length });
      else if (c === '*') entities.push({ type: 'bold', offset, length });
      else if (c === '`') {
        entities.push(isPre
          ? { type: 'pre', offset, length, ...(language === '' ? {} : { language }) }
          : { type: 'code', offset, length });
      } else {
        let url = text.slice(offset);
        if (at(i + 1) === '(') {
          const close = source.indexOf(')', i + 2);
          if (close !== -1) {
            url = source.slice(i + 2, close);
            i = close;
          }
        }
        const checked = checkedLink(url);
        if (checked !== undefined) entities.push({ type: 'text_link', offset, length, url: checked });
      }
    }
    if (isPre) i += 2;
  }
  return { text, entities: sortEntities(entities) };
}

function toEntity(kind: Kind, offset: number, length: number, argument: string): MessageEntity {
  switch (kind) {
    case 'Bold': return { type: 'bold', offset, length };
    case 'Italic': return { type: 'italic', offset, length };
    case 'Underline': return { type: 'underline', offset, length };
    case 'Strikethrough': return { type: 'strikethrough', offset, length };
    case 'Spoiler': return { type: 'spoiler', offset, length };
    case 'Code': return { type: 'code', offset, length };
    case 'Pre': return { type: 'pre', offset, length };
    case 'PreCode': return { type: 'pre', offset, length, language: argument };
    case 'TextUrl': return { type: 'text_link', offset, length, url: argument };
    case 'CustomEmoji': return { type: 'custom_emoji', offset, length, custom_emoji_id: argument };
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\0' || c === '\v';
}
