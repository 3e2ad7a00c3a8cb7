/**
 * `npx tsx bench/screenshots.ts`: the README's pictures of the report page,
 * `docs/report-calculating.png` and `docs/report-ready.png`, taken in one run
 * with headless Chromium from npm (`@sparticuz/chromium`, see test/helpers/chromium.ts) on the local
 * runtime (its own emulators) seeded with 20,000 page views over 60 days.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { PROJECT_ROOT, startLocalRuntime } from '../lib/local/runtime.js';
import { seedPageViews } from '../lib/reports/seed-page-views.js';

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const docs = join(PROJECT_ROOT, 'docs');
  mkdirSync(docs, { recursive: true });
  const runtime = await startLocalRuntime({ httpPort: 0, log: () => undefined });
  try {
    const seeded = await seedPageViews({ rows: 20_000, days: 60 });
    console.log(`seeded ${seeded.rows} page views in ${Math.round(seeded.elapsedMs)} ms`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 500 } });
      const response = await page.goto(`${runtime.url}/reports/slow-blog-views?days=30`);
      if (response?.status() !== 202) throw new Error(`expected the "calculating" page (202), got ${response?.status()}`);
      await page.locator('#calculating').waitFor();
      // Let the elapsed-time counter tick once so the picture shows it moving.
      await page.waitForTimeout(1_100);
      await page.screenshot({ path: join(docs, 'report-calculating.png') });
      await page.locator('#count').waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(docs, 'report-ready.png') });
      console.log(`count ${await page.locator('#count').textContent()}; wrote docs/report-calculating.png and docs/report-ready.png`);
    } finally {
      await browser.close();
    }
  } finally {
    await runtime.stop();
  }
}

await main();
