import { pino, type Logger } from 'pino';

export type { Logger };

/** Redacts secrets that may appear in a string (bot tokens in Telegram URLs, API keys). */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g, '<bot-token>').replace(/\bsk-[A-Za-z0-9_-]{16,}/g, '<api-key>');
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('<secret>');
  return out;
}

/**
 * One pino root writing to stderr (stdout carries only results). Modules take a child.
 * Secrets known from config are scrubbed from every line, since library errors
 * (grammY's contain the request URL) may embed them.
 */
export function createLogger(options: { level: string; secrets?: readonly string[]; destination?: NodeJS.WritableStream }): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const dest = options.destination ?? process.stderr;
  const stream = {
    write(line: string) {
      dest.write(scrubSecrets(line, secrets));
    },
  };
  return pino({ level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
