import { createRequire } from 'node:module';
import type { Bindings, LogFn, Logger as PinoLogger, LoggerOptions } from 'pino';

/**
 * What the product asks of a logger: pino's level methods and child loggers. A pino
 * logger is one; so is the deferred logger below.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Bindings): Logger;
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

const require = createRequire(import.meta.url);

/**
 * pino and its thirty-odd modules are loaded on the first line actually written, not when
 * a logger is made: a command that logs nothing at its level (a cold `npm run ask`)
 * starts about 25 ms sooner. Calls below the level are dropped without loading pino.
 */
class DeferredLogger implements Logger {
  private logger?: PinoLogger;
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;

  constructor(
    private readonly level: number,
    private readonly open: () => PinoLogger,
  ) {
    this.trace = this.method('trace');
    this.debug = this.method('debug');
    this.info = this.method('info');
    this.warn = this.method('warn');
    this.error = this.method('error');
    this.fatal = this.method('fatal');
  }

  private method(level: Level): LogFn {
    if (LEVEL_VALUES[level]! < this.level) return () => {};
    return ((...args: unknown[]) => {
      this.logger ??= this.open();
      (this.logger[level] as (...a: unknown[]) => void)(...args);
    }) as LogFn;
  }

  child(bindings: Bindings): Logger {
    return new DeferredLogger(this.level, () => (this.logger ??= this.open()).child(bindings));
  }
}

function loadPino(): typeof import('pino').pino {
  return (require('pino') as typeof import('pino')).pino;
}

/** Redacts secrets that may appear in a string (bot tokens in Telegram URLs, API keys). */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('<secret>');
  // Then what merely looks like one. No \b before the id: in a Bot API path the token follows "bot" ("/bot123:ABC…/getMe").
  return out.replace(/(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}/g, '<bot-token>').replace(/\bsk-[A-Za-z0-9_-]{16,}/g, '<api-key>');
}

/**
 * One pino root writing to stderr (stdout carries only results). Modules take a child.
 * Secrets known from config are scrubbed from every line, since library errors
 * (grammY's contain the request URL) may embed them.
 */
export function createLogger(options: { level: string; secrets?: readonly string[]; destination?: NodeJS.WritableStream; pretty?: boolean }): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const dest = options.destination ?? process.stderr;
  const pretty = options.pretty ?? (dest === process.stderr && process.stderr.isTTY === true);
  const stream = {
    write(line: string) {
      const clean = scrubSecrets(line, secrets);
      dest.write(pretty ? prettyLine(clean) : clean);
    },
  };
  if (!(options.level in LEVEL_VALUES)) throw new Error(`logger: unknown level "${options.level}"`);
  return new DeferredLogger(LEVEL_VALUES[options.level]!, () => {
    const pino = loadPino();
    const pinoOptions: LoggerOptions = { level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
    return pino(pinoOptions, stream);
  });
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One JSON log line as "12:00:01 info  message key=value" for a person at a terminal. */
function prettyLine(line: string): string {
  try {
    const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const t = typeof time === 'string' ? time.slice(11, 19) : '';
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${t} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${msg ?? ''}${fields ? `  ${fields}` : ''}\n`;
  } catch {
    return line;
  }
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return new DeferredLogger(Infinity, () => loadPino()({ level: 'silent' }));
}
