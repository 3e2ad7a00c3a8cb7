import { describe, expect, it } from 'vitest';
import { PAGE_VIEW_ITEM, dayOf, daysCovering, pageViewItem } from '../../app/reports/page-views.js';

const at = (iso: string) => Date.parse(iso);

describe('dayOf', () => {
  it('gives the UTC day of an instant, as YYYY-MM-DD', () => {
    expect(dayOf(at('2026-03-10T00:00:00.000Z'))).toBe('2026-03-10');
    expect(dayOf(at('2026-03-10T23:59:59.999Z'))).toBe('2026-03-10');
    expect(dayOf(at('2026-03-11T00:00:00.000Z'))).toBe('2026-03-11');
    expect(dayOf(0)).toBe('1970-01-01');
  });

  it('gives the UTC day of an instant written with another offset', () => {
    expect(dayOf(at('2026-03-10T23:30:00-05:00'))).toBe('2026-03-11');
  });

  it('rejects a time that is not whole epoch milliseconds', () => {
    expect(() => dayOf(1.5)).toThrow(new RangeError('dayOf(epochMs) must be whole epoch milliseconds 0-9999999999999 (got 1.5)'));
    expect(() => dayOf(-1)).toThrow('dayOf(epochMs) must be whole epoch milliseconds 0-9999999999999 (got -1)');
  });
});

describe('daysCovering', () => {
  it('gives one day for a range inside a day', () => {
    expect(daysCovering(at('2026-03-10T08:00:00Z'), at('2026-03-10T17:00:00Z'))).toEqual(['2026-03-10']);
  });

  it('gives one day for a single instant, also at midnight', () => {
    expect(daysCovering(at('2026-03-10T00:00:00Z'), at('2026-03-10T00:00:00Z'))).toEqual(['2026-03-10']);
  });

  it('gives both days for a range across midnight', () => {
    expect(daysCovering(at('2026-03-10T23:00:00Z'), at('2026-03-11T01:00:00Z'))).toEqual(['2026-03-10', '2026-03-11']);
  });

  it('includes the day that the range ends on at its first millisecond', () => {
    expect(daysCovering(at('2026-03-10T12:00:00Z'), at('2026-03-11T00:00:00.000Z'))).toEqual(['2026-03-10', '2026-03-11']);
    expect(daysCovering(at('2026-03-10T12:00:00Z'), at('2026-03-10T23:59:59.999Z'))).toEqual(['2026-03-10']);
  });

  it('gives every day of a range over several days, oldest first, across a month end', () => {
    expect(daysCovering(at('2026-02-27T10:00:00Z'), at('2026-03-02T03:00:00Z'))).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
  });

  it('rejects a range that ends before it starts', () => {
    expect(() => daysCovering(2000, 1000)).toThrow(new RangeError('daysCovering: fromMs (2000) must not be after toMs (1000)'));
  });
});

describe('PAGE_VIEW_ITEM', () => {
  it('lays a view out as day, a 13-digit zero-padded time and id sort key, and its attributes', () => {
    const createdAt = at('2026-03-10T12:34:56.789Z');
    expect(pageViewItem({ id: 'pv-1', url: '/blog/news/home', createdAt, responseMs: 250 })).toEqual({
      day: '2026-03-10',
      sk: `${createdAt}#pv-1`,
      url: '/blog/news/home',
      createdAt,
      responseMs: 250,
    });
    expect(PAGE_VIEW_ITEM.skOf(5, 'x')).toBe('0000000000005#x');
  });

  it('sorts sort keys as strings in time order, whatever the ids, and the range bounds include both ends', () => {
    const times = [0, 9, 10, 999, 1_000, 1_773_100_000_000, 1_773_100_000_001, 9_999_999_999_999];
    const keys = times.map((t, i) => PAGE_VIEW_ITEM.skOf(t, `id-${times.length - i}`));
    expect([...keys].sort()).toEqual(keys);
    const t = 1_773_100_000_000;
    const inRange = (sk: string) => sk >= PAGE_VIEW_ITEM.skFrom(t) && sk <= PAGE_VIEW_ITEM.skTo(t);
    expect(inRange(PAGE_VIEW_ITEM.skOf(t, 'a'))).toBe(true);
    expect(inRange(PAGE_VIEW_ITEM.skOf(t, '\u{10ffff}'))).toBe(true);
    expect(inRange(PAGE_VIEW_ITEM.skOf(t - 1, 'z'))).toBe(false);
    expect(inRange(PAGE_VIEW_ITEM.skOf(t + 1, ''))).toBe(false);
  });

  it('rejects a view whose createdAt does not fit the 13-digit sort key', () => {
    expect(() => pageViewItem({ id: 'pv-9', url: '/a/b/c', createdAt: 10_000_000_000_000, responseMs: 1 })).toThrow(
      'page view "pv-9": createdAt must be whole epoch milliseconds 0-9999999999999 (got 10000000000000)',
    );
  });
});
