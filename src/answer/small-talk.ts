import type { IndexedDocumentMeta } from '../index/index-store.ts';
import { isSmallTalk } from '../retrieve/query-language.ts';

/**
 * Replies to input that is not a question about the plans (你好, 谢谢, a lone number,
 * English): a short, helpful line instead of a retrieved passage that would answer nothing.
 */
export function smallTalkReply(input: string, documents: readonly IndexedDocumentMeta[]): string | undefined {
  const kind = isSmallTalk(input);
  if (!kind) return undefined;
  const districts = [...new Set(documents.map((d) => d.district))];
  const example = `例如：“${districts[0] ?? '武清区'}2025年森林覆盖率目标是多少？”`;
  switch (kind) {
    case 'greeting':
      return `你好！我回答${districts.length ? `${districts.join('、')}的` : ''}发展规划和工作报告里的问题，每个回答都附原文出处。${example}`;
    case 'thanks':
      return '不客气。还想了解什么，直接问就行。';
    case 'not-chinese':
      return `请用中文提问，说明区、年份和想了解的事，${example}`;
  }
}
