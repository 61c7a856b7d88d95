import { parseArgs } from 'node:util';
import { InputError } from '../errors.ts';
import type { Passage } from '../retrieve/hybrid-retriever.ts';
import { forEachJsonlRequest, runCli } from './cli-runtime.ts';
import { openAnswerer } from './open-answerer.ts';

const USAGE = 'usage: npm run search -- [--k N] [--json] "问题"   |   npm run search -- --jsonl [--k N] < questions.jsonl';

function toJson(passages: Passage[]) {
  return passages.map((p, i) => ({
    rank: i + 1,
    file: p.chunk.file,
    title: p.chunk.doc.title,
    section: p.chunk.section.join(' › '),
    text: p.chunk.text,
    start: p.chunk.start,
    end: p.chunk.end,
    score: Number(p.score.toFixed(5)),
  }));
}

await runCli('search', async (ctx) => {
  const { values, positionals } = parseArgs({
    options: { k: { type: 'string', default: '5' }, json: { type: 'boolean', default: false }, jsonl: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new InputError(`search: --k must be an integer from 1 to 100, got "${values.k}"`);
  if (!values.jsonl && positionals.length === 0) throw new InputError(USAGE);
  const answerer = await openAnswerer(ctx);

  if (values.jsonl) {
    return forEachJsonlRequest(ctx.out, async (req) => {
      const q = answerer.standalone(answerer.validate(req.q), req.history ?? []);
      return { results: toJson((await answerer.retrieve(q, k)).passages) };
    });
  }
  const q = answerer.validate(positionals.join(' '));
  const results = toJson((await answerer.retrieve(q, k)).passages);
  if (values.json) {
    ctx.out(JSON.stringify({ q, results }, null, 2));
    return;
  }
  if (results.length === 0) ctx.out('（没有找到相关段落）');
  for (const r of results) {
    ctx.out(`${r.rank}. 《${r.title}》 ${r.section}  [${r.file} ${r.start}-${r.end}, score ${r.score}]`);
    ctx.out(`   ${r.text.replace(/\n+/g, ' ')}`);
  }
});
