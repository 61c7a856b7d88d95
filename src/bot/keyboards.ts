import { InlineKeyboard } from 'grammy';
import type { FeedbackCounts } from '../store/bot-store.ts';
import { encodeAction } from './callback-data.ts';

/** The buttons under an answer: one per source, then 📊 对比图 (when it compares figures), 更多结果 and 👍/👎 (with counts once rated). */
export function answerKeyboard(answerId: number, sourceNumbers: readonly number[], options: { more: boolean; feedback?: FeedbackCounts; comparisonChart?: boolean }): InlineKeyboard {
  const kb = new InlineKeyboard();
  sourceNumbers.forEach((n, i) => {
    if (i > 0 && i % 5 === 0) kb.row();
    kb.text(`来源${n}`, encodeAction({ kind: 'source', answerId, n }));
  });
  if (sourceNumbers.length > 0) kb.row();
  if (options.comparisonChart) kb.text('📊 对比图', encodeAction({ kind: 'comparison-chart', answerId }));
  if (options.more) kb.text('更多结果', encodeAction({ kind: 'more', answerId }));
  const { up, down } = options.feedback ?? { up: 0, down: 0 };
  kb.text(up > 0 ? `👍 ${up}` : '👍', encodeAction({ kind: 'feedback', answerId, value: 1 }));
  kb.text(down > 0 ? `👎 ${down}` : '👎', encodeAction({ kind: 'feedback', answerId, value: -1 }));
  return kb;
}

/** Under a page of more results: the next page, when there may be one. */
export function moreKeyboard(recordId: number): InlineKeyboard {
  return new InlineKeyboard().text('更多结果', encodeAction({ kind: 'more', answerId: recordId }));
}
