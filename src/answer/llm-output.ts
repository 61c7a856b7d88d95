import * as z from 'zod';
import { UpstreamMalformedError } from '../errors.ts';

/**
 * What the chat model is asked to return, and how its reply is read back. The preferred
 * form is JSON `{ answer, citations: [{ n, quote }], found }` (enforced by a JSON schema
 * where the server supports it); a server without JSON modes gets plain text with [n]
 * markers and a "引用：" list, parsed into the same draft. Nothing here is trusted yet:
 * the draft goes to `verifyCitations`.
 */

/** How the reply's shape is requested; a server that rejects one is asked with the next. */
export type OutputFormat = 'json_schema' | 'json_object' | 'text';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json_schema', 'json_object', 'text'];

export interface DraftCitation {
  /** The passage number (1-based) the model cites. */
  n: number;
  quote: string;
}

export interface DraftAnswer {
  answer: string;
  found: boolean;
  citations: DraftCitation[];
}

/** `answer` comes first so a streamed reply shows the answer text early. */
export const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    answer: { type: 'string', description: 'The answer with [n] after each claim, n being the passage number.' },
    citations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          n: { type: 'integer', description: 'Passage number.' },
          quote: { type: 'string', description: 'A span of passage n copied character for character.' },
        },
        required: ['n', 'quote'],
        additionalProperties: false,
      },
    },
    found: { type: 'boolean', description: 'false when the passages do not answer the question.' },
  },
  required: ['answer', 'citations', 'found'],
  additionalProperties: false,
} as const;

export function responseFormatFor(format: OutputFormat) {
  if (format === 'json_schema') return { type: 'json_schema' as const, json_schema: { name: 'cited_answer', strict: true, schema: ANSWER_JSON_SCHEMA } };
  if (format === 'json_object') return { type: 'json_object' as const };
  return undefined;
}

const passageNumber = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\s*\[?\s*\d+\s*\]?\s*$/)
    .transform((s) => Number(s.replace(/\D/g, ''))),
]);

const draftSchema = z.object({
  answer: z.string(),
  citations: z.array(z.object({ n: passageNumber, quote: z.string() })).default([]),
  found: z.boolean().optional(),
});

const MARKER = /\[(\d+)\]/;

/**
 * Canonical [n] markers: 【1】, ［1］, [^1], [1,2], [1、2] and [1-3] all become [1][2]…
 * Marker-like text that is not a passage number list is left alone.
 */
export function normalizeMarkers(text: string): string {
  return text
    .replace(/[【［]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[】］]/g, '[$1]')
    .replace(/\[\^(\d+)\]/g, '[$1]')
    .replace(/\[\s*(\d+)\s*[-–~]\s*(\d+)\s*\]/g, (all, a: string, b: string) => {
      const from = Number(a);
      const to = Number(b);
      return to > from && to - from < 10 ? Array.from({ length: to - from + 1 }, (_, i) => `[${from + i}]`).join('') : all;
    })
    .replace(/\[\s*(\d+(?:\s*[,，、]\s*\d+)+)\s*\]/g, (_, list: string) =>
      list
        .split(/[,，、]/)
        .map((n) => `[${n.trim()}]`)
        .join(''),
    )
    .replace(/\[\s+(\d+)\s+\]/g, '[$1]');
}

const SOURCES_HEADING = /^\s*(?:[#*]+\s*)?(?:引用|引文|出处|来源|原文|依据|sources?|quotes?|references?|citations?)\s*(?:[*]+)?\s*[:：]?\s*(?:[*]+)?\s*$/i;
const SOURCE_LINE = /^\s*(?:[-*•]\s*)?\[(\d+)\]\s*[:：]?\s*(.+?)\s*$/;

function stripQuoteMarks(s: string): string {
  return s.replace(/^[“"「『']+/, '').replace(/[”"」』']+$/, '').trim();
}

function stripFences(text: string): string {
  const m = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?```\s*$/.exec(text.trim());
  return (m ? m[1]! : text).trim();
}

/** Plain text with [n] markers, optionally followed by an "引用：" list of `[n] quote` lines. */
export function parsePlainTextAnswer(content: string): DraftAnswer {
  const lines = normalizeMarkers(content.trim()).split(/\r?\n/);
  const heading = lines.findIndex((l) => SOURCES_HEADING.test(l));
  const body = (heading >= 0 ? lines.slice(0, heading) : lines).join('\n').trim();
  const citations: DraftCitation[] = [];
  if (heading >= 0) {
    for (const line of lines.slice(heading + 1)) {
      const m = SOURCE_LINE.exec(line);
      if (m) citations.push({ n: Number(m[1]), quote: stripQuoteMarks(m[2]!) });
    }
  }
  return { answer: body, found: MARKER.test(body), citations };
}

/**
 * Reads the model's reply. JSON (possibly fenced) is validated with zod; a reply that is
 * not JSON at all is read as plain text. A reply that starts as JSON but does not parse
 * (truncated, malformed) is an error: reading it as text would show JSON to the user.
 */
export function parseDraftAnswer(content: string): DraftAnswer {
  const text = stripFences(content);
  if (text.length === 0) throw new UpstreamMalformedError('llm: empty answer');
  if (!text.startsWith('{') && !text.startsWith('[')) return parsePlainTextAnswer(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamMalformedError(`llm: invalid JSON in the answer (${text.length} chars)`);
  }
  const parsed = draftSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UpstreamMalformedError(`llm: answer JSON has the wrong shape (${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'})`);
  }
  const d = parsed.data;
  const answer = normalizeMarkers(d.answer.trim());
  return { answer, found: d.found ?? MARKER.test(answer), citations: d.citations.map((c) => ({ n: c.n, quote: stripQuoteMarks(c.quote) })) };
}

/** The value of a JSON string that may be cut off anywhere, decoded as far as it goes. */
function partialJsonString(buffer: string, from: number): string {
  let out = '';
  for (let i = from; i < buffer.length; i++) {
    const ch = buffer[i]!;
    if (ch === '"') return out;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = buffer[i + 1];
    if (next === undefined) return out;
    if (next === 'u') {
      const hex = buffer.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return out;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
      continue;
    }
    out += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[next] ?? next;
    i++;
  }
  return out;
}

/**
 * The answer text in a reply that is still streaming, for display while it arrives:
 * the `answer` field of a JSON reply so far, or a plain-text reply up to its sources.
 */
export function partialAnswerText(buffer: string): string {
  const head = buffer.trimStart();
  if (head.startsWith('{') || head.startsWith('```')) {
    const m = /"answer"\s*:\s*"/.exec(buffer);
    return m ? partialJsonString(buffer, m.index + m[0].length) : '';
  }
  const lines = head.split(/\r?\n/);
  const heading = lines.findIndex((l) => SOURCES_HEADING.test(l));
  return (heading >= 0 ? lines.slice(0, heading) : lines).join('\n').trimEnd();
}
