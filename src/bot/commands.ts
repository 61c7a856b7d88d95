import type { Api } from 'grammy';
import type { BotCommand } from 'grammy/types';
import type { Logger } from '../logger.ts';

/**
 * The command menu Telegram shows, in Chinese (default) and English (for users whose
 * Telegram language is English). Features that add commands (the digest) append here.
 */

export interface CommandSpec {
  command: string;
  zh: string;
  en: string;
}

export const PUBLIC_COMMANDS: CommandSpec[] = [
  { command: 'start', zh: '收录范围和示例问题', en: 'What the bot knows, with example questions' },
  { command: 'ask', zh: '提问（群里用）：/ask 问题', en: 'Ask a question (in groups: /ask question)' },
  { command: 'docs', zh: '收录的文件', en: 'Documents the answers come from' },
  { command: 'text', zh: '打开一份文件的原文：/text 编号', en: 'Open the text of a document: /text number' },
  { command: 'targets', zh: '主要指标图：/targets 区名', en: 'Indicator charts: /targets district' },
  { command: 'new', zh: '开始新话题（忘掉之前的对话）', en: 'Start over (forget the conversation)' },
  { command: 'subscribe', zh: '订阅每日摘要：/subscribe 主题 [HH:MM] [区名]', en: 'Daily digest on a topic: /subscribe topic [HH:MM] [district]' },
  { command: 'subscriptions', zh: '管理订阅（暂停、改时间、退订）', en: 'Your digests: pause, change time, unsubscribe' },
  { command: 'unsubscribe', zh: '退订：/unsubscribe 编号 或 all', en: 'Unsubscribe: /unsubscribe n or all' },
  { command: 'digest', zh: '现在看一期摘要：/digest 主题', en: 'A digest on a topic now: /digest topic' },
  { command: 'help', zh: '使用说明', en: 'How to use the bot' },
];

export const ADMIN_COMMANDS: CommandSpec[] = [
  { command: 'stats', zh: '使用统计（管理员）', en: 'Usage statistics (admins)' },
  { command: 'reindex', zh: '重建索引（管理员）', en: 'Rebuild the index (admins)' },
  { command: 'remove', zh: '移除文件（管理员；添加文件：直接发送给我）', en: 'Remove a document (admins; to add one, send it to me)' },
];

const toBotCommands = (specs: readonly CommandSpec[], lang: 'zh' | 'en'): BotCommand[] => specs.map((c) => ({ command: c.command, description: c[lang] }));

/** Registers the menus; the admins' private chats also list the admin commands. Failures are logged, not fatal. */
export async function registerCommands(api: Api, adminUserIds: readonly number[], log: Logger): Promise<void> {
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['default', () => api.setMyCommands(toBotCommands(PUBLIC_COMMANDS, 'zh'))],
    ['en', () => api.setMyCommands(toBotCommands(PUBLIC_COMMANDS, 'en'), { language_code: 'en' })],
    ...adminUserIds.map(
      (id): [string, () => Promise<unknown>] => [`admin ${id}`, () => api.setMyCommands(toBotCommands([...PUBLIC_COMMANDS, ...ADMIN_COMMANDS], 'zh'), { scope: { type: 'chat', chat_id: id } })],
    ),
  ];
  for (const [what, call] of calls) {
    try {
      await call();
    } catch (err) {
      log.warn({ scope: what, err: (err as Error).message }, 'setMyCommands failed');
    }
  }
}
