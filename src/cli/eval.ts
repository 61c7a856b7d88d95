import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { foldForMatch } from '../index/tokenize.ts';
import { InputError } from '../errors.ts';
import { runCli } from './cli-runtime.ts';
import { openAnswerer } from './open-answerer.ts';

/**
 * Scores search and answers on a question set (format: ../shared/eval/README.md).
 * search: a hit at rank r when a passage from the right file holds every `must` string
 * (cross-document items: when the top r together hold them all); answers: found, every
 * `key` in the answer, and a citation from the right file quoting a `must` string;
 * unanswerable items: correct when not found.
 */

const itemSchema = z.object({
  id: z.string(),
  q: z.string(),
  history: z.array(z.object({ q: z.string(), answer: z.string().optional() })).optional(),
  doc: z.string().nullable(),
  docs: z.array(z.string()).optional(),
  kind: z.string(),
  must: z.array(z.string()),
  key: z.array(z.string()),
});
type Item = z.infer<typeof itemSchema>;

const has = (text: string, s: string) => foldForMatch(text).includes(foldForMatch(s));

function searchRank(item: Item, results: Array<{ file: string; text: string }>): number | undefined {
  const files = item.docs ?? (item.doc ? [item.doc] : []);
  if (item.kind === 'crossdoc') {
    for (let r = 1; r <= results.length; r++) {
      const text = results.slice(0, r).filter((p) => files.includes(p.file)).map((p) => p.text).join('\n');
      if (item.must.every((m) => has(text, m))) return r;
    }
    return undefined;
  }
  const i = results.findIndex((p) => files.includes(p.file) && item.must.every((m) => has(p.text, m)));
  return i >= 0 ? i + 1 : undefined;
}

await runCli('eval', async (ctx) => {
  const { values, positionals } = parseArgs({ options: { k: { type: 'string', default: '5' }, verbose: { type: 'boolean', short: 'v', default: false } }, allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new InputError('usage: npm run eval -- <questions.jsonl> [--k 5] [--verbose]');
  const k = Number(values.k);
  let items: Item[];
  try {
    items = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => itemSchema.parse(JSON.parse(l)));
  } catch (err) {
    throw new InputError(`eval: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const answerer = await openAnswerer(ctx);

  let hit1 = 0, hit5 = 0, rr = 0, searchable = 0, contextChars = 0;
  let correct = 0, answerable = 0, refused = 0, unanswerable = 0;
  const failures: string[] = [];
  for (const item of items) {
    const standalone = answerer.standalone(item.q, item.history ?? []);
    const passages = (await answerer.retrieve(standalone, k)).passages.map((p) => ({ file: p.chunk.file, text: p.chunk.text }));
    contextChars += passages.reduce((n, p) => n + p.text.length, 0);
    const a = await answerer.answer(item.q, item.history ?? []);
    if (item.kind === 'unanswerable') {
      unanswerable++;
      if (!a.found) refused++;
      else failures.push(`${item.id} answered an unanswerable question: ${a.answer.slice(0, 80)}`);
      continue;
    }
    searchable++;
    answerable++;
    const rank = searchRank(item, passages);
    if (rank === 1) hit1++;
    if (rank !== undefined && rank <= 5) hit5++;
    if (rank !== undefined) rr += 1 / rank;
    const files = item.docs ?? (item.doc ? [item.doc] : []);
    const keysOk = item.key.every((kk) => has(a.answer, kk));
    const citedOk = a.citations.some((c) => files.includes(c.file) && item.must.some((m) => has(c.quote, m)));
    const ok = a.found && keysOk && citedOk;
    if (ok) correct++;
    if (!ok || rank !== 1)
      failures.push(`${item.id} [${item.kind}] rank=${rank ?? '-'} found=${a.found} keys=${keysOk} cited=${citedOk} q=${item.q}${values.verbose ? `\n    → ${a.answer.replace(/\n/g, ' / ').slice(0, 160)}` : ''}`);
  }
  for (const f of failures) ctx.log.info(f);
  const pct = (x: number, n: number) => (n ? (x / n).toFixed(3) : 'n/a');
  ctx.out(`items: ${items.length} (${answerable} answerable, ${unanswerable} unanswerable)`);
  ctx.out(`search  hit@1 ${pct(hit1, searchable)}  hit@5 ${pct(hit5, searchable)}  MRR ${pct(rr, searchable)}`);
  ctx.out(`context chars in top ${k}: mean ${searchable ? Math.round(contextChars / (searchable + unanswerable)) : 0}`);
  ctx.out(`answers correct and cited ${pct(correct, answerable)} (${correct}/${answerable})`);
  ctx.out(`refusals ${refused}/${unanswerable} unanswerable items refused`);
});
