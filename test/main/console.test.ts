import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, start } from './start.ts';

/** `npm start` without a token: the console chat, driven through stdin. */

let stateDir: string;
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'plan-qa-console-'));
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

const env = () => ({ STATE_DIR: stateDir, CORPUS_DIR: path.join(REPO, 'data/corpus') });

describe('console chat (npm start without TELEGRAM_BOT_TOKEN)', () => {
  it('builds the index on first start, greets, answers, and presses buttons by number', async () => {
    const app = start('npm', ['start', '--silent'], env());
    await app.waitForOutput('试试这些问题', 45_000);
    app.child.stdin.write('武清区2025年森林覆盖率目标是多少？\n');
    await app.waitForOutput('[2] 更多结果');
    app.child.stdin.write('1\n');
    await app.waitForOutput('│ 森林覆盖率(%)：2020年12.07，2025年13，约束性');
    app.child.stdin.write('3\n/help\n');
    app.child.stdin.end();
    expect(await app.exited).toBe(0);

    const out = app.stdout();
    expect(out).toMatch(/正在建立索引（5 份文件[\s\S]*索引完成：\d+ 段/);
    expect(out).toContain('规划问答 · 控制台');
    expect(out).toMatch(/收录范围：武清区、河北区、津南区 · 5 份文件 · 2016–2035 年/);
    expect(out).toMatch(/\[1\] 武清区2025年森林覆盖率目标是多少？\n {2}\[2\] /); // example buttons
    expect(out).toMatch(/你> 武清区2025年森林覆盖率目标是多少？\n\n森林覆盖率（%）：2025年目标13%，2020年为12\.07%，约束性指标\[1\]\n\n来源\n\[1\] 《/);
    expect(out).toContain('[1] 来源1');
    expect(out).toContain('ⓘ 谢谢！已记录 👍');
    expect(out).toContain('控制台：按钮前面有编号');
    expect(out).not.toMatch(/"level":/); // logs go to the log file, not the chat
    const logFile = path.join(stateDir, 'console.log');
    expect(existsSync(logFile)).toBe(true);
    expect(readFileSync(logFile, 'utf8')).toMatch(/"msg":"answered"/);
  }, 60_000);

  it('starts without rebuilding, keeps history and feedback in SQLite, and quits on /quit', async () => {
    const app = start('npm', ['start', '--silent'], env());
    await app.waitForOutput('试试这些问题', 30_000);
    app.child.stdin.write('/stats\n/quit\n');
    expect(await app.exited).toBe(0);
    const out = app.stdout();
    expect(out).not.toContain('正在建立索引');
    expect(out).toMatch(/问题：共 1，24 小时内 1/);
    expect(out).toMatch(/反馈：👍 1，👎 0/);
  }, 40_000);

  it('saves a chart to a file and shows its path; its buttons still work', async () => {
    const app = start('npm', ['start', '--silent'], env());
    await app.waitForOutput('试试这些问题', 30_000);
    app.child.stdin.write('/targets 武清区\n');
    await app.waitForOutput('📊 图表已保存：');
    await app.waitForOutput('[1] 📄 文字版');
    app.child.stdin.write('1\n');
    await app.waitForOutput('主要指标 · 武清区（共 16 项，第 1/2 页）');
    app.child.stdin.write('/quit\n');
    expect(await app.exited).toBe(0);
    const out = app.stdout();
    expect(out).toMatch(/武清区 · “十四五”时期经济社会发展主要指标\n2020年与2025年目标，共 16 项/);
    const file = /📊 图表已保存：(\S+\.png)/.exec(out)![1]!;
    expect(path.dirname(file)).toBe(path.join(stateDir, 'charts'));
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1080);
  }, 40_000);
});
