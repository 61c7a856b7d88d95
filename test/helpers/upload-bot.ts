import type { Bot } from 'grammy';
import { QuestionAnswerer } from '../../src/answer/question-answerer.ts';
import type { BotContext } from '../../src/bot/context.ts';
import { createBot } from '../../src/bot/create-bot.ts';
import type { Config } from '../../src/config.ts';
import { buildIndex } from '../../src/index/build-index.ts';
import { loadPlanIndex } from '../../src/index/plan-index.ts';
import { DocumentLibrary } from '../../src/ingest/document-library.ts';
import { silentLogger } from '../../src/logger.ts';
import { BotStore } from '../../src/store/bot-store.ts';
import type { Database } from '../../src/store/database.ts';
import type { BotApiEmulator } from './bot-api-emulator.ts';

/**
 * A bot wired as main.ts wires it for uploads: a document library on the config's corpus
 * and state folders, and a reindex that builds incrementally and swaps the answerer.
 */
export async function createUploadBot(emulator: BotApiEmulator, config: Config, db: Database, adminUserIds: number[]): Promise<{ bot: Bot<BotContext>; answerer: () => QuestionAnswerer }> {
  let answerer = new QuestionAnswerer(await loadPlanIndex(config.index, config.llm));
  const bot = createBot(emulator.token, {
    telegram: { port: 0, allowedChatIds: [], adminUserIds, rateLimitPerMinute: 100, messagesPerSecond: 30, maxQuestionChars: 500, shutdownDrainMs: 10_000, apiRoot: emulator.apiRoot },
    log: silentLogger(),
    store: new BotStore(db),
    answerer: () => answerer,
    library: new DocumentLibrary(config.index.corpusDir, config.index.stateDir, config.index.chunking),
    reindex: async ({ rebuild }) => {
      const r = await buildIndex(config, { rebuild });
      answerer = new QuestionAnswerer(await loadPlanIndex(config.index, config.llm));
      return r;
    },
  });
  return { bot, answerer: () => answerer };
}
