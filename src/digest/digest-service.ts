import type { DigestConfig } from '../config.ts';
import type { DigestStore, Subscription } from '../store/digest-store.ts';
import type { DigestContent, DigestItem, DigestScope } from './digest-content.ts';
import type { DigestBuilder } from './digest-builder.ts';
import { localDateOf, nextFreeSlot, parseTime } from './schedule.ts';

/**
 * What chats do with digests — subscribe, list, pause, resume, change the time,
 * unsubscribe, preview, open an item — with the rules in one place: topics are trimmed
 * and at most `maxTopicChars`, must match passages in the corpus (else suggestions of
 * topics that do), one subscription per topic and scope, at most `maxSubscriptionsPerChat`
 * per chat. main.ts hands it to the bot, whose digest commands only word the outcomes.
 */

export const MAX_TOPIC_CHARS = 20;

export type TopicProblem =
  | { ok: false; reason: 'empty-topic' }
  | { ok: false; reason: 'topic-too-long'; chars: number; max: number }
  | { ok: false; reason: 'no-match'; suggestions: string[] };

export type SubscribeOutcome =
  | { ok: true; subscription: Subscription; passages: number }
  | TopicProblem
  | { ok: false; reason: 'bad-time' }
  | { ok: false; reason: 'duplicate'; existing: Subscription }
  | { ok: false; reason: 'limit'; count: number; max: number };

export type PreviewOutcome = { ok: true; id: number; content: DigestContent } | TopicProblem;

export interface DigestSettings {
  timeZone: string;
  defaultTime: string;
  maxSubscriptionsPerChat: number;
  maxTopicChars: number;
}

export class DigestService {
  readonly settings: DigestSettings;
  private readonly now: () => number;

  constructor(
    private readonly deps: { store: DigestStore; builder: DigestBuilder; config: DigestConfig; now?: () => number },
  ) {
    this.settings = { ...deps.config, maxTopicChars: MAX_TOPIC_CHARS };
    this.now = deps.now ?? Date.now;
  }

  /** Topics the corpus has (in scope), like `near` when given. */
  suggestions(count: number, near = '', scope?: DigestScope): Promise<string[]> {
    return this.deps.builder.topics().suggest(near, count, scope);
  }

  async subscribe(input: { chatId: number; userId?: number; topic: string; time?: string; scope?: DigestScope }): Promise<SubscribeOutcome> {
    const checked = await this.checkTopic(input.topic, input.scope);
    if (!checked.ok) return checked;
    const time = input.time === undefined ? this.settings.defaultTime : parseTime(input.time);
    if (!time) return { ok: false, reason: 'bad-time' };
    const timeZone = this.settings.timeZone;
    const nextRunAt = nextFreeSlot({ sendTime: time, timeZone }, this.now(), () => false).at;
    const added = await this.deps.store.addSubscription(
      { chatId: input.chatId, topic: checked.topic, ...(input.scope ? { scope: input.scope } : {}), sendTime: time, timeZone, nextRunAt, ...(input.userId !== undefined ? { createdBy: input.userId } : {}) },
      this.settings.maxSubscriptionsPerChat,
    );
    if (!added.ok) return added.reason === 'limit' ? { ...added, max: this.settings.maxSubscriptionsPerChat } : added;
    return { ok: true, subscription: added.subscription, passages: checked.passages };
  }

  list(chatId: number): Promise<Subscription[]> {
    return this.deps.store.subscriptions(chatId);
  }

  /** A chat's subscription (undefined for another chat's or a removed one). */
  async get(chatId: number, id: number): Promise<Subscription | undefined> {
    const sub = await this.deps.store.subscription(id);
    return sub?.chatId === chatId ? sub : undefined;
  }

  async pause(chatId: number, id: number): Promise<Subscription | undefined> {
    if (!(await this.get(chatId, id))) return undefined;
    await this.deps.store.schedule(id, { status: 'paused' });
    return this.get(chatId, id);
  }

