import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BotApiEmulator } from '../helpers/bot-api-emulator.ts';
import { OpenAiTestServer } from '../helpers/openai-server.ts';
import { copyCorpusIndex } from '../helpers/test-index.ts';
import { createServer } from 'node:net';
import { REPO, start } from './start.ts';

/** main.ts with a token: long polling a Bot API at TELEGRAM_API_ROOT (the emulator), commands registered, SIGTERM handled. */

let stateDir: string;
let emulator: BotApiEmulator;
beforeAll(async () => {
  stateDir = copyCorpusIndex();
  emulator = await BotApiEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('npm start with TELEGRAM_BOT_TOKEN', () => {
  it('polls TELEGRAM_API_ROOT, registers commands, answers, and shuts down gracefully on SIGTERM', async () => {
    const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      STATE_DIR: stateDir,
      CORPUS_DIR: path.join(REPO, 'data/corpus'),
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      ADMIN_USER_IDS: '9001',
    });
    await emulator.waitFor((c) => c.method === 'getUpdates', 45_000, 0);
    await emulator.waitFor((c) => c.method === 'setMyCommands' && (c.params.scope as { chat_id?: number } | undefined)?.chat_id === 9001, 10_000, 0);
    const menus = emulator.calls('setMyCommands');
    expect(menus.map((c) => c.params.language_code ?? 'default')).toEqual(['default', 'en', 'default']);
    expect(menus.every((c) => !c.error)).toBe(true);

    const user = { id: 9001, first_name: 'Admin' };
    emulator.sendMessage(user.id, user, '武清区2025年森林覆盖率目标是多少？');
    const [answer] = await emulator.waitForMessages(user.id, 1, 10_000);
    expect(answer?.text).toMatch(/13%[\s\S]*来源/);

    // A question in flight when SIGTERM arrives is still answered.
    emulator.sendMessage(user.id, user, '津南区十四五期间要建设哪些医院？');
    await emulator.waitFor((c) => c.method === 'sendChatAction' && c.params.chat_id === user.id && emulator.calls('sendChatAction').length >= 2, 10_000, 0);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(emulator.messagesIn(user.id)).toHaveLength(2);

    const logs = app.stderr();
    expect(logs).toMatch(/"msg":"long polling started"/);
    expect(logs).toMatch(/"msg":"shutting down".*"why":"SIGTERM"|"why":"SIGTERM".*"msg":"shutting down"/);
    expect(logs).toMatch(/"msg":"stopped"/);
    expect(logs).not.toContain(emulator.token.split(':')[1]!);
  }, 60_000);

  it('exits with a clear message when Telegram rejects the token', async () => {
    const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      STATE_DIR: stateDir,
      CORPUS_DIR: path.join(REPO, 'data/corpus'),
      TELEGRAM_BOT_TOKEN: '999999:WRONG-token-abcdefghijklmnopqrstuvwxyz',
      TELEGRAM_API_ROOT: emulator.apiRoot,
    });
    expect(await app.exited).toBe(1);
    expect(app.stderr()).toContain('config: TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized)');
    expect(app.stderr()).not.toContain('WRONG-token');
  }, 40_000);

  it('SIGTERM while a slow model streams: the answer goes out in its offline form and the process exits 0 at once', async () => {
    const model = await OpenAiTestServer.start();
    model.setDefaultChat({ kind: 'stream', chunks: Array.from({ length: 1000 }, () => '规'), delayMs: 2_000 });
    const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      STATE_DIR: stateDir,
      CORPUS_DIR: path.join(REPO, 'data/corpus'),
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      OPENAI_BASE_URL: model.baseURL,
      CHAT_MODEL: 'test-model',
    });
    try {
      const user = { id: 9101, first_name: 'Slow' };
      const since = emulator.sent.length;
      await emulator.waitFor((c) => c.method === 'getUpdates', 45_000, since);
      emulator.sendMessage(user.id, user, '武清区2025年森林覆盖率目标是多少？');
      await vi.waitFor(() => expect(model.requests.length).toBeGreaterThan(0), { timeout: 10_000 });
      const stopping = Date.now();
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5_000);
      const [answer] = emulator.messagesIn(user.id);
      expect(answer?.text).toMatch(/13%[\s\S]*来源/);
      expect(answer?.text).not.toContain('规规');
    } finally {
      app.child.kill('SIGKILL');
      await model.close();
    }
  }, 60_000);

  // A token too short for the token-shaped pattern: only the configured secret can hide it.
  // Long polling calls getMe and deleteWebhook at start; webhook mode getMe and setWebhook.
  for (const method of ['getMe', 'deleteWebhook', 'setWebhook']) {
    it(`never prints the token when ${method} fails at start-up with a description echoing the request path`, async () => {
      const echoing = await BotApiEmulator.start({ token: '7654321:short-Secret' });
      try {
        echoing.failNext(method, { error_code: 400, description: `Bad Request: cannot handle /bot${echoing.token}/${method}` });
        const app = start(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
          STATE_DIR: stateDir,
          CORPUS_DIR: path.join(REPO, 'data/corpus'),
          TELEGRAM_BOT_TOKEN: echoing.token,
          TELEGRAM_API_ROOT: echoing.apiRoot,
          ...(method === 'setWebhook' ? { WEBHOOK_URL: 'https://bot.example/hook', WEBHOOK_SECRET: 'webhook-secret-value', PORT: String(await freePort()) } : {}),
        });
        expect(await app.exited).toBe(1);
        const lines = app.stderr().trim().split('\n');
        expect(lines.at(-1)).toBe(`telegram: ${method} failed at start-up (400: Bad Request: cannot handle /bot<secret>/${method})`);
        expect(app.stderr() + app.stdout()).not.toContain('short-Secret');
        expect(app.stderr()).not.toMatch(/^\s+at /m);
      } finally {
        await echoing.close();
      }
    }, 40_000);
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
