import path from 'node:path';
import { LlmAnswerWriter } from '../src/answer/llm-writer.ts';
import type { ComposeInput } from '../src/answer/question-answerer.ts';
import { QuestionAnswerer } from '../src/answer/question-answerer.ts';
import { parseConfig } from '../src/config.ts';
import { buildIndex } from '../src/index/build-index.ts';
import { loadPlanIndex } from '../src/index/plan-index.ts';
import { percentiles } from './bench-stats.ts';
import { benchTempDir } from './bench-temp.ts';

/**
 * The LLM pipeline's own overhead, without the model's time: building the prompt,
 * parsing the reply and verifying its citations ("pipeline"), and the whole compose()
 * through the real openai SDK with a fetch that answers in-process at once ("compose",
 * streamed and not). The reply is what a careful model would write: sentences of the
 * retrieved passages, copied and cited. Target: pipeline p50 ≤ 5 ms.
 */

const QUESTIONS = [
  '武清区2025年森林覆盖率目标是多少？',
  '武清区十四五期间要建设哪些医院？',
  '武清2018年计划新增就业多少人？',
  '武清2023年固定资产投资打算增长多少？',
  '河北区十四五期间要建设哪些产业园区？',
  '河北区PM2.5浓度下降了多少？',
  '津南区会展经济有哪些重点项目？',
  '津南区养老服务设施有多少家？',
  '津南区十四五要新增多少学位？',
  '河北区老旧小区改造有什么计划？',
];
const ROUNDS = 30;
const TARGET_P50_MS = 5;

/** A reply built from the passages in the request: one sentence of each of the first two, cited. */
export function modelReply(body: { messages: Array<{ role: string; content: string }> }): string {
  const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
  const claims: Array<{ n: number; quote: string }> = [];
  for (const m of user.matchAll(/<passage n="(\d+)">\n[\s\S]*?原文：\n([\s\S]*?)\n<\/passage>/g)) {
    if (claims.length >= 2) break;
    const sentences = m[2]!
      .split(/(?<=[。；])|\n/)
      .map((s) => s.trim().replace(/[。；]$/, ''))
      .filter((s) => s.length >= 8);
    const s = sentences.find((x) => /\d/.test(x)) ?? sentences[0];
    if (s) claims.push({ n: Number(m[1]), quote: s });
  }
  const answer = claims.map((c) => `${c.quote}[${c.n}]。`).join('');
  return JSON.stringify({ answer, citations: claims, found: claims.length > 0 });
}

/** An OpenAI-compatible chat endpoint in-process: answers at once, as JSON or as SSE. */
const instantFetch: typeof fetch = async (_url, init) => {
  const body = JSON.parse(String(init?.body)) as { model: string; stream?: boolean; messages: Array<{ role: string; content: string }> };
  const content = modelReply(body);
  const base = { id: 'chatcmpl-bench', created: 0, model: body.model };
  if (!body.stream) {
    const completion = { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }] };
    return new Response(JSON.stringify(completion), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  const pieces = content.match(/[\s\S]{1,16}/g) ?? [];
  const chunk = (delta: Record<string, string>, finishReason: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] });
  const events = [...pieces.map((p, i) => chunk(i === 0 ? { role: 'assistant', content: p } : { content: p }, null)), chunk({}, 'stop')];
  const sse = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
  return new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } });
};

export async function benchLlmPipeline(): Promise<Record<string, unknown>> {
  const temp = benchTempDir('bench-llm-');
  const stateDir = temp.path;
  try {
    const config = parseConfig({ STATE_DIR: stateDir, CORPUS_DIR: process.env.CORPUS_DIR ?? 'data/corpus', LOG_LEVEL: 'silent' });
    await buildIndex(config);
    const qa = new QuestionAnswerer(await loadPlanIndex(config.index, config.llm));
    const writer = new LlmAnswerWriter(
      { baseURL: 'http://127.0.0.1:9/v1', chatModel: 'bench-model', timeoutMs: 10_000, maxRetries: 0, streamIdleMs: 10_000, deadlineMs: 60_000, maxTokens: 2_000 },
      { fetch: instantFetch },
    );

    const inputs: ComposeInput[] = [];
    for (const q of QUESTIONS) {
      const retrieval = await qa.retrieve(q);
      if (retrieval.passages.length > 0) inputs.push({ question: q, standalone: q, history: [], retrieval, extractive: qa.extractive.compose(q, retrieval) });
    }
    const replies = inputs.map((input) => modelReply({ messages: writer.stages(input.standalone, input).messages }));

    // Warm-up (JIT, the SDK's lazy imports), then measure.
    for (const input of inputs) await writer.compose(input);

    const pipeline: number[] = [];
    const build: number[] = [];
    const parseVerify: number[] = [];
    let promptChars = 0;
    let citations = 0;
    for (let r = 0; r < ROUNDS; r++) {
      inputs.forEach((input, i) => {
        const t0 = performance.now();
        const stages = writer.stages(input.standalone, input);
        const t1 = performance.now();
        const { verified } = stages.finish({ content: replies[i]!, finishReason: 'stop' });
        const t2 = performance.now();
        build.push(t1 - t0);
        parseVerify.push(t2 - t1);
        pipeline.push(t2 - t0);
        if (r === 0) {
          promptChars += stages.messages.reduce((n, m) => n + m.content.length, 0);
          citations += verified.citations.length;
        }
      });
    }

    const compose: number[] = [];
    const streamed: number[] = [];
    let llmAnswers = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const input of inputs) {
        let t0 = performance.now();
        const a = await writer.compose(input);
        compose.push(performance.now() - t0);
        if (r === 0 && a.mode === 'llm') llmAnswers++;
        t0 = performance.now();
        await writer.compose({ ...input, onPartial: () => {} });
        streamed.push(performance.now() - t0);
      }
    }

    const pipelineMs = percentiles(pipeline);
    return {
      questions: inputs.length,
      runs: pipeline.length,
      llmAnswers,
      citationsPerRound: citations,
      avgPromptChars: Math.round(promptChars / Math.max(1, inputs.length)),
      pipelineMs,
      buildPromptMs: percentiles(build),
      parseAndVerifyMs: percentiles(parseVerify),
      composeViaSdkMs: percentiles(compose),
      streamedComposeViaSdkMs: percentiles(streamed),
      targetP50Ms: TARGET_P50_MS,
      meetsTarget: pipelineMs.p50 <= TARGET_P50_MS,
    };
  } finally {
    temp.remove();
  }
}
