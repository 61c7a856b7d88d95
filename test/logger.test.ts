import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../src/logger.ts';

function sink() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('scrubs configured secrets and token-shaped strings from every line', () => {
    const { lines, destination } = sink();
    const token = '123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr';
    const log = createLogger({ level: 'info', secrets: [token, 'my-api-key-value'], destination, pretty: false });
    log.error({ url: `https://api.telegram.org/bot${token}/sendMessage`, key: 'my-api-key-value' }, 'call failed');
    expect(lines.join('')).not.toContain(token);
    expect(lines.join('')).not.toContain('my-api-key-value');
    expect(lines.join('')).toContain('call failed');
    expect(scrubSecrets('Bearer sk-abcdefghijklmnopqrstuv')).toBe('Bearer <api-key>');
  });

  it('finds a token-shaped string inside a Bot API path even without the configured secrets', () => {
    const token = '123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQr';
    expect(scrubSecrets(`404: Not Found /bot${token}/deleteWebhook`)).toBe('404: Not Found /bot<bot-token>/deleteWebhook');
  });

  it('writes readable lines for a person when pretty', () => {
    const { lines, destination } = sink();
    createLogger({ level: 'info', destination, pretty: true }).info({ file: 'a.txt', chunks: 3 }, 'document 1/5');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d info  document 1\/5 {2}file=a\.txt chunks=3\n$/);
  });
});

describe('logger levels and children', () => {
  it('writes a child logger’s bindings on its lines and drops lines below the level', () => {
    const { lines, destination } = sink();
    const log = createLogger({ level: 'warn', destination, pretty: false }).child({ cmd: 'ask' }).child({ module: 'index' });
    log.info('not written');
    log.debug({ x: 1 }, 'not written either');
    log.warn({ file: 'a.txt' }, 'skipped a.txt');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, cmd: 'ask', module: 'index', file: 'a.txt', msg: 'skipped a.txt' });
  });
});
