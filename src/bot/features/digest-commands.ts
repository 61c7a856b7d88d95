import { Composer, InlineKeyboard } from 'grammy';
import type { PlanIndex } from '../../index/plan-index.ts';
import type { Subscription } from '../../store/digest-store.ts';
import type { DigestContent, DigestItem, DigestScope } from '../../digest/digest-content.ts';
import { matchDistrict } from '../catalog.ts';
import type { BotContext, BotServices } from '../context.ts';
import { digestChartSpec } from '../../chart/digest-chart.ts';
import { ChartError } from '../../errors.ts';
import { decodeItemButton, digestHtml, digestItemHtml, digestKeyboard, whenLabel } from '../digest-format.ts';
import { escapeHtml } from '../html.ts';
import { editHtml, sendHtml } from '../send.ts';
import { EXPIRED_BUTTON } from '../texts.ts';

/**
 * Daily digests in chat: /subscribe <topic> [HH:MM] [district|document], /subscriptions
 * (buttons: pause, resume, change time, unsubscribe), /unsubscribe <n|all>, /digest
 * <topic> (a preview now), and the buttons under a digest that open each passage. In
 * groups only the group's admins may change subscriptions. The rules live in the digest
 * (handed in by main.ts as a `DigestCommands`); this feature reads commands and words
 * the outcomes.
 */

/** What the digest offers the bot (src/digest/digest-service.ts fits). */
export interface DigestCommands {
  readonly settings: { timeZone: string; defaultTime: string; maxSubscriptionsPerChat: number; maxTopicChars: number };
  suggestions(count: number, near?: string, scope?: DigestScope): Promise<string[]>;
  subscribe(input: { chatId: number; userId?: number; topic: string; time?: string; scope?: DigestScope }): Promise<
    | { ok: true; subscription: Subscription; passages: number }
    | TopicProblem
    | { ok: false; reason: 'bad-time' }
    | { ok: false; reason: 'duplicate'; existing: Subscription }
    | { ok: false; reason: 'limit'; count: number; max: number }
  >;
  list(chatId: number): Promise<Subscription[]>;
  get(chatId: number, id: number): Promise<Subscription | undefined>;
  pause(chatId: number, id: number): Promise<Subscription | undefined>;
  resume(chatId: number, id: number): Promise<Subscription | undefined>;
  setTime(chatId: number, id: number, time: string): Promise<Subscription | undefined>;
  unsubscribe(chatId: number, id: number): Promise<boolean>;
  unsubscribeAll(chatId: number): Promise<number>;
  preview(chatId: number, topic: string, scope?: DigestScope): Promise<{ ok: true; id: number; content: DigestContent } | TopicProblem>;
  item(chatId: number, ref: { kind: 'delivery' | 'preview'; id: number; n: number }): Promise<DigestItem | undefined>;
}

type TopicProblem =
  | { ok: false; reason: 'empty-topic' }
  | { ok: false; reason: 'topic-too-long'; chars: number; max: number }
  | { ok: false; reason: 'no-match'; suggestions: string[] };

/** Preset times offered by 改时间. */
const TIME_CHOICES = ['06:00', '06:30', '07:00', '07:30', '08:00', '08:30', '09:00', '12:00', '18:00', '20:00', '21:00', '22:00'];

// ---- reading the command ----------------------------------------------------------------------

export interface SubscribeArgs {
  topic: string;
  time?: string;
  /** A token that looks like a time but is not one ("25:00", "8", "7点"). */
  badTime?: string;
  scope?: DigestScope;
}

const TIMEISH = /^(?:\d{1,4}|\d{1,2}\s*[:：.．点時时]\s*(?:\d{0,2}\s*分?|半|一刻)|\d{1,2}\s*[:：]\s*\d+)$/;

