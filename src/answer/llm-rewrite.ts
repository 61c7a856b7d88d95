import { analyzeQuery } from '../retrieve/query-analysis.ts';

/**
 * Reading the model's rewrite of a follow-up into a standalone question. The reply
 * becomes the retrieval query and the question the answer prompt shows, so junk here
 * turns a good question into "not found": it must be one line of question (no preamble,
 * no essay, no JSON, no answer or refusal), and keep every district, year and plan
 * period the user named. Anything else is refused and the offline rewrite is used.
 */

const MAX_REWRITE_CHARS = 200;
const CJK = /[\u4e00-\u9fff]/;
const PERIOD = /十三五|十四五|十五五/g;
const YEAR = /(?<!\d)(?:19|20)\d{2}(?!\d)/g;
/** The model answered, refused or said it could not: not a question. */
const NOT_A_QUESTION = /^资料中没有|没有找到|未找到|找不到|无法(?:回答|改写|确定)|抱歉|对不起|\bnot found\b|^n\/?a$|^none$|^null$|^undefined$|\bsorry\b|\bI (?:can(?:no|')t|don't|do not)\b/i;
/** Code, JSON or markup instead of text. */
const STRUCTURED = /^[[{<]|[{}]|":|^```/;
const INTERROGATIVE = /[?？]|多少|哪|什么|啥|如何|怎么|怎样|是否|吗|呢|几|有无|\b(?:what|which|how|when|where|why|who|is|are|does|do)\b/i;

/** Districts, years and plan periods a question names (the entities a rewrite must keep). */
function entities(text: string): string[] {
  return [...analyzeQuery(text).districts, ...(text.match(YEAR) ?? []), ...(text.match(PERIOD) ?? [])];
}

const PREAMBLE = /^(?:改写后的问题|改写后|独立问题|完整问题|问题|standalone question|rewritten question|question)\s*[:：]\s*/i;

/** The standalone question in the model's reply, or undefined when the reply is not one. */
export function cleanRewrite(content: string, question: string): string | undefined {
  const line = content
    .replace(/^```[a-z]*\s*|```\s*$/gi, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) return undefined;
  const text = line
    .replace(PREAMBLE, '')
    .replace(/^[“"「『'‘]+|[”"」』'’]+$/g, '')
    .trim();
  if (text.length < 2 || text.length > Math.max(MAX_REWRITE_CHARS, question.length * 2)) return undefined;
  // Tags, citation markers or a not-found sentence mean the model answered instead of rewriting.
  if (/<\/?(?:question|history|passages?)\b|\[\d+\]/i.test(text) || NOT_A_QUESTION.test(text) || STRUCTURED.test(text)) return undefined;
  if (CJK.test(question) && !CJK.test(text)) return undefined;
  if (INTERROGATIVE.test(question) && !INTERROGATIVE.test(text)) return undefined;
  const kept = new Set(entities(text));
  if (entities(question).some((e) => !kept.has(e))) return undefined;
  return text;
}
