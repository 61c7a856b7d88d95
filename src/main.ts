import readline from 'node:readline/promises';
import { QuestionAnswerer } from './answer/question-answerer.ts';
import type { HistoryTurn } from './answer/answer.ts';
import { loadConfigFromEnvironment } from './cli/cli-runtime.ts';
import { PlanQaError } from './errors.ts';
import { ensureIndex } from './index/ensure-index.ts';
import { createLogger } from './logger.ts';

/** Composition root. For now: an interactive console chat over the answerer. */
async function main(): Promise<void> {
  const config = loadConfigFromEnvironment();
  const log = createLogger({ level: config.logLevel, secrets: config.secrets });
  const index = await ensureIndex(config, log, (p) => {
    if (p.phase === 'document') process.stderr.write(`  索引文件 ${p.done}/${p.total} ${p.file}\n`);
  });
  const answerer = new QuestionAnswerer(index, { maxQuestionChars: config.telegram.maxQuestionChars });
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const history: HistoryTurn[] = [];
  process.stdout.write('规划问答（离线模式）：输入问题，回车提问；/new 清空对话，/quit 退出。\n');
  for (;;) {
    let line: string;
    try {
      line = await rl.question('> ');
    } catch {
      break; // stdin closed
    }
    const q = line.trim();
    if (q === '/quit' || q === '/exit') break;
    if (q === '/new') {
      history.length = 0;
      process.stdout.write('已清空对话。\n');
      continue;
    }
    if (!q) continue;
    try {
      const a = await answerer.answer(q, history);
      process.stdout.write(a.answer + '\n');
      for (const c of a.citations) process.stdout.write(`  [${c.n}] 《${c.title}》 ${c.section}\n      “${c.quote}”\n`);
      history.push({ q: a.standaloneQuestion, answer: a.answer });
    } catch (err) {
      process.stdout.write((err instanceof PlanQaError ? err.message : '出错了，请稍后再试。') + '\n');
      if (!(err instanceof PlanQaError)) log.error({ err }, 'answer failed');
    }
  }
  rl.close();
}

main().catch((err: unknown) => {
  process.stderr.write((err instanceof PlanQaError ? err.message : String((err as Error)?.stack ?? err)) + '\n');
  process.exitCode = 1;
});