/** A document named by 《title》, by its file, or by a distinctive part of its title (4+ characters, one document only). */
function matchDocument(index: PlanIndex, token: string): DigestScope | undefined {
  const t = token.replace(/^《|》$/g, '').trim();
  const bracketed = token.startsWith('《');
  if (!bracketed && t.length < 4) return undefined;
  const hits = index.documents.filter((d) => d.title === t || d.file === t || d.title.includes(t));
  const doc = hits.length === 1 ? hits[0] : hits.find((d) => d.title === t || d.file === t);
  return doc ? { kind: 'document', value: doc.file, label: `《${doc.title}》` } : undefined;
}

/** Splits `/subscribe` arguments into topic words, a time and a district or document, in any order. */
export function parseSubscribeArgs(text: string, index: PlanIndex): SubscribeArgs {
  const tokens = text.split(/\s+/).filter(Boolean);
  const out: SubscribeArgs = { topic: '' };
  const topic: string[] = [];
  for (const token of tokens) {
    const ascii = token.normalize('NFKC');
    if (TIMEISH.test(ascii)) {
      const m = /^(\d{1,2})[:：](\d{2})$/.exec(ascii);
      const ok = m && Number(m[1]) < 24 && Number(m[2]) < 60;
      if (ok && out.time === undefined) out.time = `${m[1]!.padStart(2, '0')}:${m[2]}`;
      else out.badTime ??= token;
      continue;
    }
    const district = out.scope ? undefined : matchDistrict(index, token);
    const scope = district ? ({ kind: 'district', value: district, label: district } as const) : out.scope ? undefined : matchDocument(index, token);
    if (scope) out.scope = scope;
    else topic.push(token);
  }
  // Only a scope was given: it was the topic after all ("/subscribe 政府工作报告").
  if (topic.length === 0 && out.scope?.kind === 'document') {
    topic.push(tokens.find((t) => matchDocument(index, t))!);
    delete out.scope;
  }
  out.topic = topic.join(' ');
  return out;
}

// ---- wording ------------------------------------------------------------------------------------

function topicList(topics: readonly string[]): string {
  return topics.map((t) => `<code>${escapeHtml(t)}</code>`).join('、');
}

function problemHtml(p: TopicProblem | { ok: false; reason: 'bad-time' }, topic: string, command: string): string {
  switch (p.reason) {
    case 'empty-topic':
      return `请写上想订阅的主题，例如 <code>/${command} 生态环境</code>。`;
    case 'topic-too-long':
      return `主题太长（${p.chars}字）：请用 ${p.max} 字以内的关键词，例如“生态环境”“养老”。`;
    case 'no-match':
      return `收录的文件里没有和“${escapeHtml(topic)}”相关的内容，无法订阅。${p.suggestions.length > 0 ? `\n这些主题有内容：${topicList(p.suggestions)}` : ''}`;
    case 'bad-time':
      return '时间格式不对：请用 24 小时制 HH:MM，例如 07:30。';
  }
}

function scheduleLine(sub: Subscription, now: number): string {
  if (sub.status === 'paused') return `每天 ${sub.sendTime} · ⏸ 已暂停`;
  if (sub.status === 'stopped') return `⚠️ 已停止：消息无法送达（机器人被屏蔽或移出群）`;
  return `每天 ${sub.sendTime} · 下一期 ${sub.nextRunAt !== undefined ? whenLabel(sub.nextRunAt, sub.timeZone, now) : '—'}`;
}

function listHtml(subs: readonly Subscription[], max: number, timeZone: string, now: number): string {
  if (subs.length === 0) return '这个聊天还没有订阅。\n用 <code>/subscribe 主题 [HH:MM]</code> 订阅，例如 <code>/subscribe 生态环境 07:30</code>。';
  const lines = [`<b>本聊天的订阅</b>（${subs.length}/${max}）`];
  subs.forEach((s, i) => {
    lines.push(`${i + 1}. <b>${escapeHtml(s.topic)}</b>${s.scope ? ` · ${escapeHtml(s.scope.label)}` : ''}`, `    ${scheduleLine(s, now)}`);
  });
  lines.push('', `<i>时间按 ${escapeHtml(timeZone)}。退订：/unsubscribe 编号 或 /unsubscribe all</i>`);
  return lines.join('\n');
}

