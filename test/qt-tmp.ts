import { buildTestIndex } from './helpers/test-index.ts';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
const t = await buildTestIndex();
const qa = new QuestionAnswerer(t.index);
for (const q of process.argv.slice(2)) {
  const r = qa.weights.questionTerms(q);
  console.log('##', q, [...r.terms].map(([k,v])=>`${k}:${v.toFixed(1)}=${r.forms.get(k)}`).join(' '), 'unknown', r.unknown);
  const ret = await qa.retrieve(q);
  const p = ret.passages[0]!;
  console.log('  top:', p.chunk.section.at(-1), '|', p.chunk.text.slice(0, 200));
}
t.cleanup();
