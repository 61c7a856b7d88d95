/**
 * Questions are answered first come, first served, at most `concurrency` at a time, and
 * the event loop gets a turn before each one starts. Offline answering is CPU work: a
 * burst of questions started together would hold the loop for seconds — every answer
 * late, outgoing messages bunched past Telegram's flood limit. An LLM answer mostly
 * waits on the network, so that mode runs many at once.
 */
export class AnswerQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`answer-queue: concurrency must be a positive integer, got ${concurrency}`);
  }

  get pending(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next in line
      else this.running--;
    }
  }
}
