import { QuestionAnswerer } from '../answer/question-answerer.ts';
import { openServingIndex } from '../index/ensure-index.ts';
import { preloadSegmenter } from '../index/tokenize.ts';
import type { CliContext } from './cli-runtime.ts';

/**
 * The index (a fleet's published generation with INDEX_SHARED_DIR, else this process's own,
 * built or repaired on first use) and the answerer over it. With CHAT_MODEL
 * set, answers are composed by the LLM (prompts are loaded and checked here, at start-up).
 */
export async function openAnswerer(ctx: CliContext): Promise<QuestionAnswerer> {
  // A command answers soon after it starts: jieba's dictionary loads on a second thread while the index loads here.
  preloadSegmenter();
  // The model writer (and the OpenAI SDK under it) is loaded only when a model is configured.
  const writer = ctx.config.llm.chatModel
    ? new (await import('../answer/llm-writer.ts')).LlmAnswerWriter(ctx.config.llm, { log: ctx.log.child({ module: 'llm' }) })
    : undefined;
  const { index } = await openServingIndex(ctx.config, ctx.log);
  return new QuestionAnswerer(index, { maxQuestionChars: ctx.config.telegram.maxQuestionChars, ...(writer ? { writer } : {}) });
}