function listKeyboard(subs: readonly Subscription[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  subs.forEach((s, i) => {
    const n = i + 1;
    if (s.status === 'active') kb.text(`${n} ⏸ 暂停`, `ds:p:${s.id}`);
    else kb.text(`${n} ▶️ 恢复`, `ds:r:${s.id}`);
    kb.text(`${n} 🕒 改时间`, `ds:t:${s.id}`).text(`${n} ✖ 退订`, `ds:u:${s.id}`).row();
  });
  return kb;
}

function timePicker(sub: Subscription): { html: string; keyboard: InlineKeyboard } {
  const kb = new InlineKeyboard();
  TIME_CHOICES.forEach((t, i) => {
    if (i > 0 && i % 4 === 0) kb.row();
    kb.text(t === sub.sendTime ? `· ${t} ·` : t, `ds:s:${sub.id}:${t.replace(':', '')}`);
  });
  kb.row().text('↩ 返回', 'ds:l');
  const html = `修改订阅 #${sub.id}「${escapeHtml(sub.topic)}」的推送时间（现在每天 ${sub.sendTime}）。\n点一个时间，或回复这条消息写上 HH:MM。`;
  return { html, keyboard: kb };
}

// ---- the feature ---------------------------------------------------------------------------------

export function digestCommandsFeature(services: BotServices, digest: DigestCommands): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const { maxSubscriptionsPerChat: max, timeZone } = digest.settings;
  const index = () => services.answerer().index;

  /** Private chats: anyone. Groups: the group's admins (an anonymous admin posts as the group). */
  const mayManage = async (ctx: BotContext): Promise<boolean> => {
    const chat = ctx.chat!;
    if (chat.type === 'private') return true;
    if (ctx.msg?.sender_chat?.id === chat.id && !ctx.callbackQuery) return true;
    if (!ctx.from) return false;
    const member = await ctx.api.getChatMember(chat.id, ctx.from.id);
    return member.status === 'creator' || member.status === 'administrator';
  };
  const ADMINS_ONLY = '在群里只有群管理员可以订阅、退订或修改订阅。';

  composer.command('subscribe', async (ctx) => {
    const args = parseSubscribeArgs(ctx.match, index());
    if (!args.topic && !args.badTime) {
      const topics = await digest.suggestions(8);
      await sendHtml(
        ctx,
        [
          '<b>订阅每日摘要</b>：/subscribe 主题 [HH:MM] [区名或文件]',
          `例如 <code>/subscribe 生态环境 07:30 津南区</code>；不写时间就是每天 ${escapeHtml(digest.settings.defaultTime)}（${escapeHtml(timeZone)}）。`,
          ...(topics.length > 0 ? [`文件里常见的主题：${topicList(topics)}`] : []),
        ].join('\n'),
      );
      return;
    }
    if (!(await mayManage(ctx))) return void (await sendHtml(ctx, ADMINS_ONLY));
    if (args.badTime) return void (await sendHtml(ctx, `“${escapeHtml(args.badTime)}”不是有效的时间。${problemHtml({ ok: false, reason: 'bad-time' }, '', 'subscribe')}`));
    const result = await digest.subscribe({ chatId: ctx.chat.id, ...(ctx.from ? { userId: ctx.from.id } : {}), topic: args.topic, ...(args.time ? { time: args.time } : {}), ...(args.scope ? { scope: args.scope } : {}) });
    if (!result.ok) {
      ctx.log.info({ chat: ctx.chat.id, reason: result.reason }, 'subscribe refused');
      if (result.reason === 'duplicate') {
        const s = result.existing;
        return void (await sendHtml(ctx, `已经订阅过“${escapeHtml(s.topic)}”${s.scope ? `（${escapeHtml(s.scope.label)}）` : ''}了（每天 ${s.sendTime}）。要改时间或暂停，请用 /subscriptions。`));
      }
      if (result.reason === 'limit') return void (await sendHtml(ctx, `这个聊天已有 ${result.count} 个订阅，最多 ${result.max} 个。请先用 /unsubscribe 退订一个。`));
      return void (await sendHtml(ctx, problemHtml(result, args.topic, 'subscribe')));
    }
    const s = result.subscription;
    ctx.log.info({ chat: ctx.chat.id, subscription: s.id, passages: result.passages }, 'subscribed');
    await sendHtml(
      ctx,
      [
        `✅ 已订阅 <b>${escapeHtml(s.topic)}</b>${s.scope ? `（${escapeHtml(s.scope.label)}）` : ''}`,
        `每天 ${s.sendTime}（${escapeHtml(s.timeZone)}）推送，第一期：${whenLabel(s.nextRunAt!, s.timeZone, services.now())}。`,
        `相关段落 ${result.passages} 段，每期几段，先发最相关的和新增文件里的。`,
        '管理订阅：/subscriptions　现在看一期：/digest ' + escapeHtml(s.topic),
      ].join('\n'),
    );
  });

  composer.command('subscriptions', async (ctx) => {
    const subs = await digest.list(ctx.chat.id);
    await sendHtml(ctx, listHtml(subs, max, timeZone, services.now()), subs.length > 0 ? { keyboard: listKeyboard(subs) } : {});
  });

  composer.command('unsubscribe', async (ctx) => {
    const arg = ctx.match.trim().toLowerCase();
    const subs = await digest.list(ctx.chat.id);
    if (!arg) return void (await sendHtml(ctx, `用法：/unsubscribe 编号 或 /unsubscribe all\n\n${listHtml(subs, max, timeZone, services.now())}`));
    if (!(await mayManage(ctx))) return void (await sendHtml(ctx, ADMINS_ONLY));
    if (arg === 'all' || arg === '全部') {
      const n = await digest.unsubscribeAll(ctx.chat.id);
      return void (await sendHtml(ctx, n > 0 ? `已退订全部 ${n} 个订阅。` : '这个聊天没有订阅。'));
    }
    const n = /^\d{1,3}$/.test(arg) ? Number(arg) : NaN;
    const sub = subs[n - 1];
    if (!sub) return void (await sendHtml(ctx, subs.length === 0 ? '这个聊天没有订阅。' : `没有第 ${escapeHtml(arg)} 个订阅：请写 1–${subs.length} 之间的编号，或 all。`));
    await digest.unsubscribe(ctx.chat.id, sub.id);
    await sendHtml(ctx, `已退订“${escapeHtml(sub.topic)}”${sub.scope ? `（${escapeHtml(sub.scope.label)}）` : ''}。`);
  });

  composer.command('digest', async (ctx) => {
    const args = parseSubscribeArgs(ctx.match, index());
    if (!args.topic) return void (await sendHtml(ctx, problemHtml({ ok: false, reason: 'empty-topic' }, '', 'digest')));
    const userId = ctx.from?.id ?? ctx.chat.id;
    if (!services.questionLimiter.take(userId).allowed) return void (await sendHtml(ctx, `有点太快了：每分钟最多 ${services.telegram.rateLimitPerMinute} 次。请稍后再试。`));
    const result = await digest.preview(ctx.chat.id, args.topic, args.scope);
    if (!result.ok) return void (await sendHtml(ctx, problemHtml(result, args.topic, 'digest')));
    const keyboard = digestKeyboard({ kind: 'preview', id: result.id }, result.content.items);
    // Items with indicator figures: the preview leads with their chart, as the daily digest does.
    const chart = digestChartSpec(result.content);
    if (chart) {
      await services.charts
        .send(ctx, chart, `<b>📊 今日指标 · ${escapeHtml(result.content.topic)}</b>`)
        .catch((err: unknown) => {
          if (!(err instanceof ChartError)) throw err;
          ctx.log.warn({ err: err.message }, 'digest chart failed');
        });
    }
    await sendHtml(ctx, digestHtml(result.content), keyboard ? { keyboard } : {});
  });

  // 原文n under a digest or preview: the whole passage.
  composer.callbackQuery(/^dg:/, async (ctx) => {
    const ref = decodeItemButton(ctx.callbackQuery.data);
    const item = ref && ctx.chat ? await digest.item(ctx.chat.id, ref) : undefined;
    if (!item) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    await ctx.answerCallbackQuery();
    const replyTo = ctx.callbackQuery.message?.message_id;
    await sendHtml(ctx, digestItemHtml(item), replyTo ? { replyTo } : {});
  });

  // The buttons of /subscriptions: the list message is edited in place.
  composer.callbackQuery(/^ds:/, async (ctx) => {
    const m = /^ds:(?:(l)|([prtu]):(\d+)|(s):(\d+):(\d{4}))$/.exec(ctx.callbackQuery.data);
    const messageId = ctx.callbackQuery.message?.message_id;
    if (!m || !ctx.chat || messageId === undefined) return ctx.answerCallbackQuery({ text: EXPIRED_BUTTON });
    const chatId = ctx.chat.id;
    const showList = async () => {
      const subs = await digest.list(chatId);
      await editHtml(ctx, messageId, listHtml(subs, max, timeZone, services.now()), listKeyboard(subs));
    };
    if (m[1]) {
      await ctx.answerCallbackQuery();
      return showList();
    }
    if (!(await mayManage(ctx))) return ctx.answerCallbackQuery({ text: ADMINS_ONLY });
    const action = m[2] ?? m[4]!;
    const id = Number(m[3] ?? m[5]);
    const sub = await digest.get(chatId, id);
    if (!sub) {
      await ctx.answerCallbackQuery({ text: '这个订阅已经不存在了。' });
      return showList();
    }
    if (action === 't') {
      await ctx.answerCallbackQuery();
      const { html, keyboard } = timePicker(sub);
      return editHtml(ctx, messageId, html, keyboard);
    }
    let toast: string;
    if (action === 'p') toast = (await digest.pause(chatId, id)) ? `已暂停“${sub.topic}”` : EXPIRED_BUTTON;
    else if (action === 'r') toast = (await digest.resume(chatId, id)) ? `已恢复“${sub.topic}”` : EXPIRED_BUTTON;
    else if (action === 'u') toast = (await digest.unsubscribe(chatId, id)) ? `已退订“${sub.topic}”` : EXPIRED_BUTTON;
    else {
      const time = `${m[6]!.slice(0, 2)}:${m[6]!.slice(2)}`;
      toast = (await digest.setTime(chatId, id, time)) ? `“${sub.topic}”改为每天 ${time}` : EXPIRED_BUTTON;
    }
    ctx.log.info({ chat: chatId, subscription: id, action }, 'subscription changed');
    await ctx.answerCallbackQuery({ text: toast });
    await showList();
  });

  // A reply to the 改时间 message with a time.
  composer
    .on('message:text')
    .filter((ctx) => ctx.msg.reply_to_message?.from?.id === ctx.me.id && /^修改订阅 #\d+「/.test(ctx.msg.reply_to_message.text ?? ''))
    .use(async (ctx) => {
      const id = Number(/^修改订阅 #(\d+)/.exec(ctx.msg.reply_to_message!.text!)![1]);
      const sub = await digest.get(ctx.chat.id, id);
      if (!sub) return void (await sendHtml(ctx, '这个订阅已经不存在了。'));
      if (!(await mayManage(ctx))) return void (await sendHtml(ctx, ADMINS_ONLY));
      const updated = await digest.setTime(ctx.chat.id, id, ctx.msg.text.trim().normalize('NFKC'));
      if (!updated) return void (await sendHtml(ctx, problemHtml({ ok: false, reason: 'bad-time' }, '', 'subscribe'), { replyTo: ctx.msg.message_id }));
      await sendHtml(ctx, `“${escapeHtml(updated.topic)}”改为每天 ${updated.sendTime}。${updated.nextRunAt !== undefined ? `下一期：${whenLabel(updated.nextRunAt, updated.timeZone, services.now())}。` : ''}`);
    });

  return composer;
}
