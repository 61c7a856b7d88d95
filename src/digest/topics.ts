import type { IndexedDocumentMeta } from '../index/index-store.ts';
import type { IndexedChunk, PlanIndex } from '../index/plan-index.ts';
import { foldForMatch, words } from '../index/tokenize.ts';
import { HybridRetriever } from '../retrieve/hybrid-retriever.ts';
import { districtForms } from '../retrieve/districts.ts';
import { analyzeQuery, documentsInScope } from '../retrieve/query-analysis.ts';
import type { TermWeights } from '../retrieve/relevance.ts';
import type { DigestScope } from './digest-content.ts';

/**
 * What a topic means in the corpus: its pool of relevant passages (retrieved with the
 * question pipeline, then kept only when they cover the topic's words), and topics the
 * corpus does have, derived from its section headings, to suggest when a topic matches
 * nothing. One catalog per loaded index.
 */

export interface TopicOptions {
  /** Candidates each ranking contributes; the pool is at most this large. */
  poolMax: number;
  /** Share of the topic's (IDF-weighted) words a passage must contain to count as on topic. */
  minCoverage: number;
  /** Passages a suggested topic must have. */
  minSuggestionPool: number;
  /** Pools kept in memory (topic × scope). */
  cacheSize: number;
}

export const TOPIC_DEFAULTS: TopicOptions = { poolMax: 300, minCoverage: 0.75, minSuggestionPool: 3, cacheSize: 500 };

export interface TopicPassage {
  chunk: IndexedChunk;
  /** 0-based position in the topic's ranking (most relevant first). */
  rank: number;
}

/**
 * Words plan headings use for everything ("推进", "体系", "高质量"): they name no topic.
 * Not a list of topics — topics come from the headings; this only keeps the
 * boilerplate out of the suggestions.
 */
const GENERIC = new Set(
  (
    '专题 聚焦 重点 任务 主要 目标 时期 进一步 基本 人民 全力 助力 努力 激发 巩固 提升 打造 推进 实施 加快 强化 规划 建设 发展 全面 持续 深入 深化 ' +
    '坚持 不断 着力 大力 积极 完善 健全 加强 提高 增强 促进 推动 构建 形成 优化 落实 保障 实现 开展 创新 高质量 高水平 现代化 体系 水平 能力 机制 ' +
    '工作 行动 战略 格局 基础 功能 品质 质量 效益 领域 方面 一批 全区 城区 区域 十三 十四 十三五 十四五 二〇三五年 远景 纲要 回顾 成就 展望 ' +
    '总体 要求 指导思想 原则 主要指标 引领 支撑 服务 升级 改善 改革 融合 融入 统筹 协调 活力 动能 新动能 高标准 实力 平台 示范 品牌 营造 塑造 ' +
    '经济社会 经济社会发展 基本建成 践行 转化 优良 高效 有效 新型 更加 显著 稳步 全方位 多元 一体化 一流 取得 明显 大幅 形势 环境 面临 机遇 挑战 ' +
    '发展基础 发展环境 主要目标 规划实施 重点任务 组织 实施保障 附表 附件 结语 服务水平 社会发展 指标 步伐 开放 培育 引育 品质 能级 龙头 增长极'
  ).split(' '),
);
/** Leading or trailing characters that make a fragment, not a topic ("以绿为", "和改善", "激发各类"). */
const EDGE = /^[和与及以为把对从向在将各其之并的]|[和与及以为的各其之等新]$/;
const HEADING_NUMBER = /^(?:第[一二三四五六七八九十百零〇\d]+[章节篇部分]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、])\s*/;
const VERB_LEAD = /^(?:开展|办好|推进|实施|打造|加快|建设|构建|全面|深入|强化|提升|促进|推动|坚持|优化|完善|健全|加强|提高|增强|积极|大力|着力|持续|不断|全力|努力|聚焦|实现|落实|激发|巩固)/;

function scopeKey(scope?: DigestScope): string {
  return scope ? `${scope.kind}:${scope.value}` : '';
}

export class TopicCatalog {
  readonly weights: TermWeights;
  private readonly retriever: HybridRetriever;
  private readonly options: TopicOptions;
  private readonly pools = new Map<string, Promise<TopicPassage[]>>();
  private candidates: Array<{ topic: string; score: number }> | undefined;
  private readonly districts: string[];

  constructor(
    readonly index: PlanIndex,
    options: Partial<TopicOptions> = {},
  ) {
    this.options = { ...TOPIC_DEFAULTS, ...options };
    this.retriever = new HybridRetriever(index, { candidates: this.options.poolMax });
    this.weights = this.retriever.weights;
    this.districts = [...new Set(index.documents.map((d) => d.district))];
  }

  /** The documents a topic may draw from: the scope the topic names itself ("津南区养老"), within the subscription's scope. */
  documentsFor(topic: string, scope?: DigestScope): IndexedDocumentMeta[] {
    const named = documentsInScope(analyzeQuery(topic, this.districts), this.index.documents).documents;
    if (!scope) return named;
    return named.filter((d) => (scope.kind === 'district' ? d.district === scope.value : d.file === scope.value));
  }

