import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { foldForMatch } from '../index/tokenize.ts';
import { InputError } from '../errors.ts';
import { runCli } from './cli-runtime.ts';
import { openAnswerer } from './open-answerer.ts';
import { EXTRACTIVE_DEFAULTS, ExtractiveWriter } from '../answer/extractive-writer.ts';

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

interface Scored {
  item: Item;
  /** Coverage of the best fitting sentence (before the discount for unknown words). */
  coverage: number;
  /** Weight of the question's words the corpus never uses, relative to the known ones. */
  unknownShare: number;
  /** The answer, had it been given, is correct and cited (answerable items). */
  correctIfAnswered: boolean;
  rank?: number;
}

interface Decision {
  penalty: number;
  threshold: number;
}

const confidence = (s: Scored, penalty: number) => s.coverage / (1 + penalty * s.unknownShare);

/** Errors at one decision: answerable refused, answerable answered wrongly, unanswerable answered. */
function scoreAt(items: readonly Scored[], d: Decision) {
  let correct = 0, refused = 0, wrong = 0, falseAnswer = 0, answerable = 0, unanswerable = 0;
  for (const s of items) {
    const found = confidence(s, d.penalty) >= d.threshold;
    if (s.item.kind === 'unanswerable') {
      unanswerable++;
      if (found) falseAnswer++;
      continue;
    }
    answerable++;
    if (!found) refused++;
    else if (s.correctIfAnswered) correct++;
    else wrong++;
  }
  return { correct, refused, wrong, falseAnswer, answerable, unanswerable };
}

/** A wrong answer (a wrong number, or an answer where the documents have none) costs twice a refusal. */
const WRONG_ANSWER_COST = 2;

/**
 * The threshold with the least cost on `items`: one per answerable question refused, two
 * per wrong answer or unanswerable question answered. Ties take the middle of the best run.
 */
const PENALTIES = [0, 0.25, 0.5, 0.75, 1];

function fitDecision(items: readonly Scored[]): Decision & { cost: number } {
  let best: Decision & { cost: number } = { penalty: 0, threshold: 0.5, cost: Infinity };
  for (const penalty of PENALTIES) {
    const values = [...new Set(items.map((s) => confidence(s, penalty)))].sort((a, b) => a - b);
    const cuts = [0, ...values.map((v, i) => (i + 1 < values.length ? (v + values[i + 1]!) / 2 : v + 0.01))];
    let low = Infinity;
    let run: number[] = [];
    for (const threshold of cuts) {
      const r = scoreAt(items, { penalty, threshold });
      const cost = r.refused + WRONG_ANSWER_COST * (r.wrong + r.falseAnswer);
      if (cost < low) {
        low = cost;
        run = [threshold];
      } else if (cost === low) run.push(threshold);
    }
    if (low < best.cost) best = { penalty, threshold: run[Math.floor(run.length / 2)] ?? 0.5, cost: low };
  }
  return best;
}

