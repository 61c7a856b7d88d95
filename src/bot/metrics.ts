/**
 * In-process counters since start (persistent figures live in the store): updates,
 * errors, and per-update timings split into answering, Telegram API calls and the bot's
 * own work, for /stats and the benchmark.
 */

const MAX_SAMPLES = 20_000;

export interface TimingSummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export function summarize(samples: readonly number[]): TimingSummary {
  if (samples.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { count: sorted.length, mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length), p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted.at(-1)!) };
}

export class BotMetrics {
  readonly startedAt = Date.now();
  updates = 0;
  errors = 0;
  /** Per question update: total handling time, answering time, and the rest minus API waits (ms). */
  readonly questionMs: number[] = [];
  readonly answerMs: number[] = [];
  readonly overheadMs: number[] = [];

  recordQuestion(totalMs: number, answerMs: number, apiMs: number): void {
    push(this.questionMs, totalMs);
    push(this.answerMs, answerMs);
    push(this.overheadMs, Math.max(0, totalMs - answerMs - apiMs));
  }
}

function push(list: number[], value: number): void {
  list.push(value);
  if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
}
