import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { ConfigError } from '../errors.ts';

/**
 * The one place that knows @langchain/textsplitters. Its RecursiveCharacterTextSplitter keeps a
 * separator at the START of the next piece ("。下一句"); Chinese sentences end with their "。", so
 * we split after the separator instead.
 */

/** Paragraphs, then sentences, then clauses; ASCII forms too, since the corpus mixes both. */
export const CHINESE_SEPARATORS = ['\n\n', '\n', '。', '！', '？', '!', '?', '；', ';', '，', ',', '、', ''];

class EndSeparatorSplitter extends RecursiveCharacterTextSplitter {
  protected override splitOnSeparator(text: string, separator: string): string[] {
    if (separator === '') return [...text];
    const escaped = separator.replace(/[/\-\\^$*+?.()|[\]{}]/g, '\\$&');
    return text.split(new RegExp(`(?<=${escaped})`)).filter((s) => s !== '');
  }
}

export interface TextSplitter {
  /** Pieces of `text`, each a trimmed substring of it, of at most chunkSize characters where possible. */
  split(text: string): Promise<string[]>;
}

/** Counts code points, so an astral ideograph is one character, not two. */
const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export function createSplitter(options: { chunkSize: number; chunkOverlap: number }): TextSplitter {
  const { chunkSize, chunkOverlap } = options;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new ConfigError(`splitter: chunkSize must be a positive integer, got ${chunkSize}`);
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize)
    throw new ConfigError(`splitter: chunkOverlap must be from 0 to chunkSize - 1 (${chunkSize - 1}), got ${chunkOverlap}`);
  const splitter = new EndSeparatorSplitter({ chunkSize, chunkOverlap, separators: CHINESE_SEPARATORS, keepSeparator: true, lengthFunction: codePoints });
  return { split: (text) => splitter.splitText(text) };
}