await runCli('eval', async (ctx) => {
  const { values, positionals } = parseArgs({
    options: { k: { type: 'string', default: '5' }, folds: { type: 'string', default: '5' }, verbose: { type: 'boolean', short: 'v', default: false } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (!file) throw new InputError('usage: npm run eval -- <questions.jsonl> [--k 5] [--folds 5] [--verbose]');
  const k = Number(values.k);
  const folds = Number(values.folds);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(folds) || folds < 2) throw new InputError('eval: --k must be ≥ 1 and --folds ≥ 2');
  let items: Item[];
  try {
    items = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => itemSchema.parse(JSON.parse(l)));
  } catch (err) {
    throw new InputError(`eval: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const answerer = await openAnswerer(ctx);
  // The same writer with the found decision switched off: what it would answer, and how sure it is.
  const forced = new ExtractiveWriter(answerer.weights, answerer.index.documents, { minCoverage: 0 });

  let hit1 = 0, hit5 = 0, rr = 0, searchable = 0, contextChars = 0;
  let correct = 0, answerable = 0, refused = 0, unanswerable = 0, refusedAnswerable = 0;
  const failures: string[] = [];
  const scored: Scored[] = [];
  for (const item of items) {
    const standalone = answerer.standalone(item.q, item.history ?? []);
    const retrieval = await answerer.retrieve(standalone, k);
    const passages = retrieval.passages.map((p) => ({ file: p.chunk.file, text: p.chunk.text }));
    contextChars += passages.reduce((n, p) => n + p.text.length, 0);
    const a = await answerer.answer(item.q, item.history ?? []);
    const files = item.docs ?? (item.doc ? [item.doc] : []);
    const isCorrect = (x: typeof a) =>
      x.found && item.key.every((kk) => has(x.answer, kk)) && x.citations.some((c) => files.includes(c.file) && item.must.some((m) => has(c.quote, m)));
    const { coverage, unknownShare } = forced.confidence(standalone, retrieval);
    const conf = confidence({ item, coverage, unknownShare, correctIfAnswered: false }, EXTRACTIVE_DEFAULTS.unknownPenalty);
    if (item.kind === 'unanswerable') {
      unanswerable++;
      scored.push({ item, coverage, unknownShare, correctIfAnswered: false });
      if (!a.found) refused++;
      else failures.push(`${item.id} answered an unanswerable question: ${a.answer.slice(0, 80)}`);
      if (values.verbose) failures.push(`${item.id} [unanswerable] found=${a.found} conf=${conf.toFixed(2)} q=${item.q}`);
      continue;
    }
    searchable++;
    answerable++;
    const rank = searchRank(item, passages);
    if (rank === 1) hit1++;
    if (rank !== undefined && rank <= 5) hit5++;
    if (rank !== undefined) rr += 1 / rank;
    const keysOk = item.key.every((kk) => has(a.answer, kk));
    const citedOk = a.citations.some((c) => files.includes(c.file) && item.must.some((m) => has(c.quote, m)));
    const ok = isCorrect(a);
    if (ok) correct++;
    if (!a.found) refusedAnswerable++;
    scored.push({ item, coverage, unknownShare, correctIfAnswered: isCorrect(forced.compose(item.q, retrieval, standalone)), ...(rank ? { rank } : {}) });
    if (!ok || rank !== 1)
      failures.push(`${item.id} [${item.kind}] rank=${rank ?? '-'} found=${a.found} keys=${keysOk} cited=${citedOk} conf=${conf.toFixed(2)} q=${item.q}${values.verbose ? `\n    → ${a.answer.replace(/\n/g, ' / ').slice(0, 160)}` : ''}`);
  }
  for (const f of failures) ctx.log.info(f);

  // k-fold cross-validation of the found/not-found threshold: fit on the other folds, score the held-out one.
  // Folds are stratified: the few unanswerable items are spread over them like the rest.
  const fold = new Map<Scored, number>();
  for (const group of [scored.filter((s) => s.item.kind !== 'unanswerable'), scored.filter((s) => s.item.kind === 'unanswerable')])
    group.forEach((s, i) => fold.set(s, i % folds));
  const held = { correct: 0, refused: 0, wrong: 0, falseAnswer: 0, answerable: 0, unanswerable: 0 };
  const fitted: Decision[] = [];
  for (let f = 0; f < folds; f++) {
    const test = scored.filter((s) => fold.get(s) === f);
    const d = fitDecision(scored.filter((s) => fold.get(s) !== f));
    fitted.push(d);
    const r = scoreAt(test, d);
    for (const key of Object.keys(held) as Array<keyof typeof held>) held[key] += r[key];
  }

  const pct = (x: number, n: number) => (n ? (x / n).toFixed(3) : 'n/a');
  ctx.out(`items: ${items.length} (${answerable} answerable, ${unanswerable} unanswerable)`);
  ctx.out(`search  hit@1 ${pct(hit1, searchable)}  hit@5 ${pct(hit5, searchable)}  MRR ${pct(rr, searchable)}`);
  ctx.out(`context chars in top ${k}: mean ${searchable ? Math.round(contextChars / (searchable + unanswerable)) : 0}`);
  ctx.out(`answers correct and cited ${pct(correct, answerable)} (${correct}/${answerable})`);
  ctx.out(`answerable refused ${pct(refusedAnswerable, answerable)} (${refusedAnswerable}/${answerable})  unanswerable answered ${unanswerable - refused}/${unanswerable}`);
  ctx.out(`refusals ${refused}/${unanswerable} unanswerable items refused`);
  const whole = fitDecision(scored);
  ctx.out(
    `found decision fitted on the whole set: unknown-word penalty ${whole.penalty}, threshold ${whole.threshold.toFixed(3)} (the writer uses ${EXTRACTIVE_DEFAULTS.unknownPenalty}, ${EXTRACTIVE_DEFAULTS.minCoverage})`,
  );
  ctx.out(
    `${folds}-fold cross-validated found decision (fitted ${fitted.map((d) => `${d.penalty}/${d.threshold.toFixed(2)}`).join(' ')}): answers correct ${pct(held.correct, held.answerable)}  answerable refused ${pct(held.refused, held.answerable)}  unanswerable answered ${held.falseAnswer}/${held.unanswerable}`,
  );
});
