import { parseArgs } from 'node:util';
import type { Answer } from '../answer/answer.ts';
import { preloadSegmenter, segmenterDictionary, segmenterThread } from '../index/tokenize.ts';

// jieba's dictionary starts loading on a second thread before the rest of the command is
// even loaded: a cold `ask` then waits for neither one after the other.
preloadSegmenter();
const [{ InputError }, { forEachJsonlRequest, runCli }, { openAnswerer }] = await Promise.all([
  import('../errors.ts'),
  import('./cli-runtime.ts'),
  import('./open-answerer.ts'),
]);

const USAGE = 'usage: npm run ask -- [--json] "问题"   |   npm run ask -- --jsonl < questions.jsonl';

export function answerJson(a: Answer) {
  return {
    found: a.found,
    answer: a.answer,
    citations: a.citations.map(({ n, file, title, section, quote, start, end }) => ({ n, file, title, section, quote, start, end })),
    mode: a.mode,
    ...(a.fallback ? { fallback: a.fallback } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(a.standaloneQuestion ? { standalone: a.standaloneQuestion } : {}),
  };
}

export function renderAnswer(a: Answer): string {
  const lines = [a.answer];
  if (a.citations.length > 0) lines.push('', '来源：');
  for (const c of a.citations) lines.push(`[${c.n}] 《${c.title}》 ${c.section}`, `    “${c.quote.replace(/\s*\n\s*/g, ' ')}”`);
  return lines.join('\n');
}

await runCli('ask', async (ctx) => {
  const { values, positionals } = parseArgs({
    options: { json: { type: 'boolean', default: false }, jsonl: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (!values.jsonl && positionals.length === 0) throw new InputError(USAGE);
  const answerer = await openAnswerer(ctx);
  if (values.jsonl) return forEachJsonlRequest(ctx.out, async (req) => answerJson(await answerer.answer(req.q, req.history ?? [])));
  const a = await answerer.answer(positionals.join(' '));
  ctx.out(values.json ? JSON.stringify({ q: positionals.join(' '), ...answerJson(a) }, null, 2) : renderAnswer(a));
  // Which dictionary segmented the question (asked of the second thread only when it is logged).
  if (ctx.config.logLevel === 'debug' || ctx.config.logLevel === 'trace') ctx.log.debug({ segmentation: segmenterThread(), dictionary: segmenterDictionary() }, 'segmented');
});
