import { Composer } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import { InputError } from '../../errors.ts';
import type { BotContext, BotServices } from '../context.ts';
import { excerptOf, inlineAnswerHtml, shortSection, sourceHtml, sourcesFromAnswer } from '../format.ts';

/**
 * Inline mode: `@bot 森林覆盖率` in any chat offers the cited answer and the passages
 * behind it, each a message to send there (self-contained: no buttons, quotes inline).
 * Results are cached briefly, since clients ask again as the user types.
 */

const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 500;
const MIN_QUERY_CHARS = 2;

function cut(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function inlineFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const cache = new Map<string, { at: number; results: InlineQueryResultArticle[] }>();

  composer.on('inline_query', async (ctx) => {
    const query = ctx.inlineQuery.query.trim();
    if (query.length < MIN_QUERY_CHARS) return ctx.answerInlineQuery([], { cache_time: 300 });
    const cached = cache.get(query);
    if (cached && services.now() - cached.at < CACHE_MS) return ctx.answerInlineQuery(cached.results, { cache_time: 300 });
    if (!services.inlineLimiter.take(ctx.from.id).allowed) return ctx.answerInlineQuery([], { cache_time: 5, is_personal: true });

    const t0 = performance.now();
    let answer;
    try {
      answer = await services.answerQueue.run(() => services.answerer().answer(query, []));
    } catch (err) {
      if (err instanceof InputError) return ctx.answerInlineQuery([], { cache_time: 60 });
      throw err;
    }
    ctx.timing.answerMs += performance.now() - t0;

    const results: InlineQueryResultArticle[] = [];
    const content = (html: string) => ({ message_text: html, parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true } });
    if (answer.found) {
      const sources = sourcesFromAnswer(answer);
      results.push({
        type: 'article',
        id: 'answer',
        title: cut(answer.answer.replace(/\[\d+\]/g, ''), 60),
        description: `带出处的回答 · ${cut(sources.map((s) => `《${s.title}》`).filter((t, i, a) => a.indexOf(t) === i).join(''), 80)}`,
        input_message_content: content(inlineAnswerHtml(answer)),
      });
    }
    answer.passages.slice(0, 5).forEach((p, i) => {
      const excerpt = excerptOf(p, i + 1);
      results.push({
        type: 'article',
        id: `p${i + 1}`,
        title: cut(`${excerpt.district} · ${shortSection(excerpt.section) || excerpt.title}`, 60),
        description: cut(excerpt.excerpt, 100),
        input_message_content: content(sourceHtml(excerpt)),
      });
    });
    await services.store.saveAnswer({
      kind: 'inline',
      userId: ctx.from.id,
      question: query,
      standalone: answer.standaloneQuestion,
      answerText: answer.answer,
      found: answer.found,
      mode: answer.mode,
      sources: [],
      shown: [],
      latencyMs: Math.round(performance.now() - ctx.timing.startedAt),
    });
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(query, { at: services.now(), results });
    ctx.log.info({ chars: query.length, found: answer.found, results: results.length }, 'inline answered');
    await ctx.answerInlineQuery(results, { cache_time: 300 });
  });
  return composer;
}
