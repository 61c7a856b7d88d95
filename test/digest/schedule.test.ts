import { describe, expect, it } from 'vitest';
import { addDays, latestSlotAtOrBefore, localDateOf, nextFreeSlot, nextSlotAfter, parseTime, slotOn } from '../../src/digest/schedule.ts';

const iso = (t: number) => new Date(t).toISOString();

describe('times in a time zone', () => {
  it('reads HH:MM leniently and refuses what is not a time', () => {
    expect(parseTime('7:30')).toBe('07:30');
    expect(parseTime('07：30')).toBe('07:30');
    expect(parseTime('23:59')).toBe('23:59');
    for (const bad of ['24:00', '7:5', '0730', '7点', '12:60', '', 'ab:cd']) expect(parseTime(bad)).toBeUndefined();
  });

  it('puts a slot on its local date, across the date line of UTC', () => {
    expect(iso(slotOn('2026-01-05', '08:00', 'Asia/Shanghai'))).toBe('2026-01-05T00:00:00.000Z');
    // 07:59 in Shanghai is still the previous UTC day; 00:00 too.
    expect(iso(slotOn('2026-01-05', '00:00', 'Asia/Shanghai'))).toBe('2026-01-04T16:00:00.000Z');
    expect(localDateOf(Date.parse('2026-01-04T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-01-05');
    expect(localDateOf(Date.parse('2026-01-04T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-01-04');
    expect(iso(slotOn('2026-01-05', '23:59', 'Asia/Shanghai'))).toBe('2026-01-05T15:59:00.000Z');
    expect(iso(slotOn('2026-01-05', '00:00', 'Asia/Kolkata'))).toBe('2026-01-04T18:30:00.000Z');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
  });

  it('handles daylight saving: a gap moves the slot forward, an overlap takes the first instant', () => {
    expect(iso(slotOn('2026-03-29', '02:30', 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(slotOn('2026-03-29', '08:00', 'Europe/Berlin'))).toBe('2026-03-29T06:00:00.000Z');
    expect(iso(slotOn('2026-03-28', '08:00', 'Europe/Berlin'))).toBe('2026-03-28T07:00:00.000Z');
    expect(iso(slotOn('2026-10-25', '02:30', 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z'); // the CEST one
    expect(iso(slotOn('2026-03-08', '02:30', 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(slotOn('2026-11-01', '01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    // Consecutive slots across the change are 23 and 25 hours apart; each date has exactly one.
    const spring = nextSlotAfter(Date.parse('2026-03-28T07:00:00Z'), '08:00', 'Europe/Berlin');
    expect(spring).toEqual({ at: Date.parse('2026-03-29T06:00:00Z'), date: '2026-03-29' });
  });

  it('finds the next slot and the latest missed one', () => {
    const t = Date.parse('2026-01-05T00:00:00Z'); // 08:00 in Shanghai
    expect(nextSlotAfter(t, '08:00', 'Asia/Shanghai')).toEqual({ at: Date.parse('2026-01-06T00:00:00Z'), date: '2026-01-06' });
    expect(latestSlotAtOrBefore(t, '08:00', 'Asia/Shanghai')).toEqual({ at: t, date: '2026-01-05' });
    expect(latestSlotAtOrBefore(t - 1, '08:00', 'Asia/Shanghai').date).toBe('2026-01-04');
    expect(nextSlotAfter(t - 1, '08:00', 'Asia/Shanghai').date).toBe('2026-01-05');
    // A day that already has its digest is skipped.
    expect(nextFreeSlot({ sendTime: '20:00', timeZone: 'Asia/Shanghai' }, t, (d) => d === '2026-01-05').date).toBe('2026-01-06');
  });
});
