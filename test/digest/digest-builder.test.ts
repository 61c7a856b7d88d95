import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmAnswerWriter } from '../../src/answer/llm-writer.ts';
import { splitSentences } from '../../src/retrieve/sentences.ts';
import { DigestBuilder } from '../../src/digest/digest-builder.ts';
import { silentLogger } from '../../src/logger.ts';
import { openDatabase, type Database } from '../../src/store/database.ts';
import { DigestStore, type Subscription } from '../../src/store/digest-store.ts';
import { llmConfig } from '../answer/llm-harness.ts';
import { OpenAiTestServer, type ChatRequest } from '../helpers/openai-server.ts';
import { buildTestIndex, type TestIndex } from '../helpers/test-index.ts';

/** What goes into a digest: the topic's pool, suggestions from the corpus, summaries (offline and by a model) with verbatim citations. */

let t: TestIndex;
let server: OpenAiTestServer;
let db: Database;
let store: DigestStore;

beforeAll(async () => {
  t = await buildTestIndex();
  server = await OpenAiTestServer.start();
  db = await openDatabase(':memory:');
  store = new DigestStore(db);
});
afterAll(async () => {
  await db.close();
  await server.close();
  t.cleanup();
});

const sub = (topic: string, id = 1): Subscription => ({ id, chatId: 1, topic, sendTime: '08:00', timeZone: 'Asia/Shanghai', status: 'active', round: 1, createdAt: 0 });
const day = { localDate: '2026-01-06', catchUp: false, now: Date.parse('2026-01-06T00:00:00Z') };

function chunkOf(chunkId: string) {
  return [...t.index.chunks].find((c) => c.id === chunkId)!;
}

describe('topics', () => {
  it('keeps only passages that cover the topic, within a district or document', async () => {
    const builder = new DigestBuilder({ index: () => t.index, store });
    const topics = builder.topics();
    const all = await topics.pool('养老');
    expect(all.length).toBeGreaterThan(10);
    for (const p of all) expect(`${p.chunk.section.join(' ')}${p.chunk.text}`).toMatch(/养老|老年|老人/); // synonyms count
    const jinnan = await topics.pool('养老', { kind: 'district', value: '津南区', label: '津南区' });
    expect(jinnan.length).toBeGreaterThan(0);
    expect(jinnan.every((p) => p.chunk.doc.district === '津南区')).toBe(true);
    // Naming the district in the topic works the same way.
    expect((await topics.pool('津南区养老')).map((p) => p.chunk.id)).toEqual(jinnan.map((p) => p.chunk.id));
    expect(await topics.pool('火星探测')).toEqual([]);
    expect(await topics.pool('怎么样')).toEqual([]); // only question words
  });

  it('suggests topics from the headings that have passages, like the one asked for first', async () => {
    const topics = new DigestBuilder({ index: () => t.index, store }).topics();
    const general = await topics.suggest('', 8);
    expect(general).toHaveLength(8);
    expect(general).toContain('乡村振兴');
    for (const s of general) expect((await topics.pool(s)).length).toBeGreaterThanOrEqual(3);
    // No district names, numbering or boilerplate verbs.
    for (const s of topics.headingTopics().map((c) => c.topic)) expect(s).not.toMatch(/武清|津南|河北|^第|^推进|^加快/);
    expect((await topics.suggest('生态保护', 3))[0]).toMatch(/生态/);
  });
});

describe('items', () => {
  it('offline: the leading sentence as summary, a verbatim span as the cited excerpt', async () => {
    const builder = new DigestBuilder({ index: () => t.index, store });
    const { content } = await builder.choose(sub('生态环境'), day);
    expect(content.items).toHaveLength(3);
    for (const item of content.items) {
      const chunk = chunkOf(item.chunkId);
      expect(item.mode).toBe('extractive');
      const lead = splitSentences(chunk.text)[0]!.text;
      expect(lead.startsWith(item.summary.replace(/…$/, ''))).toBe(true);
      const quoted = item.excerpt.slice(item.quote[0], item.quote[1]);
      expect(quoted.length).toBeGreaterThan(5);
      expect(chunk.kind === 'table-row' ? chunk.quote : chunk.text).toContain(quoted);
    }
  });

  it('with a model: its one-line summary when the citation verifies, else the offline one; cached per passage', async () => {
    let fabricate = false;
    server.setDefaultChat({
      kind: 'dynamic',
      handler: (req: ChatRequest) => {
        const prompt = req.messages.at(-1)!.content;
        const chunk = [...t.index.chunks].find((c) => c.kind === 'text' && prompt.includes(c.text.slice(0, 40)))!;
        const quote = fabricate ? '全面建成火星基地和月球养老院。' : splitSentences(chunk.text).at(-1)!.text;
        return { kind: 'json', content: JSON.stringify({ answer: `这段提出了具体举措。[1]`, citations: [{ n: 1, quote }], found: true }) };
      },
    });
    const summarizer = new LlmAnswerWriter(llmConfig(server), { log: silentLogger() });
    const builder = new DigestBuilder({ index: () => t.index, store, summarizer });
    const { content } = await builder.choose(sub('养老'), day);
    const requests = server.requests.length;
    expect(content.items.map((i) => [i.mode, i.summary])).toEqual(content.items.map(() => ['llm', '这段提出了具体举措。']));
    for (const item of content.items) {
      const chunk = chunkOf(item.chunkId);
      const quoted = item.excerpt.slice(item.quote[0], item.quote[1]);
      expect(quoted.length).toBeGreaterThan(10);
      expect(splitSentences(chunk.text).at(-1)!.text).toContain(quoted); // the verified quote, verbatim
    }
    // Another subscription to the topic: same passages, no new requests.
    await builder.choose(sub('养老', 2), day);
    expect(server.requests.length).toBe(requests);

    fabricate = true;
    const other = await builder.choose(sub('教育', 3), day);
    expect(other.content.items.every((i) => i.mode === 'extractive')).toBe(true);
    server.setDefaultChat(undefined);
  });
});
