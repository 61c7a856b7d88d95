import type { AnswerWriter } from '../answer/question-answerer.ts';
import type { PlanIndex } from '../index/plan-index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { DigestStore, Subscription } from '../store/digest-store.ts';
import type { DigestContent, DigestScope } from './digest-content.ts';
import { ITEM_DEFAULTS, LlmSummaries, digestItem, offlineText, passageKey, type ItemOptions } from './digest-items.ts';
import type { LocalDate } from './schedule.ts';
import { TopicCatalog, type TopicOptions, type TopicPassage } from './topics.ts';

/**
 * What a subscription gets on a day: the topic's relevant passages it has not received
 * in the current round — those from newly ingested documents first, then by relevance —
 * a few at a time. When none are left a new round starts (and the digest says so); the
 * digest that takes the last ones says that too.
 */

export interface ComposeOptions extends ItemOptions {
  itemsPerDigest: number;
  /** A document first seen this recently is "新增文件" and its passages go first. */
  newForDays: number;
  topics?: Partial<TopicOptions>;
}

export const COMPOSE_DEFAULTS: ComposeOptions = { ...ITEM_DEFAULTS, itemsPerDigest: 3, newForDays: 7 };

export interface Choice {
  content: DigestContent;
  passageKeys: string[];
  /** The subscription's round after this digest. */
  round: number;
}

export interface DigestBuilderDeps {
  /** The current index (replaced by /reindex). */
  index: () => PlanIndex;
  store: DigestStore;
  /** The chat model's answer writer, when one is configured: one-line summaries. */
  summarizer?: AnswerWriter;
  log?: Logger;
  options?: Partial<ComposeOptions>;
}

export class DigestBuilder {
  readonly options: ComposeOptions;
  private readonly log: Logger;
  private readonly llm: LlmSummaries | undefined;
  private catalogFor: { index: PlanIndex; catalog: TopicCatalog } | undefined;

  constructor(private readonly deps: DigestBuilderDeps) {
    this.options = { ...COMPOSE_DEFAULTS, ...deps.options };
    this.log = deps.log ?? silentLogger();
    this.llm = deps.summarizer ? new LlmSummaries(deps.summarizer, this.log, this.options) : undefined;
  }

  /** The topic catalog of the current index (rebuilt when the index is replaced). */
  topics(): TopicCatalog {
    const index = this.deps.index();
    if (this.catalogFor?.index !== index) this.catalogFor = { index, catalog: new TopicCatalog(index, this.options.topics) };
    return this.catalogFor.catalog;
  }

  /** Records documents the index has that the digest has not seen; returns the new ones. */
  syncDocuments(now: number): Promise<string[]> {
    return this.deps.store.syncDocuments(this.deps.index().manifest.documents, now);
  }

  /** The day's digest for a subscription (nothing is written). */
  async choose(sub: Subscription, day: { localDate: LocalDate; catchUp: boolean; now: number }): Promise<Choice> {
    const pool = await this.topics().pool(sub.topic, sub.scope);
    const used = await this.deps.store.usedPassages(sub.id, sub.round);
    let round = sub.round;
    let fresh = pool.filter((p) => !used.has(passageKey(p.chunk)));
    const roundStarted = fresh.length === 0 && pool.length > 0 && used.size > 0;
    if (roundStarted) {
      round++;
      fresh = pool;
    }
    const newFiles = await this.newFiles(day.now);
    const picked = this.ordered(fresh, newFiles).slice(0, this.options.itemsPerDigest);
    const content: DigestContent = {
      topic: sub.topic,
      ...(sub.scope ? { scopeLabel: sub.scope.label } : {}),
      localDate: day.localDate,
      round,
      items: await this.items(picked, sub.topic, newFiles),
      poolSize: pool.length,
      roundStarted,
      roundEnded: pool.length > 0 && fresh.length <= picked.length,
      catchUp: day.catchUp,
      preview: false,
    };
    return { content, passageKeys: picked.map((p) => passageKey(p.chunk)), round };
  }

  /** /digest: what a new subscription's first digest would hold (not recorded as received). */
  async preview(topic: string, scope: DigestScope | undefined, day: { localDate: LocalDate; now: number }): Promise<DigestContent> {
    const pool = await this.topics().pool(topic, scope);
    const newFiles = await this.newFiles(day.now);
    const picked = this.ordered(pool, newFiles).slice(0, this.options.itemsPerDigest);
    return {
      topic,
      ...(scope ? { scopeLabel: scope.label } : {}),
      localDate: day.localDate,
      round: 1,
      items: await this.items(picked, topic, newFiles),
      poolSize: pool.length,
      roundStarted: false,
      roundEnded: false,
      catchUp: false,
      preview: true,
    };
  }

  private newFiles(now: number): Promise<Set<string>> {
    return this.deps.store.newDocuments(now - this.options.newForDays * 86_400_000);
  }

  /** Passages of new documents first, each group in the topic's relevance order. */
  private ordered(passages: readonly TopicPassage[], newFiles: ReadonlySet<string>): TopicPassage[] {
    if (newFiles.size === 0) return [...passages];
    return [...passages.filter((p) => newFiles.has(p.chunk.file)), ...passages.filter((p) => !newFiles.has(p.chunk.file))];
  }

  private async items(picked: readonly TopicPassage[], topic: string, newFiles: ReadonlySet<string>): Promise<DigestContent['items']> {
    const weights = this.topics().weights;
    return Promise.all(
      picked.map(async (p, i) => {
        const offline = offlineText(p.chunk, topic, weights, this.options);
        const text = (this.llm && (await this.llm.summarize(p.chunk, topic, offline))) || offline;
        return digestItem({ n: i + 1, chunk: p.chunk, isNew: newFiles.has(p.chunk.file), text });
      }),
    );
  }
}
