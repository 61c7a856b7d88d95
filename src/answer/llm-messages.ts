import type { IndexedChunk } from '../index/plan-index.ts';
import type { HistoryTurn } from './answer.ts';
import type { OutputFormat } from './llm-output.ts';
import { DEFAULT_PROMPTS_DIR, loadPromptTemplate, type PromptTemplate } from './prompt-templates.ts';

/**
 * The chat messages sent to the model, built from the templates in `prompts/`. The
 * rules are the system message and never contain user or document text; passages,
 * history and the question go in the user message inside <passages>, <history> and
 * <question> blocks, which the rules declare to be data. Text that would close such a
 * block early is defused.
 */

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** History turns given to the rewriter, and how much of each earlier answer. */
const REWRITE_TURNS = 3;
const REWRITE_ANSWER_CHARS = 200;

/** `</passage>` inside data would end the block for the model: swap its `<` for a full-width one. */
export function asData(text: string): string {
  return text.replace(/<(\/?\s*(?:passages|passage|question|history)\b)/gi, '＜$1');
}

/** One numbered passage as the model sees it: document, section path, text. */
export function formatPassage(chunk: IndexedChunk, n: number): string {
  const doc = chunk.doc;
  const lines = [`<passage n="${n}">`, `文件：《${asData(doc.title)}》（${doc.district}，${doc.kind}）`];
  if (chunk.section.length > 0) lines.push(`章节：${asData(chunk.section.join(' › '))}`);
  lines.push('原文：', asData(chunk.text), '</passage>');
  return lines.join('\n');
}

export class LlmPrompts {
  private readonly answerSystem: PromptTemplate<'output_format'>;
  private readonly formats: Record<'json' | 'text', PromptTemplate<never>>;
  private readonly answerUser: PromptTemplate<'passages' | 'question'>;
  private readonly rewriteSystem: PromptTemplate<never>;
  private readonly rewriteUser: PromptTemplate<'history' | 'question'>;

  /** Loads and checks every template now, so a broken one fails at start-up. */
  constructor(dir: string = DEFAULT_PROMPTS_DIR) {
    this.answerSystem = loadPromptTemplate(dir, 'answer-system', ['output_format']);
    this.formats = {
      json: loadPromptTemplate(dir, 'answer-format-json', []),
      text: loadPromptTemplate(dir, 'answer-format-text', []),
    };
    this.answerUser = loadPromptTemplate(dir, 'answer-user', ['passages', 'question']);
    this.rewriteSystem = loadPromptTemplate(dir, 'rewrite-system', []);
    this.rewriteUser = loadPromptTemplate(dir, 'rewrite-user', ['history', 'question']);
  }

  answerMessages(question: string, passages: readonly IndexedChunk[], format: OutputFormat): ChatMessage[] {
    const outputFormat = this.formats[format === 'text' ? 'text' : 'json'].render({});
    return [
      { role: 'system', content: this.answerSystem.render({ output_format: outputFormat }) },
      {
        role: 'user',
        content: this.answerUser.render({ passages: passages.map((p, i) => formatPassage(p, i + 1)).join('\n\n'), question: asData(question) }),
      },
    ];
  }

  rewriteMessages(question: string, history: readonly HistoryTurn[]): ChatMessage[] {
    const turns = history.slice(-REWRITE_TURNS).map((t) => {
      const answer = t.answer ? `\n回答：${asData(t.answer.slice(0, REWRITE_ANSWER_CHARS))}${t.answer.length > REWRITE_ANSWER_CHARS ? '…' : ''}` : '';
      return `问：${asData(t.q)}${answer}`;
    });
    return [
      { role: 'system', content: this.rewriteSystem.render({}) },
      { role: 'user', content: this.rewriteUser.render({ history: turns.join('\n\n'), question: asData(question) }) },
    ];
  }
}
