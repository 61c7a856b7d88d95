import { GrammyError, HttpError, InlineKeyboard, InputFile, type Api } from 'grammy';
import { ChartRenderer } from '../chart/chart-renderer.ts';
import type { ChartSpec } from '../chart/chart-spec.ts';
import { digestChartSpec } from '../chart/digest-chart.ts';
import { ChartError, DeliveryError } from '../errors.ts';
import { staleFileId } from './chart-photo.ts';
import type { DigestContent, DigestItem } from '../digest/digest-content.ts';
import type { SourceExcerpt } from '../store/bot-store.ts';
import { shortSection, sourceHtml } from './format.ts';
import { escapeHtml, htmlToText, splitHtml } from './html.ts';
import { badEntities } from './send.ts';

/**
 * Digests as Telegram HTML, and the function that puts a scheduled digest in a chat
 * (main.ts hands it to the digest scheduler). Same rules as answers: everything from
 * documents escaped, claims marked [n] with a source line (《title》 section), split
 * under 4096 characters, one button per item opening the whole passage.
 */

const QUOTE_SHOWN = 200;
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** "2026-01-05" → "1月5日 周一". */
export function localDateLabel(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return `${m}月${d}日 ${WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]}`;
}

/** An instant as the zone's clock shows it, relative to now: "今天 08:00", "明天 07:30", "1月8日 08:00". */
export function whenLabel(instant: number, timeZone: string, now: number): string {
  const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
  const date = day(instant);
  if (date === day(now)) return `今天 ${time}`;
  if (date === day(now + 86_400_000)) return `明天 ${time}`;
  const [, m, d] = date.split('-').map(Number) as [number, number, number];
  return `${m}月${d}日 ${time}`;
}

function quoteText(item: DigestItem): string {
  const q = item.excerpt.slice(item.quote[0], item.quote[1]).trim();
  return q.length > QUOTE_SHOWN ? `${q.slice(0, QUOTE_SHOWN - 1)}…` : q;
}

function itemHtml(item: DigestItem): string {
  const fresh = item.isNew ? '🆕<b>新增文件</b> ' : '';
  const section = shortSection(item.section);
  return [
    `<b>${item.n}.</b> ${fresh}${escapeHtml(item.summary)} [${item.n}]`,
    `<blockquote>${escapeHtml(quoteText(item))}</blockquote>`,
    `<i>[${item.n}] 《${escapeHtml(item.title)}》${section ? ` ${escapeHtml(section)}` : ''}</i>`,
  ].join('\n');
}

/** The whole digest: header (topic, date), notes on rounds, the items. */
export function digestHtml(content: DigestContent): string {
  const topic = escapeHtml(content.topic);
  const meta = [
    content.preview ? `预览 · ${localDateLabel(content.localDate)}` : localDateLabel(content.localDate),
    ...(content.scopeLabel ? [escapeHtml(content.scopeLabel)] : []),
    ...(content.catchUp ? ['补发'] : []),
    ...(content.round > 1 ? [`第 ${content.round} 轮`] : []),
  ];
  const lines = [`<b>📰 每日摘要：${topic}</b>`, `<i>${meta.join(' · ')}</i>`];
  if (content.roundStarted) lines.push('', `<i>“${topic}”的相关段落上一轮已经全部发过，从今天起从最相关的开始第 ${content.round} 轮。</i>`);
  if (content.items.length === 0) {
    lines.push('', `收录的文件里暂时没有关于“${topic}”的段落。`);
    return lines.join('\n');
  }
  for (const item of content.items) lines.push('', itemHtml(item));
  if (content.preview) lines.push('', `<i>这是预览，不计入每日推送。订阅：/subscribe ${topic}</i>`);
  else if (content.roundEnded) lines.push('', `<i>“${topic}”的 ${content.poolSize} 段相关内容本轮已全部发完；明天起开始新一轮。</i>`);
  return lines.join('\n');
}

export type DigestRef = { kind: 'delivery' | 'preview'; id: number };

/** Digest buttons carry the ledger (or preview) row and the item number: `dg:d:12:3`. */
export function encodeItemButton(ref: DigestRef, n: number): string {
  return `dg:${ref.kind === 'delivery' ? 'd' : 'p'}:${ref.id}:${n}`;
}

export function decodeItemButton(data: string): (DigestRef & { n: number }) | undefined {
  const m = /^dg:([dp]):(\d+):(\d+)$/.exec(data);
  return m ? { kind: m[1] === 'd' ? 'delivery' : 'preview', id: Number(m[2]), n: Number(m[3]) } : undefined;
}

export function digestKeyboard(ref: DigestRef, items: readonly DigestItem[]): InlineKeyboard | undefined {
  if (items.length === 0) return undefined;
  const kb = new InlineKeyboard();
  items.forEach((item, i) => {
    if (i > 0 && i % 5 === 0) kb.row();
    kb.text(`原文${item.n}`, encodeItemButton(ref, item.n));
  });
  return kb;
}

/** What an item's button shows: the whole passage with the cited span in bold (as an answer's source). */
export function digestItemHtml(item: DigestItem): string {
  const source: SourceExcerpt = {
    n: item.n,
    chunkId: item.chunkId,
    file: item.file,
    title: item.title,
    district: item.district,
    section: item.section,
    excerpt: item.excerpt,
    quote: item.quote,
  };
  return sourceHtml(source);
}

