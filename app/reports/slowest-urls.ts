/** The URLs with the slowest average response in the last `days` days. */
import { minutes, hours, escapeHtml } from 'ferry';
import { PageViewStore } from './page-views.js';
import { defineReport, pageViewWork, windowOf } from './report.js';

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

/** Per URL in one day: [views, total ms, max ms]. Compact, because partials travel between jobs. */
type DayStats = Record<string, [number, number, number]>;

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
  window: ({ days }, asOf) => windowOf(days, asOf),
  estimate: (_params, window) => pageViewWork(window),
  partial: async ({ urlContains }, day, window): Promise<DayStats> => {
    const views = await new PageViewStore().queryRange(day, {
      fromMs: window.fromMs,
      toMs: window.toMs,
      attributes: ['url', 'responseMs'],
      ...(urlContains !== '' && { urlContains }),
    });
    const stats: DayStats = {};
    for (const { url = '', responseMs = 0 } of views) {
      const s = (stats[url] ??= [0, 0, 0]);
      s[0] += 1;
      s[1] += responseMs;
      s[2] = Math.max(s[2], responseMs);
    }
    return stats;
  },
  combine: (partials, { limit, minViews }, window): SlowestUrlsResult => {
    const byUrl = new Map<string, [number, number, number]>();
    let viewsRead = 0;
    for (const day of partials as DayStats[]) {
      for (const [url, [views, total, max]] of Object.entries(day)) {
        const s = byUrl.get(url) ?? [0, 0, 0];
        byUrl.set(url, [s[0] + views, s[1] + total, Math.max(s[2], max)]);
        viewsRead += views;
      }
    }
    const urls = [...byUrl]
      .filter(([, [views]]) => views >= minViews)
      .map(([url, [views, total, max]]) => ({ url, views, averageMs: Math.round(total / views), maxMs: max }))
      .sort((a, b) => b.averageMs - a.averageMs || b.views - a.views || a.url.localeCompare(b.url))
      .slice(0, limit);
    return { urls, viewsRead, windowStart: window.fromMs, windowEnd: window.toMs };
  },
  renderHtml: (result) =>
    `<table><thead><tr><th>URL</th><th>views</th><th>average</th><th>slowest</th></tr></thead><tbody>` +
    result.urls
      .map((u) => `<tr><td><code>${escapeHtml(u.url)}</code></td><td>${u.views}</td><td>${u.averageMs.toLocaleString('en-US')} ms</td><td>${u.maxMs.toLocaleString('en-US')} ms</td></tr>`)
      .join('') +
    `</tbody></table><p>${result.viewsRead.toLocaleString('en-US')} page views read.</p>`,
});
