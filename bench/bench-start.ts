import { spawn, spawnSync } from 'node:child_process';
import { compiledEntry, REPO_ROOT } from './bench-paths.ts';
import { percentiles, type Percentiles } from './bench-stats.ts';

/**
 * Start-up as a person meets it, on the compiled entry points in dist/ (what `npm run ask`
 * and `npm start` run): a cold `ask` process from start to its printed answer, and the
 * console chat from start to the answer of a question typed at once. Both use an index
 * that already exists in `stateDir`.
 */

export interface StartResult {
  coldAskMs: Percentiles;
  /** The same through `npm run -s ask`, as a person types it: npm's own start (~0.2 s) included. */
  coldAskThroughNpmMs: Percentiles;
  consoleFirstAnswerMs: Percentiles;
}


function coldAsk(question: string, env: NodeJS.ProcessEnv, throughNpm = false): number {
  const t0 = performance.now();
  const r = throughNpm
    ? spawnSync('npm', ['run', '-s', 'ask', '--', question], { cwd: REPO_ROOT, env, encoding: 'utf8' })
    : spawnSync(process.execPath, [compiledEntry('cli/ask'), question], { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 || !r.stdout.includes('[1]')) throw new Error(`bench: cold ask failed (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
  return ms;
}

/** The console with the question piped in at once: resolves when its cited answer is printed. */
function consoleFirstAnswer(question: string, env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [compiledEntry('main')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => finish(new Error(`bench: the console gave no answer in ${timeoutMs} ms: ${err.slice(0, 300)}`)), timeoutMs);
    const finish = (e?: Error, ms?: number) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (e) reject(e);
      else resolve(ms!);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // The answer follows the echoed question; its source list ends it.
      const after = out.slice(out.indexOf(`你> ${question}`) + question.length);
      if (out.includes(`你> ${question}`) && /\n来源\n\[1\]/.test(after)) finish(undefined, performance.now() - t0);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('exit', (code) => finish(new Error(`bench: the console exited (${code}) before answering: ${err.slice(0, 300)}`)));
    child.stdin.write(`${question}\n`);
  });
}

export async function benchStart(stateDir: string, questions: readonly string[], rounds = 5): Promise<StartResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, STATE_DIR: stateDir, LOG_LEVEL: 'silent', TELEGRAM_BOT_TOKEN: '', CHAT_MODEL: '' };
  coldAsk(questions[0]!, env); // the first run warms the OS file cache, as on a machine in use
  const ask: number[] = [];
  const npm: number[] = [];
  const chat: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ask.push(coldAsk(questions[i % questions.length]!, env));
    npm.push(coldAsk(questions[i % questions.length]!, env, true));
    chat.push(await consoleFirstAnswer(questions[0]!, env));
  }
  return { coldAskMs: percentiles(ask), coldAskThroughNpmMs: percentiles(npm), consoleFirstAnswerMs: percentiles(chat) };
}
