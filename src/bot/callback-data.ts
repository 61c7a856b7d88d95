/**
 * What an inline button carries (Telegram allows 64 bytes): a short verb and a database
 * row id or a small number, never the content itself, so buttons on old messages keep
 * working after a restart.
 */

export type ButtonAction =
  | { kind: 'source'; answerId: number; n: number }
  | { kind: 'more'; answerId: number }
  | { kind: 'feedback'; answerId: number; value: 1 | -1 }
  | { kind: 'example'; index: number }
  | { kind: 'targets'; district: string | null; page: number }
  | { kind: 'targets-chart'; district: string }
  | { kind: 'comparison-chart'; answerId: number };

export const CALLBACK_DATA_MAX_BYTES = 64;

export function encodeAction(action: ButtonAction): string {
  let data: string;
  switch (action.kind) {
    case 'source':
      data = `s:${action.answerId}:${action.n}`;
      break;
    case 'more':
      data = `m:${action.answerId}`;
      break;
    case 'feedback':
      data = `f:${action.answerId}:${action.value === 1 ? 'up' : 'down'}`;
      break;
    case 'example':
      data = `x:${action.index}`;
      break;
    case 'targets':
      data = `t:${action.page}:${action.district ?? ''}`;
      break;
    case 'targets-chart':
      data = `tc:${action.district}`;
      break;
    case 'comparison-chart':
      data = `cc:${action.answerId}`;
      break;
  }
  if (Buffer.byteLength(data, 'utf8') > CALLBACK_DATA_MAX_BYTES) throw new Error(`callback-data: "${data}" is longer than ${CALLBACK_DATA_MAX_BYTES} bytes`);
  return data;
}

/** The action a button's data names, or undefined for data this version does not understand. */
export function decodeAction(data: string): ButtonAction | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^s:(\d+):(\d+)$/.exec(data))) return { kind: 'source', answerId: Number(m[1]), n: Number(m[2]) };
  if ((m = /^m:(\d+)$/.exec(data))) return { kind: 'more', answerId: Number(m[1]) };
  if ((m = /^f:(\d+):(up|down)$/.exec(data))) return { kind: 'feedback', answerId: Number(m[1]), value: m[2] === 'up' ? 1 : -1 };
  if ((m = /^x:(\d+)$/.exec(data))) return { kind: 'example', index: Number(m[1]) };
  if ((m = /^t:(\d+):(.*)$/.exec(data))) return { kind: 'targets', page: Number(m[1]), district: m[2] ? m[2] : null };
  if ((m = /^tc:(.+)$/.exec(data))) return { kind: 'targets-chart', district: m[1]! };
  if ((m = /^cc:(\d+)$/.exec(data))) return { kind: 'comparison-chart', answerId: Number(m[1]) };
  return undefined;
}
