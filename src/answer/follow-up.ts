import { districtForms, withoutDistricts } from '../retrieve/districts.ts';
import { FRAME_PHRASES, isSmallTalk, normalizeQuestion, normalizeYears } from '../retrieve/query-language.ts';
import { analyzeQuery } from '../retrieve/query-analysis.ts';
import type { HistoryTurn } from './answer.ts';

/**
 * Offline rewrite of a follow-up into a standalone question, before retrieval:
 * "那津南区呢？" after "武清区2025年森林覆盖率目标是多少？" becomes
 * "津南区2025年森林覆盖率目标是多少？" (swap the district, keep the topic);
 * "医院这块呢，要新建什么医院？" after a question about 武清区十四五 inherits that scope.
 */

const ELLIPTIC = /^(?:那么?|还有|那要是|如果是|换成)?\s*(.{1,24}?)\s*(?:呢|的呢|怎么样|如何|又如何|情况呢)?[？?。!！\s]*$/;
const PERIOD = /十三五|十四五|十五五/;
const YEAR = /(?<!\d)(?:19|20)\d{2}年?/g;

function scopeWords(question: string, knownDistricts: readonly string[]): { districts: string[]; period?: string; years: string[] } {
  const scope = analyzeQuery(question, knownDistricts);
  const period = question.match(PERIOD)?.[0];
  return { districts: scope.districts, ...(period ? { period } : {}), years: question.match(YEAR) ?? [] };
}

/** Characters that refer back or count ("那建成的有几条") but name no topic. */
const TOPICLESS_CHARS = /[的了是在和与及跟同有把被让给对从向到为以等个几条项家所座名件处次那这呢吗么啊呀吧要想能会得多少]/g;

/** What a question is about: its words without districts, years, periods and question frames. */
function topicOf(question: string, knownDistricts: readonly string[]): string {
  const q = normalizeQuestion(question);
  return withoutDistricts(q, analyzeQuery(q, knownDistricts).districts)
    .replace(/(?<!\d)(?:19|20)\d{2}年?|十三五|十四五|十五五/g, ' ')
    .replace(FRAME_PHRASES, ' ')
    .replace(/^[\s，,]*(?:那么?|还有|另外)/, '')
    .replace(/[\s？?！!。，,、：:；;]+/g, '');
}

function replaceFirst(text: string, targets: readonly string[], replacement: string): string | undefined {
  for (const t of targets) {
    for (const form of districtForms(t)) {
      const i = text.indexOf(form);
      if (i >= 0) return text.slice(0, i) + replacement + text.slice(i + form.length);
    }
  }
  return undefined;
}

export function rewriteFollowUp(question: string, history: readonly HistoryTurn[], knownDistricts: readonly string[] = []): string {
  const q = question.trim();
  // The last real question: a greeting or thanks in between is not what "那津南呢" refers to.
  const last = [...history].reverse().find((t) => t.q.trim().length > 0 && !isSmallTalk(t.q))?.q.trim();
  if (!last) return q;
  // Years as four digits in both, so "那18年呢" finds and swaps the year of "17年".
  const previous = normalizeYears(last);
  const now = scopeWords(normalizeYears(q), knownDistricts);
  const before = scopeWords(previous, knownDistricts);
  // The district the conversation is about may have been named only in an earlier turn.
  const earlierDistricts =
    before.districts.length > 0 ? before.districts : [...history].reverse().map((t) => scopeWords(t.q, knownDistricts).districts).find((d) => d.length > 0) ?? [];

  const elliptic = q.length <= 24 && /呢|怎么样|如何/.test(q) ? q.match(ELLIPTIC)?.[1] : undefined;
  if (elliptic) {
    const asksDistrict = now.districts.length > 0 && elliptic.replace(/天津市?/, '').length <= now.districts[0]!.length + 1;
    if (asksDistrict && before.districts.length > 0) {
      return replaceFirst(previous, before.districts, now.districts[0]!) ?? `${now.districts[0]}${previous}`;
    }
    const asksYear = now.years.length > 0 && elliptic.replace(YEAR, '').length <= 1;
    if (asksYear && before.years.length > 0) return previous.replace(before.years[0]!, now.years[0]!);
  }

  // A question that names its own district starts a new topic.
  if (now.districts.length > 0) return q;
  // "那建成的有几条？" after a question about roads: a follow-up that names no topic of its
  // own is about the previous question's.
  const inherited = topicOf(q, knownDistricts).replace(TOPICLESS_CHARS, '').length <= 3 ? topicOf(previous, knownDistricts) : '';
  const prefix: string[] = [];
  if (earlierDistricts.length > 0) prefix.push(earlierDistricts.join('和'));
  if (!now.period && now.years.length === 0) {
    if (before.period) prefix.push(before.period);
    else if (before.years.length > 0) prefix.push(before.years.join('和'));
  }
  if (inherited) prefix.push(`${inherited}，`);
  return prefix.length > 0 ? `${prefix.join('')}${q}` : q;
}
