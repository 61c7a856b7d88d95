import { GrammyError, HttpError, type Api } from 'grammy';
import { InputError, UpstreamError } from '../errors.ts';

/**
 * Downloading a file a user sent: getFile, then the Bot API's file URL. The URL holds
 * the bot token, so it never reaches a message, a log line or an error. The Bot API hands
 * bots files up to 20 MB; the download is capped in size and time.
 */

export const BOT_DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024;
const DEFAULT_API_ROOT = 'https://api.telegram.org';

export async function downloadTelegramFile(
  api: Api,
  fileId: string,
  options: { apiRoot?: string; maxBytes?: number; timeoutMs?: number } = {},
): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? BOT_DOWNLOAD_LIMIT_BYTES;
  let filePath: string | undefined;
  try {
    filePath = (await api.getFile(fileId)).file_path;
  } catch (err) {
    if (err instanceof GrammyError && /too big/i.test(err.description)) throw new InputError(`telegram-file: the file is larger than the ${maxBytes / 1024 / 1024} MB bots may download`);
    if (err instanceof GrammyError || err instanceof HttpError) throw new UpstreamError(`telegram-file: getFile failed (${err instanceof GrammyError ? err.description : 'network error'})`, { cause: err });
    throw err;
  }
  if (!filePath) throw new UpstreamError('telegram-file: Telegram gave no path for the file');
  const url = `${options.apiRoot ?? DEFAULT_API_ROOT}/file/bot${api.token}/${filePath}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) });
  } catch (err) {
    throw new UpstreamError(`telegram-file: download failed (${(err as Error).name === 'TimeoutError' ? 'timed out' : 'network error'})`);
  }
  if (!response.ok || !response.body) throw new UpstreamError(`telegram-file: download failed (HTTP ${response.status})`, { status: response.status });
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) throw new InputError(`telegram-file: the file is larger than the ${maxBytes / 1024 / 1024} MB bots may download`);
    parts.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(parts);
}
