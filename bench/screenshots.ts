/**
 * `npx tsx bench/screenshots.ts`: the README's pictures of the report pages,
 * taken in one run with headless Chromium from npm (`@sparticuz/chromium`, see
 * test/helpers/chromium.ts) on the local runtime (its own emulators) seeded
 * with the demo data set: the index (`docs/reports-index.png`), a refresh in
 * progress (`docs/report-calculating.png`), the result
 * (`docs/report-ready.png`) and a bad request (`docs/report-bad-params.png`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { PROJECT_ROOT } from '../test/helpers/repo-root.js';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { resources } from '../app/resources.js';
import { seedDemoDataIfEmpty } from '../app/reports/demo-data.js';

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const docs = join(PROJECT_ROOT, 'docs');
  mkdirSync(docs, { recursive: true });
  const runtime = await startLocalRuntime({ app: resources, httpPort: 0, log: () => undefined, prepare: async () => void (await seedDemoDataIfEmpty()) });
  try {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
      await page.goto(`${runtime.url}/reports`);
      await page.screenshot({ path: join(docs, 'reports-index.png'), fullPage: true });

      const path = '/reports/slow-blog-views';
      const response = await page.goto(`${runtime.url}${path}`);
      if (response?.status() !== 202) throw new Error(`expected the "calculating" page (202), got ${response?.status()}`);
      // Hold the io workers once the chord runs, so the picture shows the refresh part way.
      for (;;) {
        const body = (await (await fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json' } })).json()) as { phase?: string };
        if (body.phase === 'running') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      runtime.setEventSourceEnabled('ioWorker', 'io', false);
      await page.locator('#bar').waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(docs, 'report-calculating.png') });
      runtime.setEventSourceEnabled('ioWorker', 'io', true);
      await page.locator('#count').waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(docs, 'report-ready.png') });

      await page.goto(`${runtime.url}${path}?days=0&colour=red`);
      await page.screenshot({ path: join(docs, 'report-bad-params.png'), fullPage: true });
      console.log('wrote docs/reports-index.png, docs/report-calculating.png, docs/report-ready.png and docs/report-bad-params.png');
    } finally {
      await browser.close();
    }
  } finally {
    await runtime.stop();
  }
}

await main();
