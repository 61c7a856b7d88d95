import type { IndexedDocumentMeta } from '../index/index-store.ts';
import type { IndexedChunk, PlanIndex } from '../index/plan-index.ts';
import type { VectorScope } from '../index/vector-search.ts';
import { analyzeQuery, documentsInScope, topicText, type QueryScope } from './query-analysis.ts';
import { SEARCH_STOPWORDS, sentenceTense } from './query-language.ts';
import { speaksOfYears, TermWeights } from './relevance.ts';
import { joinLeadPhrases, splitSentences } from './sentences.ts';

/**
 * question → ranked, scope-filtered, de-duplicated passages. BM25 and vector rankings are
 * fused by reciprocal rank. A question that compares districts or years ("河北区和津南区
 * 各降了多少", "2018年和2023年分别") is split into one facet per district or year so each
 * side gets its own passages.
 */

export interface Passage {
  chunk: IndexedChunk;
  /** Fused score (higher is better); comparable within one result list only. */
  score: number;
  lexicalRank?: number;
  vectorRank?: number;
  /** The facet (district or year) this passage was retrieved for, when the question was split. */
  facet?: string;
}

export interface RetrievalResult {
  passages: Passage[];
  scope: QueryScope;
  documents: IndexedDocumentMeta[];
  /** Set when the question names a district, region or year the corpus does not cover. */
  uncovered?: string;
}

export interface RetrieverOptions {
  /** Candidates taken from the BM25 ranking before fusion. */
  candidates: number;
  /** Candidates taken from the vector ranking before fusion. */
  vectorCandidates: number;
  /** Reciprocal-rank-fusion constant. */
  rrfK: number;
  /** Relative weight of the vector ranking in fusion (lexical has 1). */
  vectorWeight: number;
  /** How many fused candidates are re-ranked by how well their best sentence covers the question. */
  rerankDepth: number;
  /** Weights of fused rank, best-sentence coverage and whole-passage coverage in re-ranking. */
  rerankWeights: [number, number, number];
}

const DEFAULTS: RetrieverOptions = { candidates: 60, vectorCandidates: 30, rrfK: 20, vectorWeight: 0.8, rerankDepth: 20, rerankWeights: [1, 1, 0.5] };

function overlapRatio(a: IndexedChunk, b: IndexedChunk): number {
  if (a.file !== b.file) return 0;
  const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start);
  if (overlap <= 0) return 0;
  return overlap / Math.min(a.end - a.start, b.end - b.start);
}

/** Years a section heading is explicitly about ("一、2017年工作回顾" → 2017). */
function sectionYears(section: readonly string[]): number[] {
  const years: number[] = [];
  for (const heading of section) for (const m of heading.matchAll(/(?<!\d)(20\d{2})年/g)) years.push(Number(m[1]));
  return years;
}

export class HybridRetriever {
  private readonly options: RetrieverOptions;
  readonly weights: TermWeights;
  /** Per section path (ChunkTable.sectionId): the years its headings name. */
  private readonly sectionYears: number[][];
  private readonly scopeCache = new Map<string, VectorScope>();

  constructor(
    private readonly index: PlanIndex,
    options: Partial<RetrieverOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.weights = new TermWeights(index);
    this.sectionYears = index.chunks.sections.map(sectionYears);
  }

  get planIndex(): PlanIndex {
    return this.index;
  }

  async retrieve(question: string, k = 5): Promise<RetrievalResult> {
    const scope = analyzeQuery(question, this.index.documents.map((d) => d.district));
    const { documents, uncovered } = documentsInScope(scope, this.index.documents);
    if (uncovered !== undefined || documents.length === 0) return { passages: [], scope, documents, ...(uncovered ? { uncovered } : {}) };

    const facets = this.facets(scope, documents);
    if (facets.length <= 1) return { passages: await this.rank(question, documents, k, scope.explicitYears), scope, documents };

    // One ranking per facet, interleaved so each side of a comparison is near the top.
    const lists = await Promise.all(
      facets.map(async (f) => (await this.rank(question, f.documents, k, f.years ?? scope.explicitYears)).map((p) => ({ ...p, facet: f.name }))),
    );
    const merged: Passage[] = [];
    for (let i = 0; merged.length < k && lists.some((l) => i < l.length); i++) {
      for (const list of lists) {
        const p = list[i];
        if (p && merged.length < k && !merged.some((m) => m.chunk.ordinal === p.chunk.ordinal)) merged.push(p);
      }
    }
    return { passages: merged, scope, documents };
  }

  private facets(scope: QueryScope, documents: IndexedDocumentMeta[]): Array<{ name: string; documents: IndexedDocumentMeta[]; years?: number[] }> {
    if (scope.districts.length >= 2) {
      return scope.districts.map((d) => ({ name: d, documents: documents.filter((doc) => doc.district === d) })).filter((f) => f.documents.length > 0);
    }
    const explicitYears = scope.explicitYears;
    if (explicitYears.length >= 2 && explicitYears.length <= 4) {
      const facets = explicitYears.map((y) => {
        // Prefer the documents that are *about* that year (a report of that year) over a plan spanning it.
        const own = documents.filter((d) => d.year === y || (d.kind !== '五年规划' && d.years.includes(y)));
        return { name: `${y}年`, years: [y], documents: own.length > 0 ? own : documents.filter((d) => d.years.includes(y)) };
      });
      const distinct = new Set(facets.map((f) => f.documents.map((d) => d.file).join(',')));
      if (distinct.size > 1) return facets.filter((f) => f.documents.length > 0);
    }
    return [{ name: '', documents }];
  }

