import type { Passage } from '../retrieve/hybrid-retriever.ts';

/** One numbered excerpt an answer relies on; `quote` is verbatim document text. */
export interface Citation {
  n: number;
  file: string;
  title: string;
  /** Section path, formatted `第五章 … › 第二节 …`. */
  section: string;
  quote: string;
  /** Offsets of the quote in the normalized document. */
  start: number;
  end: number;
}

/**
 * Why an LLM answer fell back to the offline one, for code to act on (`reason` has the
 * details, for people and logs).
 */
export type FallbackCause =
  | 'timeout'
  | 'unreachable'
  | 'rate-limited'
  | 'server-error'
  | 'refused'
  | 'malformed'
  | 'aborted'
  | 'unverified'
  | 'no-answer'
  | 'circuit-open'
  | 'busy'
  | 'shutting-down'
  | 'failed';

export interface Answer {
  found: boolean;
  /** The answer text with [n] markers, or the not-found message. */
  answer: string;
  citations: Citation[];
  mode: 'extractive' | 'llm';
  /** The answer was cut at its length limit (verified sentences were left out). */
  shortened?: boolean;
  /** Why an LLM answer fell back to extractive, when it did: the cause, and in words. */
  fallback?: FallbackCause;
  reason?: string;
  /** The question as retrieval saw it (after follow-up rewriting). */
  standaloneQuestion: string;
  /** The passages retrieved, best first (for "more results" and source buttons). */
  passages: Passage[];
}

export interface HistoryTurn {
  q: string;
  answer?: string;
}
