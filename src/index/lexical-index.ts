import MiniSearch from 'minisearch';
import { IndexCorruptError } from '../errors.ts';
import { searchTokens } from './tokenize.ts';

/**
 * Owner of MiniSearch: BM25 ranking over jieba search-mode words and CJK character
 * bigrams. Documents are identified by chunk ordinal.
 */

export interface LexicalHit {
  label: number;
  score: number;
}

interface LexicalDoc {
  id: number;
  text: string;
}

// Question words and particles that every passage or no passage has: they only add noise.
const QUERY_STOPWORDS = new Set(
  ['的', '了', '是', '在', '和', '与', '有', '要', '吗', '呢', '啊', '吧', '么', '什么', '多少', '哪些', '哪几个', '几个', '几家', '怎么', '如何', '怎样', '啥', '这块', '那块', '方面', '一下', '打算', '准备', '目标', '是多少', '有哪些', '说的', '主打', '具体', '做法', '分别', '各', '那', '这'].map((s) => s),
);

function queryTokens(query: string): string[] {
  return [...new Set(searchTokens(query).filter((t) => !QUERY_STOPWORDS.has(t)))];
}

const OPTIONS = {
  fields: ['text'],
  storeFields: [] as string[],
  tokenize: (text: string) => searchTokens(text),
  processTerm: (term: string) => term,
  searchOptions: { tokenize: queryTokens, combineWith: 'OR' as const, prefix: false, fuzzy: false, bm25: { k: 1.2, b: 0.75, d: 0.5 } },
};

export class LexicalIndex {
  private constructor(private readonly mini: MiniSearch<LexicalDoc>) {}

  static build(texts: readonly string[]): LexicalIndex {
    const mini = new MiniSearch<LexicalDoc>(OPTIONS);
    mini.addAll(texts.map((text, id) => ({ id, text })));
    return new LexicalIndex(mini);
  }

  static load(json: string, expectedCount: number): LexicalIndex {
    let mini: MiniSearch<LexicalDoc>;
    try {
      mini = MiniSearch.loadJSON<LexicalDoc>(json, OPTIONS);
    } catch (err) {
      throw new IndexCorruptError(`lexical-index: cannot parse: ${(err as Error).message}`, { cause: err });
    }
    if (mini.documentCount !== expectedCount)
      throw new IndexCorruptError(`lexical-index: expected ${expectedCount} documents, found ${mini.documentCount}`);
    return new LexicalIndex(mini);
  }

  toJSON(): string {
    return JSON.stringify(this.mini);
  }

  get size(): number {
    return this.mini.documentCount;
  }

  search(query: string, k: number, filter?: (label: number) => boolean): LexicalHit[] {
    if (queryTokens(query).length === 0) return [];
    const results = this.mini.search(query, filter ? { filter: (r) => filter(r.id as number) } : {});
    return results.slice(0, k).map((r) => ({ label: r.id as number, score: r.score }));
  }
}
