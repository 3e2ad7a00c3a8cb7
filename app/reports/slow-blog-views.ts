/**
 * The seed tutorial's report: how many page views in the last `days` days
 * took at least `minResponseMs` and have `urlContains` in their URL.
 */
import { minutes, hours, escapeHtml } from 'ferry';
import { PageViewStore } from './page-views.js';
import { defineReport, pageViewWork, windowOf } from './report.js';

export interface SlowViewsResult {
  readonly count: number;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly partitionsRead: number;
}

export const slowBlogViews = defineReport({
  name: 'slow-blog-views',
  title: 'Slow blog views',
  description: 'How many page views were slow, in a time window, for URLs containing a word.',
  params: {
    days: { kind: 'int', default: 30, min: 1, max: 365, description: 'how many days back' },
    minResponseMs: { kind: 'int', default: 1000, min: 0, max: 600_000, description: 'slowest acceptable response, in ms' },
    urlContains: { kind: 'string', default: 'blog', maxLength: 100, description: 'text the URL must contain' },
  },
  freshFor: minutes(5),
  staleFor: hours(1),
  window: ({ days }, asOf) => windowOf(days, asOf),
  estimate: (_params, window) => pageViewWork(window),
  // One day: the number of matching views. DynamoDB filters, so only matches travel.
  partial: async ({ minResponseMs, urlContains }, day, window) =>
    (
      await new PageViewStore().queryRange(day, {
        fromMs: window.fromMs,
        toMs: window.toMs,
        attributes: ['createdAt'],
        minResponseMs,
        ...(urlContains !== '' && { urlContains }),
      })
    ).length,
  combine: (partials, _params, window, days): SlowViewsResult => ({
    count: (partials as number[]).reduce((a, b) => a + b, 0),
    windowStart: window.fromMs,
    windowEnd: window.toMs,
    partitionsRead: days.length,
  }),
  renderHtml: (result, params) =>
    `<p class="figure"><span id="count">${result.count.toLocaleString('en-US')}</span></p>` +
    `<p>page views in the last ${params.days} days slower than ${params.minResponseMs.toLocaleString('en-US')} ms` +
    (params.urlContains === '' ? '' : ` whose URL contains “${escapeHtml(params.urlContains)}”`) +
    ` (${result.partitionsRead} day partitions read).</p>`,
});
