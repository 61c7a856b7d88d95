// A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.
// The real `openai` SDK is pointed at `baseURL`; each chat request consumes one script.
import { createServer, type IncomingMessage, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type ChatScript =
  | { kind: 'json'; content: string; finishReason?: string; delayMs?: number }
  | { kind: 'stream'; chunks: string[]; delayMs?: number; stallAfter?: number; stallMs?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'raw'; status?: number; contentType?: string; body: string }
  | { kind: 'refusal'; refusal: string }
  | { kind: 'dynamic'; handler: (req: ChatRequest) => ChatScript | Promise<ChatScript> };

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  stream: boolean;
  response_format?: unknown;
  temperature?: number;
  raw: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface EmbeddingRequest {
  input: string[];
  model: string;
  encoding_format?: string;
  dimensions?: number;
}

export const TEST_MODEL_ID = 'test-model';
const DEFAULT_DIMENSIONS = 64;
let completionCount = 0;

export class OpenAiTestServer {
  readonly baseURL: string;
  readonly requests: ChatRequest[] = [];
  readonly embeddingRequests: EmbeddingRequest[] = [];
  /** `failNext` is consumed by the next /v1/embeddings request; only 'status', 'hang' and 'raw' apply. */
  embeddings: { dimensions: number; failNext?: ChatScript } = { dimensions: DEFAULT_DIMENSIONS };

  private readonly queue: ChatScript[] = [];
  private defaultChat: ChatScript | undefined;
  private readonly sockets = new Set<Socket>();
  private responseCount = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly apiKey: string | undefined,
  ) {
    const { port } = server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${port}/v1`;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // The one boundary: a failing dynamic handler or a client that vanished mid-body.
        if (!res.headersSent && !res.destroyed) {
          sendError(res, 500, `openai-test-server: ${err instanceof Error ? err.message : String(err)}`, 'server_error', { 'x-should-retry': 'false' });
        } else {
          res.destroy();
        }
      });
    });
  }

  static async start(options: { apiKey?: string } = {}): Promise<OpenAiTestServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OpenAiTestServer(server, options.apiKey);
  }

  enqueueChat(...scripts: ChatScript[]): void {
    this.queue.push(...scripts);
  }

  setDefaultChat(script: ChatScript | undefined): void {
    this.defaultChat = script;
  }

  /** Open TCP connections, including idle keep-alive ones. */
  openConnections(): number {
    return this.sockets.size;
  }

  /** Stops listening and destroys every connection, hanging and stalled ones included. Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all([
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      ...[...this.sockets].map((socket) => new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      })),
    ]).then(() => undefined);
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-request-id', `req_test_${++this.responseCount}`);
    // Aborted when the response finishes or the connection goes away (client abort, server close).
    const gone = new AbortController();
    res.once('close', () => gone.abort());

    if (this.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', {}, 'invalid_api_key');
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    const route = `${req.method ?? 'GET'} ${path}`;
    if (route === 'GET /v1/models') {
      return sendJson(res, 200, { object: 'list', data: [modelObject()] });
    }
    if (route === `GET /v1/models/${TEST_MODEL_ID}`) return sendJson(res, 200, modelObject());
    if (route === 'POST /v1/chat/completions') return this.handleChat(req, res, gone.signal);
    if (route === 'POST /v1/embeddings') return this.handleEmbeddings(req, res, gone.signal);
    return sendError(res, 404, `Unknown request URL: ${route}`, 'invalid_request_error', {}, 'unknown_url');
  }

  private async handleChat(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = await readJsonObject(req);
    if (typeof body === 'string') return sendError(res, 400, body, 'invalid_request_error');
    const chat = toChatRequest(body, req.headers);
    if (typeof chat === 'string') return sendError(res, 400, chat, 'invalid_request_error');
    this.requests.push(chat);
    const script = this.queue.shift() ?? this.defaultChat;
    if (script === undefined) {
      const message = `openai-test-server: no script for chat request #${this.requests.length}`;
      return sendError(res, 500, message, 'server_error', { 'x-should-retry': 'false' });
    }
    return playChat(script, chat, res, signal);
  }

  private async handleEmbeddings(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = await readJsonObject(req);
    if (typeof body === 'string') return sendError(res, 400, body, 'invalid_request_error');
    const { input, model, encoding_format: encodingFormat, dimensions } = body;
    const inputs = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string' && s.length > 0)) {
      return sendError(res, 400, "'$.input' is invalid: expected a non-empty string or array of non-empty strings", 'invalid_request_error');
    }
    if (typeof model !== 'string') return sendError(res, 400, "'$.model' is required", 'invalid_request_error');
    if (encodingFormat !== undefined && encodingFormat !== 'float' && encodingFormat !== 'base64') {
      return sendError(res, 400, `'$.encoding_format' must be 'float' or 'base64', got ${JSON.stringify(encodingFormat)}`, 'invalid_request_error');
    }
    if (dimensions !== undefined && !(Number.isInteger(dimensions) && (dimensions as number) > 0)) {
      return sendError(res, 400, `'$.dimensions' must be a positive integer, got ${JSON.stringify(dimensions)}`, 'invalid_request_error');
    }
    this.embeddingRequests.push({
      input: inputs,
      model,
      ...(encodingFormat === undefined ? {} : { encoding_format: encodingFormat }),
      ...(dimensions === undefined ? {} : { dimensions: dimensions as number }),
    });

    const failure = this.embeddings.failNext;
    if (failure !== undefined) {
      this.embeddings.failNext = undefined;
      if (failure.kind === 'status' || failure.kind === 'hang' || failure.kind === 'raw') return playChat(failure, undefined, res, signal);
      return sendError(res, 500, `openai-test-server: failNext kind '${failure.kind}' does not apply to embeddings`, 'server_error', { 'x-should-retry': 'false' });
    }

    const size = (dimensions as number | undefined) ?? this.embeddings.dimensions;
    const data = inputs.map((text, index) => {
      const vector = testEmbedding(text, size);
      return { object: 'embedding', index, embedding: encodingFormat === 'base64' ? float32Base64(vector) : vector };
    });
    const promptTokens = inputs.reduce((sum, text) => sum + approxTokens(text), 0);
    return sendJson(res, 200, { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
  }
}

