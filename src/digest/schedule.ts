/**
 * Wall-clock times in an IANA time zone (DIGEST_TZ) as instants, with Intl only. A
 * subscription's slot on a local date is that date at its HH:MM in its zone; the ledger
 * is keyed on that local date. Daylight-saving gaps move a slot forward by the gap
 * (02:30 on a spring-forward night is sent at 03:30); in an overlap the slot is the
 * first instant that shows the time.
 */

/** "YYYY-MM-DD". */
export type LocalDate = string;

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "7:30", "07:30", "7：30" → "07:30"; undefined for anything else (24:00, 7:5, 0730). */
export function parseTime(text: string): string | undefined {
  const m = /^(\d{1,2})[:：](\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const t = `${m[1]!.padStart(2, '0')}:${m[2]}`;
  return TIME.test(t) ? t : undefined;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at `instant`, in ms (Asia/Shanghai: +8 h). */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000;
}

/** The local date at `instant`. */
export function localDateOf(instant: number, timeZone: string): LocalDate {
  const w = wallClock(instant, timeZone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** The date `days` after `date`. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The instant the zone's clocks show `time` on `date`. */
export function slotOn(date: LocalDate, time: string, timeZone: string): number {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  // Two rounds of "wall minus the offset there" settle on the instant, unless the wall
  // time falls in a gap (the offsets disagree): then it is shifted forward by the gap.
  const o1 = offsetAt(wall, timeZone);
  const o2 = offsetAt(wall - o1, timeZone);
  if (o1 === o2) return earliest(wall - o1, wall, timeZone);
  const o3 = offsetAt(wall - o2, timeZone);
  if (o2 === o3) return earliest(wall - o2, wall, timeZone);
  return wall - Math.min(o2, o3);
}

/** In a fall-back overlap a wall time happens twice: the earlier instant. */
function earliest(instant: number, wall: number, timeZone: string): number {
  for (const shift of [3_600_000, 1_800_000]) {
    const before = instant - shift;
    if (before + offsetAt(before, timeZone) === wall) return before;
  }
  return instant;
}

/** A slot: the instant to send, and the local date whose digest it is. */
export interface Slot {
  at: number;
  date: LocalDate;
}

/** The first slot strictly after `instant`. */
export function nextSlotAfter(instant: number, time: string, timeZone: string): Slot {
  const today = localDateOf(instant, timeZone);
  for (let days = -1; days < 3; days++) {
    const date = addDays(today, days);
    const at = slotOn(date, time, timeZone);
    if (at > instant) return { at, date };
  }
  throw new Error(`schedule: no slot after ${new Date(instant).toISOString()} for ${time} in ${timeZone}`);
}

/** The last slot at or before `instant` (the one a late or catching-up digest is for). */
export function latestSlotAtOrBefore(instant: number, time: string, timeZone: string): Slot {
  const today = localDateOf(instant, timeZone);
  for (let days = 1; days > -3; days--) {
    const date = addDays(today, days);
    const at = slotOn(date, time, timeZone);
    if (at <= instant) return { at, date };
  }
  throw new Error(`schedule: no slot before ${new Date(instant).toISOString()} for ${time} in ${timeZone}`);
}

/** The first slot after `instant` whose day is not `taken` (already has its digest). */
export function nextFreeSlot(sub: { sendTime: string; timeZone: string }, instant: number, taken: (date: LocalDate) => boolean): Slot {
  let slot = nextSlotAfter(instant, sub.sendTime, sub.timeZone);
  while (taken(slot.date)) slot = nextSlotAfter(slot.at, sub.sendTime, sub.timeZone);
  return slot;
}
