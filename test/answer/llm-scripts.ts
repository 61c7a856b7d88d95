// Scripted "models" for the OpenAI-compatible test server: they read the passages out of
// the prompt our writer sent and answer the way a good, or a lying, model would.
import type { ChatRequest, ChatScript } from '../helpers/openai-server.ts';

export interface PromptPassage {
  n: number;
  text: string;
}

/** The numbered passages in the user message, as the model saw them. */
export function passagesInPrompt(req: ChatRequest): PromptPassage[] {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  return [...user.matchAll(/<passage n="(\d+)">\n[\s\S]*?原文：\n([\s\S]*?)\n<\/passage>/g)].map((m) => ({ n: Number(m[1]), text: m[2]! }));
}

export function questionInPrompt(req: ChatRequest): string {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  return /<question>\n([\s\S]*?)\n<\/question>/.exec(user)?.[1] ?? '';
}

/** Sentences of a passage as a model would copy them (no trailing 。, no list marker). */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[。；！？])|\n/)
    .map((s) => s.trim().replace(/^[-*•]\s*/, '').replace(/[。；]$/, ''))
    .filter((s) => s.length >= 8);
}

export interface DraftReply {
  answer: string;
  citations: Array<{ n: number; quote: string }>;
  found: boolean;
}

/** As JSON when the request asked for a JSON format, else as text with an 引用 list. */
export function reply(req: ChatRequest, draft: DraftReply): string {
  if (req.response_format) return JSON.stringify(draft);
  const sources = draft.citations.map((c) => `[${c.n}] ${c.quote}`).join('\n');
  return draft.citations.length > 0 ? `${draft.answer}\n引用：\n${sources}` : draft.answer;
}

/** A careful model: one sentence from each of the first two passages, copied verbatim and cited. */
export function goodDraft(req: ChatRequest): DraftReply {
  const passages = passagesInPrompt(req);
  const claims: DraftReply['citations'] = [];
  for (const p of passages.slice(0, 2)) {
    const sentences = sentencesOf(p.text);
    const s = sentences.find((x) => /\d/.test(x)) ?? sentences[0];
    if (s) claims.push({ n: p.n, quote: s });
  }
  if (claims.length === 0) return { answer: '资料中没有找到相关内容。', citations: [], found: false };
  return { answer: claims.map((c) => `${c.quote}[${c.n}]。`).join(''), citations: claims, found: true };
}

export const FABRICATED = ['全区将建成999个智慧农场', '新增停车泊位8888个', '人均GDP达到77万元'];

/** A lying model: invented sentences, plus a real sentence with one digit changed, all "quoted". */
export function fabricatedDraft(req: ChatRequest): DraftReply {
  const passages = passagesInPrompt(req);
  const real = passages.flatMap((p) => sentencesOf(p.text).map((s) => ({ n: p.n, s }))).find((x) => /\d/.test(x.s));
  const altered = real ? { n: real.n, quote: real.s.replace(/\d/, (d) => String((Number(d) + 1) % 10)) } : undefined;
  const citations = [...FABRICATED.map((quote, i) => ({ n: (i % Math.max(1, passages.length)) + 1, quote })), ...(altered ? [altered] : [])];
  return { answer: citations.map((c) => `${c.quote}[${c.n}]。`).join(''), citations, found: true };
}

/** The reply as one completion, or as a stream of small pieces when the request streams. */
export function respond(req: ChatRequest, content: string): ChatScript {
  if (!req.stream) return { kind: 'json', content };
  const chunks = [...content.matchAll(/[\s\S]{1,12}/g)].map((m) => m[0]);
  return { kind: 'stream', chunks };
}

/** A rewrite request (no passages, a <history> block): the follow-up with the conversation's district and period. */
export function goodRewrite(req: ChatRequest): string | undefined {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  const history = /<history>\n([\s\S]*?)\n<\/history>/.exec(user)?.[1];
  if (history === undefined) return undefined;
  const question = questionInPrompt(req);
  if (/(武清|津南|河北)/.test(question)) return question;
  const district = /(武清|津南|河北)区?/.exec(history)?.[0] ?? '';
  const period = /十四五|十三五/.exec(history)?.[0] ?? '';
  return `${district}${period}${question}`;
}

export const goodModel: ChatScript = {
  kind: 'dynamic',
  handler: (req) => respond(req, goodRewrite(req) ?? reply(req, goodDraft(req))),
};
export const fabricatingModel: ChatScript = { kind: 'dynamic', handler: (req) => respond(req, reply(req, fabricatedDraft(req))) };