/**
 * The server's deterministic embedding: hashed character unigrams and bigrams (after NFKC and
 * lower-casing), L2-normalized, every component exactly representable as float32 so the 'float'
 * and 'base64' encodings decode to identical numbers.
 */
export function testEmbedding(text: string, dimensions: number): number[] {
  const chars = [...text.normalize('NFKC').toLowerCase()];
  const sums = new Float64Array(dimensions);
  const add = (gram: string): void => {
    const hash = fnv1a(gram);
    sums[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
  };
  chars.forEach((char, i) => {
    add(char);
    if (i + 1 < chars.length) add(char + chars[i + 1]);
  });
  const norm = Math.hypot(...sums);
  if (norm === 0) sums[0] = 1;
  return Array.from(sums, (x) => Math.fround(norm === 0 ? x : x / norm));
}

async function playChat(script: ChatScript, chat: ChatRequest | undefined, res: ServerResponse, signal: AbortSignal): Promise<void> {
  switch (script.kind) {
    case 'json':
      if (!(await pause(script.delayMs ?? 0, signal))) return;
      return sendJson(res, 200, completion(chat, { role: 'assistant', content: script.content, refusal: null }, script.finishReason ?? 'stop'));
    case 'refusal':
      return sendJson(res, 200, completion(chat, { role: 'assistant', content: null, refusal: script.refusal }, 'stop'));
    case 'status':
      return sendJson(res, script.status, script.body ?? errorBody(script.status, `openai-test-server: scripted status ${script.status}`), script.headers);
    case 'raw':
      res.writeHead(script.status ?? 200, { 'content-type': script.contentType ?? 'application/json' });
      res.end(script.body);
      return;
    case 'hang':
      return; // the connection stays open until the client aborts or the server closes
    case 'dynamic':
      if (chat === undefined) throw new Error("a 'dynamic' script needs a chat request");
      return playChat(await script.handler(chat), chat, res, signal);
    case 'stream':
      return playStream(script, chat, res, signal);
  }
}

async function playStream(
  script: Extract<ChatScript, { kind: 'stream' }>,
  chat: ChatRequest | undefined,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders(); // the SDK's `timeout` only covers the wait for headers
  const id = `chatcmpl-test-${++completionCount}`;
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = isRecord(chat?.raw.stream_options) && chat.raw.stream_options.include_usage === true;
  const send = (choices: unknown[], usage?: unknown): void => {
    const chunk = { id, object: 'chat.completion.chunk', created, model: chat?.model ?? TEST_MODEL_ID, system_fingerprint: null, choices };
    res.write(`data: ${JSON.stringify(includeUsage ? { ...chunk, usage: usage ?? null } : chunk)}\n\n`);
  };
  for (let i = 0; i <= script.chunks.length; i++) {
    if (i === script.stallAfter && !(await pause(script.stallMs, signal))) return;
    if (!(await pause(script.delayMs ?? 0, signal))) return;
    const piece = script.chunks[i];
    if (piece !== undefined) {
      const delta = i === 0 ? { role: 'assistant', content: piece } : { content: piece };
      send([{ index: 0, delta, logprobs: null, finish_reason: null }]);
    } else {
      send([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    }
  }
  if (includeUsage) send([], usage(chat, script.chunks.join('')));
  res.end('data: [DONE]\n\n');
}

/** Waits `ms` (undefined: until aborted). Resolves false if `signal` aborted first. */
async function pause(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms === undefined) {
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return false;
  }
  if (ms <= 0) return true;
  return delay(ms, true, { signal }).catch(() => false);
}

function completion(chat: ChatRequest | undefined, message: Record<string, unknown>, finishReason: string): Record<string, unknown> {
  return {
    id: `chatcmpl-test-${++completionCount}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: chat?.model ?? TEST_MODEL_ID,
    system_fingerprint: null,
    choices: [{ index: 0, message: { ...message, annotations: [] }, logprobs: null, finish_reason: finishReason }],
    usage: usage(chat, String(message.content ?? message.refusal ?? '')),
  };
}

function usage(chat: ChatRequest | undefined, output: string): Record<string, number> {
  const prompt = (chat?.messages ?? []).reduce((sum, m) => sum + approxTokens(m.content), 0);
  const completionTokens = approxTokens(output);
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

/** A rough count, enough for usage fields: about one token per 3 code points. */
function approxTokens(text: string): number {
  return Math.ceil([...text].length / 3);
}

function toChatRequest(body: Record<string, unknown>, headers: IncomingHttpHeaders): ChatRequest | string {
  const { model, messages, stream, response_format: responseFormat, temperature } = body;
  if (typeof model !== 'string') return "'$.model' is required";
  if (!Array.isArray(messages) || messages.length === 0) return "'$.messages' must be a non-empty array";
  const normalized: ChatRequest['messages'] = [];
  for (const message of messages) {
    if (!isRecord(message) || typeof message.role !== 'string') return "'$.messages' entries need a string 'role'";
    normalized.push({ role: message.role, content: textOf(message.content) });
  }
  return {
    model,
    messages: normalized,
    stream: stream === true,
    ...(responseFormat === undefined ? {} : { response_format: responseFormat }),
    ...(typeof temperature === 'number' ? { temperature } : {}),
    raw: body,
    headers: { ...headers },
  };
}

/** Message content is a string, null, or an array of parts; the text parts are joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  try {
    const value: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'));
    return isRecord(value) ? value : 'The request body must be a JSON object.';
  } catch {
    return 'We could not parse the JSON body of your request.';
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, headers: Record<string, string> = {}, code: string | null = null): void {
  sendJson(res, status, errorBody(status, message, type, code), headers);
}

function errorBody(status: number, message: string, type = status >= 500 ? 'server_error' : 'invalid_request_error', code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

function modelObject(): Record<string, unknown> {
  return { id: TEST_MODEL_ID, object: 'model', created: 1_700_000_000, owned_by: 'openai-test-server' };
}

function float32Base64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