  /** Resumes a paused or stopped subscription from its next free slot (no catch-up for the days it was off), in DIGEST_TZ. */
  async resume(chatId: number, id: number): Promise<Subscription | undefined> {
    const sub = await this.get(chatId, id);
    if (!sub) return undefined;
    const timeZone = this.settings.timeZone;
    await this.deps.store.schedule(id, { status: 'active', timeZone, nextRunAt: await this.nextRun({ ...sub, timeZone }, sub.sendTime) });
    return this.get(chatId, id);
  }

  /** A new local time (undefined when the time is malformed or the subscription is not this chat's). Stays paused if paused. */
  async setTime(chatId: number, id: number, time: string): Promise<Subscription | undefined> {
    const sub = await this.get(chatId, id);
    const t = parseTime(time);
    if (!sub || !t) return undefined;
    const status = sub.status === 'paused' ? 'paused' : 'active';
    const timeZone = this.settings.timeZone;
    await this.deps.store.schedule(id, { status, sendTime: t, timeZone, nextRunAt: await this.nextRun({ ...sub, timeZone }, t) });
    return this.get(chatId, id);
  }

  async unsubscribe(chatId: number, id: number): Promise<boolean> {
    return (await this.get(chatId, id)) !== undefined && (await this.deps.store.removeSubscription(id));
  }

  unsubscribeAll(chatId: number): Promise<number> {
    return this.deps.store.removeAll(chatId);
  }

  /** /digest: a digest on the topic now, not counted as any subscription's. */
  async preview(chatId: number, topic: string, scope?: DigestScope): Promise<PreviewOutcome> {
    const checked = await this.checkTopic(topic, scope);
    if (!checked.ok) return checked;
    const now = this.now();
    const content = await this.deps.builder.preview(checked.topic, scope, { localDate: localDateOf(now, this.settings.timeZone), now });
    return { ok: true, id: await this.deps.store.savePreview(chatId, content, now), content };
  }

  /** An item of a digest or preview sent to this chat (what its button opens). */
  async item(chatId: number, ref: { kind: 'delivery' | 'preview'; id: number; n: number }): Promise<DigestItem | undefined> {
    const found = ref.kind === 'delivery' ? await this.deps.store.delivery(ref.id) : await this.deps.store.preview(ref.id);
    if (!found || found.chatId !== chatId) return undefined;
    return found.content.items.find((i) => i.n === ref.n);
  }

  /** DIGEST_TZ changed: subscriptions made under another zone keep their HH:MM in the new one. Returns how many moved. */
  async adoptTimeZone(): Promise<number> {
    const timeZone = this.settings.timeZone;
    const moved = await this.deps.store.inOtherTimeZone(timeZone);
    for (const sub of moved) {
      if (sub.status === 'stopped') continue;
      await this.deps.store.schedule(sub.id, { status: sub.status, timeZone, nextRunAt: await this.nextRun({ ...sub, timeZone }, sub.sendTime) });
    }
    return moved.length;
  }

  private async nextRun(sub: Pick<Subscription, 'id' | 'timeZone'>, time: string): Promise<number> {
    const now = this.now();
    const taken = await this.deps.store.deliveryDates(sub.id, localDateOf(now, sub.timeZone));
    return nextFreeSlot({ sendTime: time, timeZone: sub.timeZone }, now, (date) => taken.has(date)).at;
  }

  private async checkTopic(text: string, scope?: DigestScope): Promise<{ ok: true; topic: string; passages: number } | TopicProblem> {
    const topic = text.replace(/\s+/g, ' ').trim();
    if (!topic) return { ok: false, reason: 'empty-topic' };
    if (topic.length > MAX_TOPIC_CHARS) return { ok: false, reason: 'topic-too-long', chars: topic.length, max: MAX_TOPIC_CHARS };
    const pool = await this.deps.builder.topics().pool(topic, scope);
    if (pool.length === 0) return { ok: false, reason: 'no-match', suggestions: await this.suggestions(6, topic, scope) };
    return { ok: true, topic, passages: pool.length };
  }
}
