import { Composer } from 'grammy';
import { commandForBot } from '../addressing.ts';
import type { BotContext, BotServices } from '../context.ts';
import { escapeHtml } from '../html.ts';
import { summarize } from '../metrics.ts';
import { sendHtml } from '../send.ts';

/** /stats and /reindex, for ADMIN_USER_IDS only; everyone else is refused. */
export function adminFeature(services: BotServices): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const admins = new Set(services.telegram.adminUserIds);
  const guard = composer.filter((ctx) => !!ctx.msg && /^\/(stats|reindex)(@|\s|$)/.test(ctx.msg.text ?? '') && commandForBot(ctx.msg, ctx.me.username) !== undefined);
  const refused = guard.filter((ctx) => !admins.has(ctx.from?.id ?? 0));
  refused.use(async (ctx) => {
    ctx.log.info({ user: ctx.from?.id }, 'admin command refused');
    await sendHtml(ctx, '这个命令只对管理员开放。');
  });
  let reindexing = false;

  guard.command('stats', async (ctx) => {
    const s = await services.store.stats();
    const m = services.metrics;
    const answer = summarize(m.answerMs);
    const overhead = summarize(m.overheadMs);
    const hours = ((Date.now() - m.startedAt) / 3600_000).toFixed(1);
    const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((100 * a) / b)}%`);
    const lines = [
      '<b>使用统计</b>',
      `聊天：私聊 ${s.chats.private}，群组 ${s.chats.groups}，24 小时内活跃 ${s.chats.activeLast24h}，已屏蔽/移出 ${s.chats.blocked}`,
      `问题：共 ${s.questions.total}，24 小时内 ${s.questions.last24h}；找到答案 ${s.questions.found}（${pct(s.questions.found, s.questions.total)}），未找到 ${s.questions.notFound}${s.questions.llm ? `，模型作答 ${s.questions.llm}` : ''}`,
      `更多结果 ${s.morePages} 次，内联查询 ${s.inline} 次`,
      `延迟（最近 ${s.latencyMs.samples} 个问题）：p50 ${s.latencyMs.p50} ms，p95 ${s.latencyMs.p95} ms，最长 ${s.latencyMs.max} ms`,
      `反馈：👍 ${s.feedback.up}，👎 ${s.feedback.down}（${s.feedback.answersRated} 个回答被评价）`,
      '',
      `<i>本次运行 ${hours} 小时：更新 ${m.updates} 个，出错 ${m.errors} 个；检索与作答 p95 ${answer.p95.toFixed(1)} ms，机器人自身开销 p95 ${overhead.p95.toFixed(2)} ms</i>`,
    ];
    await sendHtml(ctx, lines.join('\n'));
  });

  guard.command('reindex', async (ctx) => {
    if (!services.reindex) return sendHtml(ctx, '这种运行方式不支持重建索引。');
    if (reindexing) return sendHtml(ctx, '索引正在更新，请稍候。');
    const rebuild = ctx.match.trim() === 'full';
    reindexing = true;
    try {
      await sendHtml(ctx, rebuild ? '正在从头重建索引……' : '正在更新索引（只处理有变化的文件）……');
      const r = await services.reindex({ rebuild });
      ctx.log.info({ ...r }, 'reindexed');
      await sendHtml(ctx, `索引已更新：${r.documents} 份文件，${r.chunks} 段（新嵌入 ${r.embedded} 段，沿用 ${r.reused} 段），用时 ${(r.ms / 1000).toFixed(1)} 秒。`);
    } catch (err) {
      ctx.log.error({ err: (err as Error).message }, 'reindex failed');
      await sendHtml(ctx, `索引更新失败，仍在使用原来的索引：${escapeHtml((err as Error).message.split('\n')[0] ?? '')}`);
    } finally {
      reindexing = false;
    }
  });
  return composer;
}
