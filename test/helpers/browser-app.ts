/**
 * Ferry's app as deployed (the synthesized bundles, each function in
 * sandboxes of its own) with 3,000 page views, and headless Chromium, for the
 * browser tests: started before the file's tests, stopped after them.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import { PageViewStore } from '../../app/reports/page-views.js';
import { launchChromium } from './chromium.js';
import { startTestRuntime } from './runtime.js';

/** Registers the start and stop; returns what the tests use (throwing if the start failed). */
export function appInBrowser(seed: number): () => { runtime: LocalRuntime; browser: Browser } {
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    runtime = await startTestRuntime(undefined, { code: 'bundles' });
    await new PageViewStore().writeAll(generatePageViews({ rows: 3_000, days: 20, seed, now: Date.now() - 60_000 }));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  }, 60_000);
  return () => {
    if (runtime === undefined || browser === undefined) throw new Error('the runtime or the browser did not start');
    return { runtime, browser };
  };
}