  /**
   * Fused ranking within a set of documents. When the question names years, passages in a
   * section about other years are left out: a report's "2022年…执行情况" does not
   * answer a question about its "2023年…目标任务".
   */
  async rank(question: string, documents: readonly IndexedDocumentMeta[], k: number, years: readonly number[] = []): Promise<Passage[]> {
    const scope = this.scopeFlags(documents, years);
    const n = this.options.candidates;
    const topic = topicText(question, analyzeQuery(question, this.index.documents.map((d) => d.district)), this.weights.questionTerms(question));
    // The vector search is started first: a database backend answers while BM25 runs here.
    const vectorSearch = this.index.vector.search(await this.index.embedder.embedQuery(topic), this.options.vectorCandidates, scope);
    const lexical = this.index.lexical.search(topic, n, scope?.flags, SEARCH_STOPWORDS);
    const vector = await vectorSearch;

    const fused = new Map<number, Passage>();
    const add = (label: number, rank: number, weight: number, which: 'lexicalRank' | 'vectorRank') => {
      const chunk = this.index.chunks.at(label);
      const p = fused.get(label) ?? { chunk, score: 0 };
      p.score += weight / (this.options.rrfK + rank + 1);
      p[which] = rank + 1;
      fused.set(label, p);
    };
    lexical.forEach((h, r) => add(h.label, r, 1, 'lexicalRank'));
    vector.forEach((h, r) => add(h.label, r, this.options.vectorWeight, 'vectorRank'));

    const ranked = this.rerank(question, [...fused.values()].sort((a, b) => b.score - a.score), years);
    const kept: Passage[] = [];
    for (const p of ranked) {
      if (kept.some((q) => overlapRatio(q.chunk, p.chunk) > 0.5)) continue;
      kept.push(p);
      if (kept.length >= k) break;
    }
    return kept;
  }

  /**
   * Which chunks a scope allows, as flags (1 = allowed) and their share of the index;
   * undefined when it allows everything. Cached per scope: questions repeat scopes (and a
   * vector backend may cache what it derives from the same flags).
   */
  private scopeFlags(documents: readonly IndexedDocumentMeta[], years: readonly number[]): VectorScope | undefined {
    if (documents.length === this.index.documents.length && years.length === 0) return undefined;
    const key = `${documents.map((d) => d.file).join('|')}#${years.join(',')}`;
    let scope = this.scopeCache.get(key);
    if (!scope) {
      const allowedDocs = new Set(documents.map((d) => d.file));
      const { chunks } = this.index;
      const flags = new Uint8Array(chunks.length);
      let allowed = 0;
      // Read from the chunk table's columns: no chunk is built for this pass over all of them.
      for (let i = 0; i < chunks.length; i++) {
        const named = this.sectionYears[chunks.sectionId(i)]!;
        const ok = allowedDocs.has(chunks.fileOf(i)) && (years.length === 0 || named.length === 0 || named.some((y) => years.includes(y)));
        flags[i] = ok ? 1 : 0;
        if (ok) allowed++;
      }
      scope = { flags, share: allowed / Math.max(1, flags.length) };
      if (this.scopeCache.size >= 64) this.scopeCache.delete(this.scopeCache.keys().next().value!);
      this.scopeCache.set(key, scope);
    }
    return scope;
  }

  /**
   * BM25 and the hashed-n-gram vectors reward passages that repeat the question's words
   * anywhere; the answer is usually one sentence. The top candidates are re-scored by the
   * share of the question their best sentence covers (with its section heading).
   */
  private rerank(question: string, ranked: Passage[], years: readonly number[]): Passage[] {
    const [wRank, wSentence, wPassage] = this.options.rerankWeights;
    const depth = Math.min(this.options.rerankDepth, ranked.length);
    if (depth === 0 || wSentence + wPassage === 0) return ranked;
    const q = this.weights.questionTerms(question);
    const top = ranked[0]!.score;
    const head = ranked.slice(0, depth).map((p) => {
      const sentences = p.chunk.kind === 'table-row' ? [p.chunk.text] : joinLeadPhrases(p.chunk.text, splitSentences(p.chunk.text)).map((u) => u.text);
      let best = 0;
      for (const s of sentences) {
        let score = this.weights.sentenceScore(q, p.chunk.section, s, p.chunk.kind === 'table-row');
        // A sentence about another year (a five-year total, last year's result) is a weaker answer to a question about one year.
        if (years.length > 0 && !speaksOfYears(p.chunk, s, sentenceTense(s, p.chunk.section), years)) score *= 0.8;
        best = Math.max(best, score);
      }
      const passage = this.weights.coverage(q, `${p.chunk.section.join(' ')} ${p.chunk.text}`);
      return { ...p, score: (wRank * p.score) / top + wSentence * best + wPassage * passage };
    });
    head.sort((a, b) => b.score - a.score);
    return [...head, ...ranked.slice(depth)];
  }
}
