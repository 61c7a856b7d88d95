import { existsSync } from 'node:fs';
import readline from 'node:readline';
import * as z from 'zod';
import { parseConfig, type Config } from '../config.ts';
import { PlanQaError } from '../errors.ts';
import { createLogger, scrubSecrets, type Logger } from '../logger.ts';

/**
 * What every command-line entry point shares: `.env` loading, config validation, a
 * stderr logger, and one exit path that turns our errors into one clear line and exit
 * code 1. stdout carries only results.
 */

export interface CliContext {
  config: Config;
  log: Logger;
  out: (line: string) => void;
}

export function loadConfigFromEnvironment(): Config {
  // A .env file is optional; real environment variables win over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env);
}

export async function runCli(name: string, main: (ctx: CliContext) => Promise<number | void>): Promise<void> {
  let secrets: string[] = [];
  let logLevel = process.env.LOG_LEVEL ?? '';
  try {
    const config = loadConfigFromEnvironment();
    secrets = config.secrets;
    logLevel = config.logLevel;
    const log = createLogger({ level: config.logLevel, secrets }).child({ cmd: name });
    const code = await main({ config, log, out: (line) => process.stdout.write(line + '\n') });
    process.exitCode = code ?? 0;
  } catch (err) {
    process.stderr.write(scrubSecrets(cliErrorMessage(name, err, logLevel), secrets) + '\n');
    process.exitCode = 1;
  }
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // The command is done and its output written: end now rather than after Node's teardown,
  // which stops jieba's thread and frees its dictionary first (20 ms of a cold `ask` on an
  // idle machine, 100 ms and more on a busy one).
  process.exit();
}

/**
 * What a command prints when it fails. Our errors and a mistyped option (parseArgs'
 * ERR_PARSE_ARGS_*) are the user's to act on: their message. Anything else is a fault of
 * this program or its installation: one line saying so, and its stack only when asked
 * for (LOG_LEVEL debug or trace), for a report.
 */
export function cliErrorMessage(name: string, err: unknown, logLevel: string): string {
  if (err instanceof PlanQaError) return err.message;
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (/^ERR_PARSE_ARGS_/.test(String((err as NodeJS.ErrnoException)?.code))) return `${name}: ${message}`;
  if (/^(debug|trace)$/.test(logLevel) && err instanceof Error && err.stack) return `${name}: unexpected error: ${err.stack}`;
  return `${name}: unexpected error: ${message} (LOG_LEVEL=debug shows where it happened)`;
}

/** Resolves once everything written to the stream so far has been handed to the system. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export const jsonlRequestSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  q: z.string(),
  history: z.array(z.object({ q: z.string(), answer: z.string().optional() })).optional(),
});
export type JsonlRequest = z.infer<typeof jsonlRequestSchema>;

/**
 * Reads one JSON request per stdin line and prints one JSON result per line. A bad line
 * gets `{"id", "error"}` and the rest are still answered.
 */
export async function forEachJsonlRequest(out: (line: string) => void, handle: (req: JsonlRequest) => Promise<Record<string, unknown>>): Promise<number> {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let failures = 0;
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let req: JsonlRequest;
    try {
      const parsed = jsonlRequestSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`line ${lineNo}: expected {"id"?, "q": string, "history"?: [{"q","answer"}]} (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message})`);
      req = parsed.data;
    } catch (err) {
      failures++;
      const id = (() => {
        try {
          return (JSON.parse(line) as { id?: unknown })?.id ?? null;
        } catch {
          return null;
        }
      })();
      const message = err instanceof SyntaxError ? `line ${lineNo}: not valid JSON` : (err as Error).message;
      out(JSON.stringify({ id, error: message }));
      continue;
    }
    try {
      out(JSON.stringify({ id: req.id ?? null, q: req.q, ...(await handle(req)) }));
    } catch (err) {
      failures++;
      out(JSON.stringify({ id: req.id ?? null, q: req.q, error: err instanceof PlanQaError ? err.message : String((err as Error)?.message ?? err) }));
    }
  }
  return failures > 0 ? 1 : 0;
}
