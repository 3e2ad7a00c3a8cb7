import { describe, expect, it } from 'vitest';
import { GENERATOR_DEFAULTS, URL_WORDS, generatePageViews, mulberry32 } from '../../app/reports/page-view-generator.js';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-03-10T15:30:00.000Z');

describe('generatePageViews', () => {
  it('gives the same rows for the same arguments, and other rows for another seed', () => {
    const first = [...generatePageViews({ rows: 500, days: 30, seed: 7, now: NOW })];
    const again = [...generatePageViews({ rows: 500, days: 30, seed: 7, now: NOW })];
    const otherSeed = [...generatePageViews({ rows: 500, days: 30, seed: 8, now: NOW })];
    expect(again).toEqual(first);
    expect(otherSeed.map((v) => v.url)).not.toEqual(first.map((v) => v.url));
    expect(otherSeed.map((v) => v.createdAt)).not.toEqual(first.map((v) => v.createdAt));
    expect(otherSeed.map((v) => v.responseMs)).not.toEqual(first.map((v) => v.responseMs));
  });

  it('uses seed 42 by default and numbers the ids pv-<seed>-<index>', () => {
    const defaulted = [...generatePageViews({ rows: 3, days: 1, now: NOW })];
    expect(defaulted).toEqual([...generatePageViews({ rows: 3, days: 1, seed: GENERATOR_DEFAULTS.seed, now: NOW })]);
    expect(GENERATOR_DEFAULTS.seed).toBe(42);
    expect(defaulted.map((v) => v.id)).toEqual(['pv-42-0', 'pv-42-1', 'pv-42-2']);
  });

  it('yields exactly the requested number of rows, with unique ids', () => {
    const views = [...generatePageViews({ rows: 1234, days: 5, now: NOW })];
    expect(views).toHaveLength(1234);
    expect(new Set(views.map((v) => v.id)).size).toBe(1234);
  });

  it('builds every URL from three words of URL_WORDS, and some of them contain blog', () => {
    const views = [...generatePageViews({ rows: 2000, days: 10, now: NOW })];
    const words = new Set<string>(URL_WORDS);
    for (const { url } of views) {
      const segments = url.split('/');
      expect(segments[0]).toBe('');
      expect(segments.slice(1)).toHaveLength(3);
      expect(segments.slice(1).every((s) => words.has(s))).toBe(true);
    }
    expect(views.filter((v) => v.url.includes('blog')).length).toBeGreaterThan(0);
  });

  it('spreads createdAt over the last `days` days up to now, and keeps responseMs within 20-40000 as whole numbers', () => {
    const days = 60;
    const views = [...generatePageViews({ rows: 5000, days, now: NOW })];
    for (const v of views) {
      expect(v.createdAt).toBeGreaterThanOrEqual(NOW - days * DAY_MS);
      expect(v.createdAt).toBeLessThanOrEqual(NOW);
      expect(Number.isInteger(v.responseMs)).toBe(true);
      expect(v.responseMs).toBeGreaterThanOrEqual(20);
      expect(v.responseMs).toBeLessThanOrEqual(40_000);
    }
    // Uniform: each half of the range holds roughly half of the rows.
    const older = views.filter((v) => v.createdAt < NOW - (days / 2) * DAY_MS).length;
    expect(older / views.length).toBeGreaterThan(0.45);
    expect(older / views.length).toBeLessThan(0.55);
  });

  it('rejects rows outside 1-10,000,000, naming the option and the range', () => {
    expect(() => generatePageViews({ rows: 0, days: 1 })).toThrow(new RangeError('generatePageViews: rows must be a whole number 1-10,000,000 (got 0)'));
    expect(() => generatePageViews({ rows: 10_000_001, days: 1 })).toThrow('generatePageViews: rows must be a whole number 1-10,000,000 (got 10000001)');
    expect(() => generatePageViews({ rows: 1.5, days: 1 })).toThrow('generatePageViews: rows must be a whole number 1-10,000,000 (got 1.5)');
  });

  it('rejects days outside 1-3650, naming the option and the range', () => {
    expect(() => generatePageViews({ rows: 1, days: 0 })).toThrow(new RangeError('generatePageViews: days must be a whole number 1-3,650 (got 0)'));
    expect(() => generatePageViews({ rows: 1, days: 3651 })).toThrow('generatePageViews: days must be a whole number 1-3,650 (got 3651)');
  });

  it('rejects a seed that is not a 32-bit whole number, and a now before the range could start', () => {
    expect(() => generatePageViews({ rows: 1, days: 1, seed: -1 })).toThrow('generatePageViews: seed must be a whole number 0-4,294,967,295 (got -1)');
    expect(() => generatePageViews({ rows: 1, days: 2, now: DAY_MS })).toThrow(
      `generatePageViews: now must be whole epoch milliseconds, at least 2 days after 1970 (got ${DAY_MS})`,
    );
  });
});

describe('URL_WORDS', () => {
  it('holds about 40 distinct plain words, blog among them, none containing another', () => {
    expect(URL_WORDS.length).toBeGreaterThanOrEqual(35);
    expect(URL_WORDS.length).toBeLessThanOrEqual(45);
    expect(new Set(URL_WORDS).size).toBe(URL_WORDS.length);
    expect(URL_WORDS).toContain('blog');
    for (const word of URL_WORDS) {
      expect(word).toMatch(/^[a-z]+$/);
      expect(URL_WORDS.filter((other) => other !== word && other.includes(word))).toEqual([]);
    }
  });
});

describe('mulberry32', () => {
  it('returns floats in [0, 1) that depend only on the seed', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const values = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(values);
    expect(values.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });
});
