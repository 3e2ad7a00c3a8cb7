/** The URLs with the slowest average response in the last `days` days. */
import { minutes, hours } from '../app/duration.js';
import { mapLimit } from '../util/map-limit.js';
import { daysCovering, PageViewStore } from './page-views.js';
import { defineReport, escapeHtml } from './report.js';
import { PARTITION_CONCURRENCY } from './slow-blog-views.js';

const DAY_MS = 86_400_000;

export interface SlowUrl {
  readonly url: string;
  readonly views: number;
  readonly averageMs: number;
  readonly maxMs: number;
}

export interface SlowestUrlsResult {
  readonly urls: readonly SlowUrl[];
  readonly viewsRead: number;
  readonly windowStart: number;
  readonly windowEnd: number;
}

export const slowestUrls = defineReport({
  name: 'slowest-urls',
  title: 'Slowest URLs',
  description: 'The URLs with the highest average response time in a time window.',
  params: {
    days: { kind: 'int', default: 7, min: 1, max: 365, description: 'how many days back' },
    limit: { kind: 'int', default: 10, min: 1, max: 100, description: 'how many URLs to list' },
    minViews: { kind: 'int', default: 1, min: 1, max: 1_000_000, description: 'fewest views a URL needs to be listed' },
    urlContains: { kind: 'string', default: '', maxLength: 100, description: 'text the URL must contain (empty: any)' },
  },
  freshFor: minutes(5),
  staleFor: hours(1),
  compute: async ({ days, limit, minViews, urlContains }, { asOf, partitionConcurrency = PARTITION_CONCURRENCY }) => {
    const windowStart = asOf - days * DAY_MS;
    const store = new PageViewStore();
    const perDay = await mapLimit(daysCovering(windowStart, asOf), partitionConcurrency, (day) =>
      store.queryRange(day, { fromMs: windowStart, toMs: asOf, attributes: ['url', 'responseMs'], ...(urlContains !== '' && { urlContains }) }),
    );
    const byUrl = new Map<string, { views: number; total: number; max: number }>();
    let viewsRead = 0;
    for (const views of perDay) {
      for (const { url = '', responseMs = 0 } of views) {
        viewsRead += 1;
        const s = byUrl.get(url) ?? { views: 0, total: 0, max: 0 };
        s.views += 1;
        s.total += responseMs;
        s.max = Math.max(s.max, responseMs);
        byUrl.set(url, s);
      }
    }
    const urls = [...byUrl]
      .filter(([, s]) => s.views >= minViews)
      .map(([url, s]) => ({ url, views: s.views, averageMs: Math.round(s.total / s.views), maxMs: s.max }))
      .sort((a, b) => b.averageMs - a.averageMs || b.views - a.views || a.url.localeCompare(b.url))
      .slice(0, limit);
    return { urls, viewsRead, windowStart, windowEnd: asOf };
  },
  renderHtml: (result) =>
    `<table><thead><tr><th>URL</th><th>views</th><th>average</th><th>slowest</th></tr></thead><tbody>` +
    result.urls
      .map((u) => `<tr><td><code>${escapeHtml(u.url)}</code></td><td>${u.views}</td><td>${u.averageMs.toLocaleString('en-US')} ms</td><td>${u.maxMs.toLocaleString('en-US')} ms</td></tr>`)
      .join('') +
    `</tbody></table><p>${result.viewsRead.toLocaleString('en-US')} page views read.</p>`,
});
