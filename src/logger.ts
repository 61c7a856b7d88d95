import { pino, type Logger } from 'pino';

export type { Logger };

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
  return pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
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
  return pino({ level: 'silent' });
}
