/**
 * The report pages in a real browser (headless Chromium from npm, driven by
 * playwright-core): the "Calculating…" page shows the refresh's progress and
 * turns into the number by itself, with JavaScript (polling the JSON answer,
 * then reloading) and without it (the <noscript> meta refresh); `/reports` and
 * a bad request are pages for people, not JSON.
 */
import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { appInBrowser } from '../helpers/browser-app.js';
import type { SlowViewsResult } from '../../app/reports/slow-blog-views.js';
import { eventually } from '../helpers/runtime.js';

const started = appInBrowser(11);

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
  // A short window is computed in one job: no partitions to count, so the page says what is happening.
  expect(await page.locator('#progress').textContent()).toMatch(/^(waiting for a worker|calculating)$/);
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

  it('opens /reports as a page listing every report with its parameters, and follows a link to a report', async () => {
    const context = await started().browser.newContext({ viewport: { width: 900, height: 700 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${started().runtime.url}/reports`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toMatch(/^text\/html/);
      expect(await page.locator('h1').textContent()).toBe('Reports');
      expect(await page.locator('section.report h2').allTextContents()).toEqual(['Slow blog views', 'Slowest URLs']);
      expect(await page.locator('#report-slow-blog-views table').textContent()).toContain('an integer from 1 to 365');
      await page.locator('#report-slowest-urls h2 a').click();
      await page.waitForURL(/\/reports\/slowest-urls$/);
      await expect.poll(() => page.locator('main').getAttribute('data-state'), { timeout: 30_000 }).toMatch(/^(pending|ready)$/);
      // Every report page links back to the index and to the other reports.
      await page.locator('#all-reports').click();
      await page.waitForURL(/\/reports$/);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('answers bad parameters with a page naming each one, what it allows, and a link to the defaults', async () => {
    const context = await started().browser.newContext({ viewport: { width: 900, height: 700 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${started().runtime.url}/reports/slow-blog-views?days=0&colour=red`);
      expect(response?.status()).toBe(400);
      expect(response?.headers()['content-type']).toMatch(/^text\/html/);
      const problems = await page.locator('#problems li').allTextContents();
      expect(problems).toEqual([
        'colour: unknown parameter "colour". Allowed: one of: days, minResponseMs, urlContains.',
        'days: "days" must be an integer from 1 to 365 (got "0"). Allowed: an integer from 1 to 365.',
      ]);
      await page.locator('#defaults').click();
      await page.waitForURL(/\/reports\/slow-blog-views$/);

      const unknown = await page.goto(`${started().runtime.url}/reports/no-such-report`);
      expect(unknown?.status()).toBe(404);
      expect(await page.locator('#message').textContent()).toBe('There is no report named “no-such-report”.');
      expect(await page.locator('main li a').allTextContents()).toEqual(['Slow blog views', 'Slowest URLs']);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows how many day partitions the refresh has read while it runs', async () => {
    const { runtime, browser } = started();
    const context = await browser.newContext({ viewport: { width: 900, height: 500 } });
    // A year's window: more than 100 partitions, so fanned out: 366 partition jobs, far more
    // than the io workers hold at once (5 pollers x 10).
    const path = '/reports/slow-blog-views?days=365&minResponseMs=500';
    try {
      const page = await context.newPage();
      expect((await page.goto(`${runtime.url}${path}`))?.status()).toBe(202);
      // As soon as the chord runs, the io event source is disabled: the refresh stops part way.
      await eventually('the refresh to run', async () => {
        const body = (await (await fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json' } })).json()) as { phase?: string };
        return body.phase === 'running' ? true : undefined;
      }, 30_000);
      runtime.setEventSourceEnabled('ioWorker', 'io', false);
      await expect.poll(() => page.locator('#progress').textContent(), { timeout: 15_000 }).toMatch(/^\d+ of 366 partitions read$/);
      const shown = /^(\d+) of/.exec((await page.locator('#progress').textContent()) ?? '');
      expect(Number(shown?.[1])).toBeLessThan(366);
      expect(await page.locator('#state').textContent()).toBe('running');

      runtime.setEventSourceEnabled('ioWorker', 'io', true);
      await page.locator('#count').waitFor({ state: 'visible', timeout: 60_000 });
      expect(await page.locator('#age').textContent()).toMatch(/^computed (just now|\d+ seconds? ago), fresh for \d+ (minutes?|seconds?) more$/);
    } finally {
      runtime.setEventSourceEnabled('ioWorker', 'io', true);
      await context.close();
    }
  }, 90_000);
});
