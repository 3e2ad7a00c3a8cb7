/**
 * The report page in a real browser (Debian's headless Chromium driven by
 * playwright-core): the "Calculating…" page turns into the number by itself,
 * with JavaScript (polling the JSON answer, then reloading) and without it
 * (the <noscript> meta refresh).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../lib/reports/page-view-generator.js';
import { PageViewStore } from '../../lib/reports/page-views.js';
import type { SlowViewsResult } from '../../lib/reports/slow-blog-views.js';
import { startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  runtime = await startTestRuntime();
  await new PageViewStore().writeAll(generatePageViews({ rows: 3_000, days: 20, seed: 11, now: Date.now() - 60_000 }));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
}, 60_000);

function started(): { runtime: LocalRuntime; browser: Browser } {
  if (runtime === undefined || browser === undefined) throw new Error('the runtime or the browser did not start');
  return { runtime, browser };
}

/** The JSON answer's count, asked for once the page shows the number. */
async function jsonCount(url: string): Promise<number> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { state: string; result: SlowViewsResult };
  expect(body.state).toBe('ready');
  return body.result.count;
}

/**
 * Opens the report at `path` and follows it, without reloading it from the
 * test, from "Calculating…" to the number; returns the number shown and the
 * statuses of the documents the page loaded on the way.
 */
async function watchPage(context: BrowserContext, path: string): Promise<{ page: Page; shown: number; statuses: number[] }> {
  const { runtime } = started();
  const page = await context.newPage();
  const statuses: number[] = [];
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) statuses.push(response.status());
  });

  const first = await page.goto(`${runtime.url}${path}`);
  expect(first?.status()).toBe(202);
  await expect.poll(() => page.locator('#calculating').textContent()).toMatch(/^Calculating…/);
  expect(await page.locator('#state').textContent()).toMatch(/^(queued|running)$/);
  expect(await page.locator('#count').count()).toBe(0);

  await page.locator('#count').waitFor({ state: 'visible', timeout: 30_000 });
  const text = (await page.locator('#count').textContent()) ?? '';
  expect(text).toMatch(/^\d{1,3}(,\d{3})*$/);
  return { page, shown: Number(text.replaceAll(',', '')), statuses };
}

describe('the report page in a browser', () => {
  it('shows "Calculating…" with the state, then turns into the number by itself, the same number the JSON answer gives', async () => {
    const context = await started().browser.newContext({ viewport: { width: 900, height: 500 } });
    try {
      const path = '/reports/slow-blog-views?days=9';
      const { page, shown, statuses } = await watchPage(context, path);
      // The page reloaded itself: a 202 "calculating" document, then the 200 result.
      expect(statuses[0]).toBe(202);
      expect(statuses.at(-1)).toBe(200);
      expect(await page.locator('#result').getAttribute('data-state')).toBe('ready');
      expect(shown).toBe(await jsonCount(`${started().runtime.url}${path}`));
      expect(shown).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('still turns "Calculating…" into the number by itself with JavaScript disabled, through the noscript refresh', async () => {
    const context = await started().browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 500 } });
    try {
      const path = '/reports/slow-blog-views?days=10';
      const { page, shown, statuses } = await watchPage(context, path);
      // No script ran: the <noscript> meta refresh reloaded the page until the result was ready.
      expect(statuses[0]).toBe(202);
      expect(statuses.at(-1)).toBe(200);
      expect(await page.locator('#result').getAttribute('data-state')).toBe('ready');
      expect(shown).toBe(await jsonCount(`${started().runtime.url}${path}`));
    } finally {
      await context.close();
    }
  }, 60_000);
});