/** Telegram's refusal in the digest's terms (403 and a vanished chat end delivery there; 429 carries retry_after). */
export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof GrammyError) {
    const what = `telegram ${err.error_code}: ${err.description}`;
    if (err.error_code === 403 || (err.error_code === 400 && /chat not found|PEER_ID_INVALID|CHAT_WRITE_FORBIDDEN|not enough rights to send|have no rights to send/i.test(err.description)))
      return new DeliveryError('gone', what, { cause: err });
    if (err.error_code === 429) return new DeliveryError('rate-limited', what, { cause: err, retryAfterMs: (err.parameters.retry_after ?? 1) * 1000 });
    return new DeliveryError('failed', what, { cause: err });
  }
  if (err instanceof HttpError) return new DeliveryError('failed', `network: ${err.message}`, { cause: err });
  return new DeliveryError('failed', err instanceof Error ? err.message : String(err), { cause: err });
}

/** The figures of a digest's chart as text, for when the chart cannot be drawn. */
function figuresText(content: DigestContent): string {
  const rows = content.items.flatMap((i) => (i.indicator ? [`[${i.n}] ${i.indicator.name}${i.indicator.unit ? `（${i.indicator.unit}）` : ''}：${i.indicator.values.map((v) => `${v.column.replace(/年?$/, '年')} ${v.value}`).join('，')}`] : []));
  return `📊 今日指标\n${rows.join('\n')}`;
}

/**
 * The chart a digest leads with: uploaded once, then sent by file_id to every other
 * subscriber (ChartRenderer.publishOnce); the figures as text if it cannot be drawn, so
 * the digest's parts stay the same on every attempt.
 */
async function sendDigestChart(api: Api, chatId: number, spec: ChartSpec, content: DigestContent, charts: ChartRenderer): Promise<number> {
  let chart;
  try {
    chart = await charts.render(spec);
  } catch (err) {
    if (!(err instanceof ChartError)) throw err;
    return (await api.sendMessage(chatId, figuresText(content), { link_preview_options: { is_disabled: true } })).message_id;
  }
  const caption = `<b>📊 今日指标 · ${escapeHtml(content.topic)}</b>`;
  for (let attempt = 0; ; attempt++) {
    let uploaded: number | undefined;
    const fileId = await charts.publishOnce(chart.key, async () => {
      const sent = await api.sendPhoto(chatId, new InputFile(chart.png, `chart-${chart.key}.png`), { caption, parse_mode: 'HTML' });
      uploaded = sent.message_id;
      return sent.photo?.at(-1)?.file_id;
    });
    if (uploaded !== undefined) return uploaded;
    try {
      return (await api.sendPhoto(chatId, fileId!, { caption, parse_mode: 'HTML' })).message_id;
    } catch (err) {
      // Telegram forgot the file: upload it again (once).
      if (!staleFileId(err) || attempt > 0) throw err;
      charts.setPublishedId(chart.key, undefined);
    }
  }
}

export interface OutgoingDigestMessage {
  chatId: number;
  deliveryId: number;
  content: DigestContent;
  partsSent: number;
}

/**
 * The digest's `send`: renders, splits, and sends the parts not yet accepted (buttons on
 * the last), reporting each accepted part; Telegram's errors become DeliveryError. A
 * part Telegram cannot parse is sent as plain text, so the parts stay the same. When the
 * items carry indicator figures, part 0 is their chart (decided by the stored content
 * alone, so a resumed delivery counts parts as the first attempt did).
 */
export function createDigestSender(api: Api, charts: ChartRenderer = new ChartRenderer()): (digest: OutgoingDigestMessage, onPartSent: (part: number, messageId: number) => Promise<void>) => Promise<void> {
  return async (digest, onPartSent) => {
    const spec = digestChartSpec(digest.content);
    const lead = spec ? 1 : 0;
    if (spec && digest.partsSent === 0) {
      let messageId: number;
      try {
        messageId = await sendDigestChart(api, digest.chatId, spec, digest.content, charts);
      } catch (err) {
        throw toDeliveryError(err);
      }
      await onPartSent(0, messageId);
    }
    const parts = splitHtml(digestHtml(digest.content));
    const keyboard = digestKeyboard({ kind: 'delivery', id: digest.deliveryId }, digest.content.items);
    for (let i = Math.max(0, digest.partsSent - lead); i < parts.length; i++) {
      const markup = i === parts.length - 1 && keyboard ? { reply_markup: keyboard } : {};
      const options = { link_preview_options: { is_disabled: true }, ...markup };
      let messageId: number;
      try {
        try {
          messageId = (await api.sendMessage(digest.chatId, parts[i]!, { parse_mode: 'HTML', ...options })).message_id;
        } catch (err) {
          if (!badEntities(err)) throw err;
          messageId = (await api.sendMessage(digest.chatId, htmlToText(parts[i]!), options)).message_id;
        }
      } catch (err) {
        throw toDeliveryError(err);
      }
      await onPartSent(i + lead, messageId);
    }
  };
}
