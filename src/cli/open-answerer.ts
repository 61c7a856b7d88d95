import { QuestionAnswerer } from '../answer/question-answerer.ts';
import { ensureIndex } from '../index/ensure-index.ts';
import type { CliContext } from './cli-runtime.ts';

/** The index (built or repaired on first use) and the answerer over it. */
export async function openAnswerer(ctx: CliContext): Promise<QuestionAnswerer> {
  const index = await ensureIndex(ctx.config, ctx.log);
  return new QuestionAnswerer(index, { maxQuestionChars: ctx.config.telegram.maxQuestionChars });
}
