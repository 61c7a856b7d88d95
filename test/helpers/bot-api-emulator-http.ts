/**
 * The HTTP edge of the Bot API emulator: reading a request's parameters the
 * way the Bot API server does (query string, JSON, urlencoded or multipart
 * form data — including grammY's compact multipart headers), normalizing the
 * string values of form bodies once, and the error type every method throws.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ApiErrorBody {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** How a call ends: the `result`, or the error body. */
export type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

/** A Bot API failure; the emulator answers `{ ok: false, ...body }` with HTTP status `error_code`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly body: ApiErrorBody) {
    super(body.description);
  }

  static badRequest(detail: string): ApiError {
    return new ApiError({ error_code: 400, description: `Bad Request: ${detail}` });
  }

  static forbidden(detail: string): ApiError {
    return new ApiError({ error_code: 403, description: `Forbidden: ${detail}` });
  }
}

/** An uploaded file as it arrived in a multipart body. */
export interface UploadedFile {
  filename: string;
  size: number;
  /** The bytes, so methods can check what was sent (a photo's format and size, a document). */
  content: Buffer;
}

export type Params = Record<string, unknown>;

const MAX_BODY_BYTES = 60 * 1024 * 1024;

const INTEGER_FIELDS = new Set([
  'chat_id', 'from_chat_id', 'message_id', 'message_thread_id', 'reply_to_message_id', 'user_id',
  'offset', 'limit', 'timeout', 'cache_time', 'max_connections',
]);
const BOOLEAN_FIELDS = new Set([
  'disable_notification', 'protect_content', 'allow_sending_without_reply', 'disable_web_page_preview',
  'show_alert', 'drop_pending_updates', 'is_personal', 'allow_paid_broadcast',
]);
const JSON_FIELDS = new Set([
  'reply_markup', 'entities', 'caption_entities', 'reply_parameters', 'link_preview_options',
  'allowed_updates', 'commands', 'scope', 'results', 'button', 'media',
]);

export async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  const params: Params = Object.fromEntries(url.searchParams);
  const body = await readBody(req);
  const contentType = req.headers['content-type'] ?? '';
  if (body.length > 0) {
    if (contentType.startsWith('application/json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw ApiError.badRequest("can't parse JSON encoded request");
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw ApiError.badRequest('JSON object expected as request body');
      }
      Object.assign(params, parsed);
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    } else if (contentType.startsWith('multipart/form-data')) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
      const value = boundary?.[1] ?? boundary?.[2];
      if (value === undefined) throw ApiError.badRequest('multipart boundary is missing');
      Object.assign(params, parseMultipart(body, value.trim()));
    }
  }
  return normalizeParams(params);
}

/** Form bodies carry only strings: turn numbers, booleans and JSON fields into values, as the server does. */
function normalizeParams(params: Params): Params {
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    if (INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) params[key] = Number(value);
    else if (BOOLEAN_FIELDS.has(key)) params[key] = value === 'true' || value === '1';
    else if (JSON_FIELDS.has(key)) {
      try {
        params[key] = JSON.parse(value);
      } catch {
        throw ApiError.badRequest(`can't parse ${key.replaceAll('_', ' ')} JSON object`);
      }
    }
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiError({ error_code: 413, description: 'Request Entity Too Large' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A small multipart/form-data reader. grammY writes part headers without the
 * usual spaces (`content-disposition:form-data;name="x"`) and file names
 * unquoted, so headers are matched leniently. Files become {@link UploadedFile}s,
 * and `attach://<id>` references to them are resolved.
 */
function parseMultipart(body: Buffer, boundary: string): Params {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Params = {};
  const files = new Map<string, UploadedFile>();
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    let partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break;
    if (body.subarray(partStart, partStart + 2).toString() === '\r\n') partStart += 2;
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    let partEnd = next;
    if (body.subarray(partEnd - 2, partEnd).toString() === '\r\n') partEnd -= 2;
    const part = body.subarray(partStart, partEnd);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const content = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
      if (name !== undefined) {
        if (filename !== undefined) files.set(name, { filename, size: content.length, content: Buffer.from(content) });
        else fields[name] = content.toString('utf8');
      }
    }
    start = next;
  }
  for (const [key, value] of Object.entries(fields)) {
    const file = typeof value === 'string' && value.startsWith('attach://') ? files.get(value.slice(9)) : undefined;
    if (file !== undefined) fields[key] = file;
  }
  for (const [name, file] of files) {
    if (!Object.values(fields).includes(file)) fields[name] = file;
  }
  return fields;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, closeConnection: boolean): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

// ---- typed access to parameters, with the Bot API's complaints --------------------------------

export function optionalString(params: Params, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw ApiError.badRequest(`field "${key}" must be of type String`);
  return value;
}

export function optionalInteger(params: Params, key: string): number | undefined {
  const value = params[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw ApiError.badRequest(`field "${key}" must be of type Integer`);
}

export function requireInteger(params: Params, key: string, missing: string): number {
  const value = optionalInteger(params, key);
  if (value === undefined) throw ApiError.badRequest(missing);
  return value;
}