  /** The topic's relevant passages in scope, most relevant first (cached). */
  pool(topic: string, scope?: DigestScope): Promise<TopicPassage[]> {
    const key = `${foldForMatch(topic)}\u0000${scopeKey(scope)}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = this.computePool(topic, scope);
      if (this.pools.size >= this.options.cacheSize) this.pools.delete(this.pools.keys().next().value!);
      this.pools.set(key, pool);
    } else {
      // Most recently used last, so the oldest is evicted first.
      this.pools.delete(key);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async computePool(topic: string, scope?: DigestScope): Promise<TopicPassage[]> {
    const documents = this.documentsFor(topic, scope);
    const terms = this.weights.questionTerms(topic);
    if (documents.length === 0 || terms.total === 0) return [];
    const ranked = await this.retriever.rank(topic, documents, this.options.poolMax);
    const out: TopicPassage[] = [];
    for (const p of ranked) {
      if (this.weights.coverage(terms, `${p.chunk.section.join(' ')} ${p.chunk.text}`) < this.options.minCoverage) continue;
      out.push({ chunk: p.chunk, rank: out.length });
    }
    return out;
  }

  /**
   * Topics the corpus has that are like `topic` (sharing characters), else the most
   * prominent ones; each has at least `minSuggestionPool` passages in scope.
   */
  async suggest(topic: string, count: number, scope?: DigestScope): Promise<string[]> {
    const folded = foldForMatch(topic);
    const pairs = (s: string) => new Set(Array.from({ length: Math.max(0, s.length - 1) }, (_, i) => s.slice(i, i + 2)));
    const wantedChars = new Set(folded);
    const wantedPairs = pairs(folded);
    // Shared characters, and shared character pairs counted twice, over both lengths.
    const similarity = (t: string) => {
      const chars = [...new Set(t)].filter((ch) => wantedChars.has(ch)).length;
      const shared = [...pairs(t)].filter((p) => wantedPairs.has(p)).length;
      return (chars + 2 * shared) / (t.length + folded.length);
    };
    const ranked = this.headingTopics()
      .map((c, i) => ({ ...c, order: i, similar: similarity(c.topic) }))
      .sort((a, b) => b.similar - a.similar || a.order - b.order);
    const out: string[] = [];
    for (const c of ranked.slice(0, count * 8)) {
      if (out.length >= count) break;
      if (c.topic === topic) continue;
      if ((await this.pool(c.topic, scope)).length >= this.options.minSuggestionPool) out.push(c.topic);
    }
    return out;
  }

  /**
   * Candidate topics from the section headings: their words and pairs of adjacent words
   * (乡村振兴, 营商环境), without numbering, districts and boilerplate, scored by how many
   * headings use them and how much of their text sits under those headings.
   */
  headingTopics(): Array<{ topic: string; score: number }> {
    if (this.candidates) return this.candidates;
    const headingUses = new Map<string, number>();
    const seen = new Set<string>();
    const add = (w: string) => headingUses.set(w, (headingUses.get(w) ?? 0) + 1);
    const usable = (w: string) => /^[\u3400-\u9fff]{2,6}$/.test(w) && !GENERIC.has(w) && !EDGE.test(w);
    for (const section of this.index.chunks.sections) {
      for (const heading of section) {
        if (seen.has(heading)) continue;
        seen.add(heading);
        for (const part of heading.replace(HEADING_NUMBER, '').split(/[，,、；;：:“”"‘’（）()\s·—]+/)) {
          const ws = words(part);
          ws.forEach((w, i) => {
            if (usable(w)) add(w);
            const pair = w + (ws[i + 1] ?? '');
            if (i + 1 < ws.length && usable(pair) && !VERB_LEAD.test(pair) && (usable(w) || usable(ws[i + 1]!))) add(pair);
          });
        }
      }
    }
    const shortDistricts = this.districts.flatMap(districtForms);
    const all = [...this.index.chunks];
    const headings = all.map((c) => foldForMatch(c.section.at(-1) ?? ''));
    const texts = all.map((c) => foldForMatch(c.text));
    const scored: Array<{ topic: string; score: number; chunks: Set<number> }> = [];
    // The most used candidates only: each costs a pass over the corpus.
    const byUse = [...headingUses].filter(([topic]) => !shortDistricts.some((d) => topic.includes(d))).sort((a, b) => b[1] - a[1]).slice(0, 400);
    for (const [topic, uses] of byUse) {
      const chunks = new Set<number>();
      const files = new Set<string>();
      let underHeading = 0;
      headings.forEach((h, i) => {
        const inHeading = h.includes(topic);
        if (inHeading || texts[i]!.includes(topic)) {
          chunks.add(i);
          files.add(all[i]!.file);
        }
        if (inHeading) underHeading++;
      });
      if (chunks.size < this.options.minSuggestionPool || chunks.size > texts.length * 0.15) continue;
      // Topics several documents speak of are what people follow across districts.
      scored.push({ topic, chunks, score: uses * (underHeading / chunks.size) * Math.log(1 + chunks.size) * Math.sqrt(files.size) });
    }
    scored.sort((a, b) => b.score - a.score);
    // A longer topic that covers most of a shorter one's passages stands for it (乡村 → 乡村振兴);
    // topics whose passages are mostly another's are dropped.
    const chosen: typeof scored = [];
    for (const s of scored) {
      const longer = scored.find((o) => o.topic.length > s.topic.length && o.topic.includes(s.topic) && o.chunks.size >= 0.6 * s.chunks.size);
      const pick = longer ?? s;
      const overlaps = chosen.some((c) => c.topic.includes(pick.topic) || pick.topic.includes(c.topic) || shared(c.chunks, pick.chunks) > 0.7 * Math.min(c.chunks.size, pick.chunks.size));
      if (!overlaps) chosen.push(pick);
      if (chosen.length >= 60) break;
    }
    this.candidates = chosen.map((c) => ({ topic: c.topic, score: Math.round(c.score * 100) / 100 }));
    return this.candidates;
  }
}

function shared(a: Set<number>, b: Set<number>): number {
  let n = 0;
  for (const x of a) if (b.has(x)) n++;
  return n;
}
