import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../src/index/build-index.ts';
import { loadPlanIndex, type PlanIndex } from '../../src/index/plan-index.ts';
import { tempDir, testConfig } from '../helpers/test-index.ts';
import { digestRig, type DigestRig } from './helpers.ts';

/**
 * A document ingested while subscriptions run: its passages on the topic come first, and
 * are marked 新增文件. The corpus is copied without one document, indexed, then the
 * document is added and the index rebuilt (incrementally), as `npm run ingest` or
 * /reindex would.
 */

const NEW_FILE = 'jinnan-14th-five-year-plan-2022-update.txt';
const SOURCE = path.resolve('data/corpus');

let dir: string;
let corpus: string;
let current: PlanIndex;
let rig: DigestRig;

function writeManifest(withNew: boolean): void {
  const manifest = JSON.parse(readFileSync(path.join(SOURCE, 'manifest.json'), 'utf8')) as { documents: Array<{ file: string }> };
  manifest.documents = manifest.documents.filter((d) => withNew || d.file !== NEW_FILE);
  writeFileSync(path.join(corpus, 'manifest.json'), JSON.stringify(manifest, null, 2));
  for (const d of manifest.documents) copyFileSync(path.join(SOURCE, d.file), path.join(corpus, d.file));
}

async function reindex(): Promise<void> {
  const config = testConfig(path.join(dir, 'state'), { CORPUS_DIR: corpus });
  await buildIndex(config);
  current = await loadPlanIndex(config.index, config.llm);
}

beforeAll(async () => {
  dir = tempDir('plan-qa-digest-new-');
  corpus = path.join(dir, 'corpus');
  mkdirSync(corpus);
  writeManifest(false);
  await reindex();
  rig = await digestRig({ index: () => current });
});
afterAll(async () => rig?.close());

describe('a new document', () => {
  it('leads the next digest, marked 新增文件, and older passages follow on later days', async () => {
    const sub = await rig.service.subscribe({ chatId: 7, topic: '生态环境', time: '08:00' });
    if (!sub.ok) throw new Error(sub.reason);
    rig.clock.set('2026-01-06T00:00:00Z');
    await rig.scheduler.tick();
    const before = (await rig.store.deliveries(sub.subscription.id))[0]!.content;
    expect(before.items.every((i) => i.file !== NEW_FILE && !i.isNew)).toBe(true);

    writeManifest(true);
    await reindex();
    rig.clock.set('2026-01-07T00:00:00Z');
    await rig.scheduler.tick();
    const after = (await rig.store.deliveries(sub.subscription.id))[1]!.content;
    expect(after.items.map((i) => [i.file, i.isNew])).toEqual(after.items.map(() => [NEW_FILE, true]));
    expect(after.poolSize).toBeGreaterThan(before.poolSize);
    const html = rig.digests(7)[1]!.html;
    expect(html.match(/🆕<b>新增文件<\/b>/g)).toHaveLength(3);

    // Its passages keep their place; nothing sent before comes again.
    rig.clock.set('2026-01-08T00:00:00Z');
    await rig.scheduler.tick();
    const all = (await rig.store.deliveries(sub.subscription.id)).flatMap((d) => d.content.items.map((i) => i.passageKey));
    expect(new Set(all).size).toBe(all.length);
  });
});
