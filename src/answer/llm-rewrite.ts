/**
 * Reading the model's rewrite of a follow-up into a standalone question. The reply is
 * used only as a retrieval query and as the question the answer prompt shows, so the
 * check is about shape: one line of question, no preamble, no essay.
 */

const MAX_REWRITE_CHARS = 200;
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
  if (/<\/?(?:question|history|passages?)\b|\[\d+\]|^资料中没有/i.test(text)) return undefined;
  return text;
}
