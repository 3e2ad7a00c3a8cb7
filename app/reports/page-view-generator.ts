/**
 * A deterministic page-view data set: the same options always give the same
 * rows, so tests and demos can compare what a query returns with what was
 * written.
 */
import { days, mulberry32 } from 'ferry';
import type { PageView } from './page-views.js';

/** The words URL segments are drawn from. No word contains another, so `contains(url, word)` matches whole segments. */
export const URL_WORDS = [
  'about', 'account', 'api', 'archive', 'billing', 'blog', 'cart', 'checkout', 'contact', 'docs',
  'events', 'faq', 'feed', 'files', 'garden', 'guide', 'help', 'home', 'jobs', 'kitchen',
  'login', 'map', 'music', 'news', 'orders', 'photos', 'pricing', 'privacy', 'profile', 'recipes',
  'reviews', 'search', 'settings', 'shop', 'sports', 'status', 'team', 'travel', 'videos', 'weather',
] as const;

export const GENERATOR_LIMITS = {
  rows: { min: 1, max: 10_000_000 },
  days: { min: 1, max: 3650 },
  responseMs: { min: 20, max: 40_000 },
} as const;

export const GENERATOR_DEFAULTS = { seed: 42 } as const;

const DAY_MS = days(1).milliseconds;

export interface GeneratePageViewsOptions {
  /** How many views, 1-10,000,000. */
  readonly rows: number;
  /** The views are spread over this many days ending at `now`, 1-3650. */
  readonly days: number;
  /** Seed of the PRNG, a whole number 0-4294967295. @default 42 */
  readonly seed?: number;
  /** End of the time range, epoch ms. @default Date.now() */
  readonly now?: number;
}

export { mulberry32 };

function checkRange(value: number, option: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`generatePageViews: ${option} must be a whole number ${min}-${max.toLocaleString('en-US')} (got ${value})`);
  }
}

/**
 * `rows` page views with URLs `/<w1>/<w2>/<w3>` from {@link URL_WORDS},
 * `createdAt` uniform over the last `days` days up to `now` (both ends
 * included), `responseMs` a whole number uniform in 20-40,000, and ids
 * `pv-<seed>-<index>`. Validates the options at the call, not at the first
 * `next()`.
 */
export function generatePageViews(options: GeneratePageViewsOptions): Generator<PageView> {
  const { rows, days } = options;
  const seed = options.seed ?? GENERATOR_DEFAULTS.seed;
  const now = options.now ?? Date.now();
  checkRange(rows, 'rows', GENERATOR_LIMITS.rows.min, GENERATOR_LIMITS.rows.max);
  checkRange(days, 'days', GENERATOR_LIMITS.days.min, GENERATOR_LIMITS.days.max);
  checkRange(seed, 'seed', 0, 4_294_967_295);
  const spanMs = days * DAY_MS;
  if (!Number.isInteger(now) || now < spanMs) {
    throw new RangeError(`generatePageViews: now must be whole epoch milliseconds, at least ${days} days after 1970 (got ${now})`);
  }
  return rowsOf({ rows, seed, now, spanMs });
}

function* rowsOf({ rows, seed, now, spanMs }: { rows: number; seed: number; now: number; spanMs: number }): Generator<PageView> {
  const random = mulberry32(seed);
  const word = () => URL_WORDS[Math.floor(random() * URL_WORDS.length)] ?? URL_WORDS[0];
  const { min, max } = GENERATOR_LIMITS.responseMs;
  for (let index = 0; index < rows; index++) {
    const url = `/${word()}/${word()}/${word()}`;
    const createdAt = now - Math.floor(random() * (spanMs + 1));
    const responseMs = min + Math.floor(random() * (max - min + 1));
    yield { id: `pv-${seed}-${index}`, url, createdAt, responseMs };
  }
}
