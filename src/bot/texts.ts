import type { BotServices } from './context.ts';
import { corpusSummary, examplesFor } from './catalog.ts';
import { escapeHtml } from './html.ts';

/** Texts more than one feature shows. */

export function helpHtml(services: BotServices, botUsername: string): string {
  const index = services.answerer().index;
  const example = examplesFor(index, 1)[0]?.q ?? '武清区2025年森林覆盖率目标是多少？';
  const at = `@${escapeHtml(botUsername)}`;
  const lines = [
    '<b>怎么提问</b>',
    `• 私聊：直接输入问题，例如“${escapeHtml(example)}”`,
    services.console ? '• 控制台：按钮前面有编号，输入编号就等于点按钮；/quit 退出' : `• 群里：${at} 问题、回复我的消息，或 /ask 问题`,
    ...(services.console ? [] : [`• 任意聊天：输入 ${at} 关键词，把带出处的摘录发到当前聊天`]),
    '• 回答里的 [n] 是出处。点“来源n”看原文段落，“更多结果”看其它相关段落，👍/👎 告诉我们答得好不好',
    '• 追问可以省略区名和年份，例如“那津南区呢？”；/new 开始新话题',
    '',
    '<b>命令</b>',
    '/start 收录范围和示例　/docs 文件列表　/targets [区名] 主要指标图　/new 新话题　/help 帮助',
    '/subscribe 主题 [HH:MM] [区名] 每天推送带出处的摘要（如 /subscribe 生态环境 07:30）　/subscriptions 暂停、改时间、退订　/digest 主题 现在看一期',
    '',
    `<i>问题请在 ${services.telegram.maxQuestionChars} 字以内；每人每分钟最多 ${services.telegram.rateLimitPerMinute} 个问题。我只根据收录的文件回答，文件里没有的会直说。</i>`,
  ];
  return lines.join('\n');
}

export function coverageLine(services: BotServices): string {
  const s = corpusSummary(services.answerer().index);
  const span = s.years ? ` · ${s.years[0]}–${s.years[1]} 年` : '';
  return `${escapeHtml(s.districts.join('、'))} · ${s.documents.length} 份文件${span}`;
}

export const APOLOGY = '抱歉，处理这条消息时出错了。请稍后再试，或换个说法。';
export const REFUSAL = '抱歉，这个机器人只对授权的聊天开放。';
export const MEDIA_HINT = '我只能读文字。请直接用文字提问，例如“武清区2025年森林覆盖率目标是多少？”';
export const EXPIRED_BUTTON = '这个按钮已失效，请重新提问。';
