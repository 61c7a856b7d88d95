import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, SETTING_NAMES } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

describe('parseConfig', () => {
  it('needs nothing: every setting has a default', () => {
    const c = parseConfig({}, '/app');
    expect(c.index.stateDir).toBe('/app/var');
    expect(c.index.embedding.provider).toBe('local');
    expect(c.telegram.token).toBeUndefined();
    expect(c.digest.timeZone).toBe('Asia/Shanghai');
    expect(c.secrets).toEqual([]);
  });

  it('names the bad setting in one line each', () => {
    try {
      parseConfig({ CHUNK_SIZE: 'big', EMBEDDING_PROVIDER: 'magic', PORT: '70000' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const lines = (err as Error).message.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines.some((l) => l.startsWith('config: CHUNK_SIZE'))).toBe(true);
      expect(lines.some((l) => l.startsWith('config: EMBEDDING_PROVIDER'))).toBe(true);
      expect(lines.some((l) => l.startsWith('config: PORT'))).toBe(true);
    }
  });

  it('checks settings that depend on each other', () => {
    expect(() => parseConfig({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '100' })).toThrow(/CHUNK_OVERLAP/);
    expect(() => parseConfig({ EMBEDDING_PROVIDER: 'openai' })).toThrow(/EMBEDDING_MODEL/);
    expect(() => parseConfig({ WEBHOOK_URL: 'https://x.example/hook' })).toThrow(/TELEGRAM_BOT_TOKEN/);
    expect(() => parseConfig({ DIGEST_TZ: 'Mars/Olympus' })).toThrow(/DIGEST_TZ/);
  });

  it('never echoes a secret value in its message', () => {
    try {
      parseConfig({ TELEGRAM_BOT_TOKEN: 'not a token sk-secret-value' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/TELEGRAM_BOT_TOKEN/);
      expect((err as Error).message).not.toContain('sk-secret-value');
    }
  });

  it('collects secrets so logs can scrub them', () => {
    const c = parseConfig({ OPENAI_API_KEY: 'sk-abcdefghijklmnopqrstuvwxyz', TELEGRAM_BOT_TOKEN: '123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789' });
    expect(c.secrets).toContain('sk-abcdefghijklmnopqrstuvwxyz');
    expect(c.secrets).toContain('123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789');
  });

  it('DATABASE_URL: PostgreSQL when set, its password a secret, a bad one named without its value', () => {
    expect(parseConfig({}, '/app').store).toEqual({ stateDir: '/app/var' });
    const c = parseConfig({ DATABASE_URL: 'postgres://bot:pa55word-x@db:5432/plans' }, '/app');
    expect(c.store.databaseUrl).toBe('postgres://bot:pa55word-x@db:5432/plans');
    expect(c.secrets).toContain('pa55word-x');
    for (const bad of ['mysql://bot:pa55word-x@db/plans', 'postgres://bot:pa55word-x@db', 'not a url pa55word-x']) {
      let message = '';
      try {
        parseConfig({ DATABASE_URL: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^config: DATABASE_URL must be a PostgreSQL URL/);
      expect(message).not.toContain('pa55word-x');
    }
  });

  it('VECTOR_BACKEND: hnswlib by default; pgvector takes DATABASE_URL and refuses to start without it', () => {
    expect(parseConfig({}, '/app').index.vectors).toEqual({ backend: 'hnswlib' });
    const url = 'postgres://bot:pa55word-x@db:5432/plans';
    expect(parseConfig({ VECTOR_BACKEND: 'pgvector', DATABASE_URL: url }, '/app').index.vectors).toEqual({ backend: 'pgvector', databaseUrl: url });
    // DATABASE_URL alone moves the store, not the vectors.
    expect(parseConfig({ DATABASE_URL: url }, '/app').index.vectors).toEqual({ backend: 'hnswlib' });
    expect(() => parseConfig({ VECTOR_BACKEND: 'pgvector' })).toThrow(/^config: DATABASE_URL is required when VECTOR_BACKEND=pgvector/);
    expect(() => parseConfig({ VECTOR_BACKEND: 'faiss' })).toThrow(/^config: VECTOR_BACKEND/);
  });

  it('.env.example lists every setting, and every listed setting parses with its shown default', () => {
    const example = readFileSync('.env.example', 'utf8');
    const entries = [...example.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    const keys = entries.map(([k]) => k);
    expect(SETTING_NAMES.length).toBeGreaterThan(20);
    expect(keys.sort()).toEqual([...SETTING_NAMES].sort());
    const withDefaults = parseConfig({}, '/app');
    const fromExample = parseConfig(Object.fromEntries(entries), '/app');
    expect(fromExample).toEqual(withDefaults);
  });
});
