import { loadConfigFromEnvironment } from './src/cli/cli-runtime.ts';
import { ensureIndex } from './src/index/ensure-index.ts';
import { silentLogger } from './src/logger.ts';
import { QuestionAnswerer } from './src/answer/question-answerer.ts';
import { findComparison, type CitedPassage } from './src/answer/comparison.ts';
const index = await ensureIndex(loadConfigFromEnvironment(), silentLogger());
const qa = new QuestionAnswerer(index);
for (const q of process.argv.slice(2)) {
  const a = await qa.answer(q);
  const cited: CitedPassage[] = a.citations.map((c) => { const p = a.passages.find((p) => p.chunk.file === c.file && p.chunk.start <= c.start && c.end <= p.chunk.end); return { n: c.n, quote: c.quote, district: p?.chunk.doc.district ?? '', year: p?.chunk.doc.year, title: c.title, section: c.section, ...(p?.chunk.indicator ? { indicator: p.chunk.indicator } : {}) }; });
  console.log(q, '→', JSON.stringify(findComparison(a.answer, cited)));
}
