import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliErrorMessage } from '../../src/cli/cli-runtime.ts';
import { InputError } from '../../src/errors.ts';

describe('cliErrorMessage', () => {
  const parseError = (() => {
    try {
      parseArgs({ args: ['--jsno'], options: { json: { type: 'boolean' } } });
    } catch (err) {
      return err;
    }
  })();

  it('gives our errors and mistyped options their own message', () => {
    expect(cliErrorMessage('ask', new InputError('usage: npm run ask -- "问题"'), 'info')).toBe('usage: npm run ask -- "问题"');
    expect(cliErrorMessage('ask', parseError, 'info')).toMatch(/^ask: Unknown option '--jsno'/);
  });

  it('says a fault of the program in one line, with its stack only at debug', () => {
    const fault = new Error('Load dict failed\nsecond line');
    const line = cliErrorMessage('ask', fault, 'info');
    expect(line).toBe('ask: unexpected error: Load dict failed (LOG_LEVEL=debug shows where it happened)');
    expect(cliErrorMessage('ask', fault, 'debug')).toContain(fault.stack!);
    expect(cliErrorMessage('ask', 'a string thrown', 'warn')).toBe('ask: unexpected error: a string thrown (LOG_LEVEL=debug shows where it happened)');
  });
});
