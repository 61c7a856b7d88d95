import { InputError } from '../errors.ts';
import { AnswerStream } from './answer-stream.ts';
import { answerComparison } from './comparison.ts';
import type { BotContext, BotServices } from './context.ts';
import { NOT_FOUND_HINT, answerHtml, sourcesFromAnswer } from './format.ts';
import { escapeHtml } from './html.ts';
import { answerKeyboard } from './keyboards.ts';
import { sendHtml, startTyping } from './send.ts';

/**
 * One question, from any entry (private text, /ask, a mention, an example button):
 * rate limit → validate → typing… → answer with the chat's history (streamed when the
 * answerer streams) → store the record → send the answer with its buttons.
 */

export const HISTORY = { limit: 4, maxAgeMs: 30 * 60_000 };

export interface AskOptions {
  /** Reply to this message (groups, so the answer sits under the question). */
  replyTo?: number;
  /** Show the question above the answer (when the user did not type it: an example button). */
  echo?: boolean;
}

export async function answerQuestion(ctx: BotContext, services: BotServices, question: string, options: AskOptions = {}): Promise<void> {
  const chat = ctx.chat!;
  const userId = ctx.from?.id ?? chat.id;
  const reply = options.replyTo ? { replyTo: options.replyTo } : {};

  const decision = services.questionLimiter.take(userId);
  if (!decision.allowed) {
    ctx.log.info({ user: userId, retryAfterMs: decision.retryAfterMs, notified: decision.firstRefusal }, 'question rate-limited');
    if (decision.firstRefusal) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      await sendHtml(ctx, `提问有点太快了：每分钟最多 ${services.telegram.rateLimitPerMinute} 个问题。请 ${seconds} 秒后再问。`, reply);
    }
    return;
  }

  const answerer = services.answerer();
  let q: string;
  try {
    q = answerer.validate(question);
  } catch (err) {
    if (err instanceof InputError) {
      ctx.log.info({ chars: question.length }, 'question refused');
      await sendHtml(ctx, escapeHtml(err.message), reply);
      return;
    }
    throw err;
  }

  const stopTyping = startTyping(ctx);
  const prefix = options.echo ? `<b>问：</b>${escapeHtml(q)}\n\n` : '';
  const interval = chat.type === 'private' ? services.streamIntervalMs.private : services.streamIntervalMs.group;
  const stream = new AnswerStream(ctx, interval, { ...reply, prefix, now: services.now });
  try {
    const history = await services.store.history(chat.id, HISTORY);
    const t0 = performance.now();
    const answer = await services.answerQueue.run(() => answerer.answer(q, history, { onPartial: (text) => stream.update(text) }));
    const answerMs = performance.now() - t0;
    ctx.timing.answerMs += answerMs;

    const sources = sourcesFromAnswer(answer);
    const id = await services.store.saveAnswer({
      kind: 'answer',
      chatId: chat.id,
      userId,
      question: q,
      standalone: answer.standaloneQuestion,
      answerText: answer.answer,
      found: answer.found,
      mode: answer.mode,
      sources,
      shown: sources.map((s) => s.chunkId),
    });
    let html = prefix + answerHtml(answer);
    if (!answer.found && answer.passages.length > 0) html += `\n\n<i>${NOT_FOUND_HINT}</i>`;
    const comparisonChart = answer.found && answerComparison(answer.answer, sources, answerer.index) !== undefined;
    const keyboard = answerKeyboard(id, sources.map((s) => s.n), { more: answer.passages.length > 0, comparisonChart });
    const messageId = await stream.finish(html, keyboard);
    if (messageId !== undefined) await services.store.setMessageId(id, messageId);
    const ms = performance.now() - ctx.timing.startedAt;
    await services.store.setLatency(id, ms);
    ctx.log.info(
      { answer: id, chars: q.length, found: answer.found, mode: answer.mode, citations: answer.citations.length, history: history.length, answerMs: Math.round(answerMs), ms: Math.round(ms) },
      'answered',
    );
  } catch (err) {
    if (err instanceof InputError) {
      await sendHtml(ctx, escapeHtml(err.message), reply);
      return;
    }
    throw err;
  } finally {
    stopTyping();
  }
}
