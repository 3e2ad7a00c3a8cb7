/**
 * The operations console in a real browser (headless Chromium from npm,
 * driven by playwright-core), against Ferry's own app as deployed: the
 * synthesized bundles in sandboxes of their own, DynamoDB Local and fauxqs.
 * The pages are opened at the local runtime's door (`/_ferry/console`, served
 * unsigned locally; on AWS the route needs IAM authorization, see
 * iam-routes.test.ts) and walked by clicking, as an operator would: a queue's
 * depth rising while its workers are stopped and falling when they resume; a
 * dead letter opened with its recorded reason and redriven once its cause is
 * fixed; a fanned-out report's workflow followed to the end; and a report's
 * single-flight key forced to refresh.
 *
 * `FERRY_SCREENSHOTS=<dir>` saves the README's screenshots on the way.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appInBrowser } from '../helpers/browser-app.js';
import { documentClient, jobs, tableName } from '../../lib/index.js';
import { processPing } from '../../app/demo/pings.js';
import { canonicalKey } from '../../app/reports/report-params.js';
import { eventually } from '../helpers/runtime.js';

const SCREENSHOTS = process.env.FERRY_SCREENSHOTS;
const started = appInBrowser(13);

const consoleUrl = (path = '') => `${started().runtime.url}/_ferry/console${path}`;

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  if (SCREENSHOTS === undefined || SCREENSHOTS === '') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** A number cell as the page shows it ("1,234"); NaN when the cell is missing or says something else. */
async function cellNumber(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).first().textContent({ timeout: 5_000 }))?.trim() ?? '';
  return /^\d{1,3}(,\d{3})*$/.test(text) ? Number(text.replaceAll(',', '')) : Number.NaN;
}

/** Reloads `page` until `read` returns what `accept` takes; returns it. */
async function reloadUntil<T>(page: Page, what: string, read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  let last: T | undefined;
  return eventually(what, async () => {
    await page.reload();
    last = await read();
    return accept(last) ? last : undefined;
  }, timeoutMs);
}

async function pingStatus(id: string): Promise<string | undefined> {
  const response = await fetch(`${started().runtime.url}/pings/${id}`, { headers: { accept: 'application/json' } });
  if (response.status !== 200) return undefined;
  return ((await response.json()) as { ping?: { status?: string } }).ping?.status;
}

describe('the operations console in a browser', () => {
  it('shows a queue\'s depth rise while its workers are stopped and fall when they resume', async () => {
    const { runtime, browser } = started();
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    // The cpu pool: two pollers of one message each. Disabling its mapping starts no new receive;
    // the two already waiting may still take a message each, as on AWS.
    runtime.setEventSourceEnabled('cpuWorker', 'cpu', false);
    try {
      expect((await page.goto(consoleUrl()))?.status()).toBe(200);
      expect(await page.locator('tr[data-queue="io"]').count()).toBe(1);
      expect(await page.locator('tr[data-queue="cpu"]').count()).toBe(1);
      const before = await cellNumber(page, 'tr[data-queue="cpu"] td.depth');
      expect(before).toBeGreaterThanOrEqual(0);

      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const response = await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `console ${i}`, pool: 'cpu' }) });
        expect(response.status).toBe(202);
        ids.push(((await response.json()) as { ping: { id: string } }).ping.id);
      }
      const risen = await reloadUntil(page, 'the cpu queue to hold at least three of the five jobs', () => cellNumber(page, 'tr[data-queue="cpu"] td.depth'), (n) => n >= before + 3);
      expect(risen).toBeGreaterThanOrEqual(3);
      // Two heartbeat ticks: io's canaries start at once (cpu's may wait behind the stopped pool).
      await runtime.fireSchedule('ferry-heartbeat', new Date(Date.now() - 60_000));
      await runtime.fireSchedule('ferry-heartbeat');
      const beat = (queue: string) => page.locator(`[data-heartbeat-status="${queue}"]`).textContent();
      expect(await reloadUntil(page, 'io\'s canaries to start', () => beat('io'), (state) => state === 'OK')).toBe('OK');
      await screenshot(page, 'console-overview');

      runtime.setEventSourceEnabled('cpuWorker', 'cpu', true);
      await reloadUntil(page, 'the cpu queue to drain', () => cellNumber(page, 'tr[data-queue="cpu"] td.depth'), (n) => n === 0);
      for (const id of ids) expect(await eventually(`ping ${id} processed`, async () => ((await pingStatus(id)) === 'processed' ? true : undefined), 15_000)).toBe(true);
    } finally {
      runtime.setEventSourceEnabled('cpuWorker', 'cpu', true);
      await context.close();
    }
  }, 90_000);

  it('opens a dead letter with its recorded reason and redrives it once the cause is fixed', async () => {
    const { browser } = started();
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    try {
      // A job for a ping that does not exist yet fails without retries and goes to the dead-letter queue.
      const pingId = randomUUID();
      const { jobId } = await jobs.enqueue(processPing, { pingId }, { queue: 'io' });

      await page.goto(consoleUrl());
      await reloadUntil(page, 'the dead letter to be counted', () => cellNumber(page, 'tr[data-queue="io"] td.dead-letters'), (n) => n >= 1);
      await page.locator('tr[data-queue="io"] a').first().click();
      await page.waitForURL(/\/_ferry\/console\/queues\/io$/);
      const row = page.locator('tr[data-message-id]', { hasText: jobId });
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await row.locator('.reason').textContent()).toBe(`no ping ${pingId} exists`);
      expect(await row.textContent()).toContain('PingNotFoundError');
      expect(await row.textContent()).toContain('demo.ping');
      await screenshot(page, 'console-dead-letters');

      // The cause fixed (the ping recorded), the operator redrives that one message.
      await documentClient().send(new PutCommand({ TableName: tableName('state'), Item: { pk: `PING#${pingId}`, sk: 'PING', id: pingId, message: 'recorded late', status: 'queued', createdAt: new Date().toISOString(), pool: 'io' } }));
      await row.locator('button.redrive').click();
      await page.waitForURL(/\/_ferry\/console\/queues\/io\?notice=/);
      expect(await page.locator('.notice').textContent()).toMatch(/moved back to queue io/);
      expect(await page.locator('tr[data-message-id]', { hasText: jobId }).count()).toBe(0);

      await page.goto(consoleUrl(`/jobs/${encodeURIComponent(jobId)}`));
      await reloadUntil(page, 'the redriven job to succeed', async () => page.locator('[data-job-status]').getAttribute('data-job-status'), (s) => s === 'SUCCEEDED', 20_000).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; the job's page: ${await page.locator('main').textContent()}`);
      });
      expect(await pingStatus(pingId)).toBe('processed');
      expect(await page.locator('[data-job-status]').getAttribute('data-job-status')).toBe('SUCCEEDED');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('follows a fanned-out report\'s workflow to the end, then forces its key to refresh', async () => {
    const { runtime, browser } = started();
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    // A year's window fans out: a chord of 366 partition jobs and a callback.
    const report = `${runtime.url}/reports/slow-blog-views?days=365&minResponseMs=700`;
    const asJson = async (revalidate = false) => {
      const response = await fetch(report, { headers: { accept: 'application/json', ...(revalidate && { 'cache-control': 'no-cache' }) } });
      return { status: response.status, body: (await response.json()) as { report: string; params: Record<string, number | string>; phase?: string; computedAt?: string; stale?: boolean } };
    };
    try {
      const first = await asJson();
      expect(first.status).toBe(202);
      const key = canonicalKey(first.body.report, first.body.params);
      await eventually('the refresh to run', async () => ((await asJson()).body.phase === 'running' ? true : undefined), 30_000);
      runtime.setEventSourceEnabled('ioWorker', 'io', false);

      // The key, looked up from the overview's form.
      await page.goto(consoleUrl());
      await page.locator('input[name="flight"]').fill(key);
      await page.locator('input[name="flight"]').press('Enter');
      await page.waitForURL(/\/_ferry\/console\/flights\//);
      expect(await page.locator('[data-flight-phase]').getAttribute('data-flight-phase')).toBe('running');

      await page.getByRole('link', { name: 'as a workflow' }).click();
      await page.waitForURL(/\/_ferry\/console\/workflows\//);
      // The key names its run as it starts it; the chord's record follows a moment later.
      await reloadUntil(page, 'the workflow to be recorded', async () => page.locator('main h1').textContent(), (h1) => h1?.startsWith('Workflow refresh-') === true, 10_000);
      expect(await page.locator('[data-workflow-status]').getAttribute('data-workflow-status')).toBe('RUNNING');
      expect(await page.locator('progress').getAttribute('max')).toBe('367');
      const partWay = Number(await page.locator('progress').getAttribute('value'));
      expect(partWay).toBeLessThan(367);
      expect(await page.locator('tr[data-node-id]').count()).toBeGreaterThan(100);
      await screenshot(page, 'console-workflow', false);

      runtime.setEventSourceEnabled('ioWorker', 'io', true);
      await reloadUntil(page, 'the workflow to succeed', async () => page.locator('[data-workflow-status]').getAttribute('data-workflow-status'), (s) => s === 'SUCCEEDED', 60_000);
      expect(await page.locator('progress').getAttribute('value')).toBe('367');
      expect(await page.locator('tr[data-node-id] td.state', { hasText: /failed/i }).count()).toBe(0);

      // Back to the key: ready and fresh; forcing a refresh makes it stale, and the next request refreshes it.
      await page.goBack();
      await reloadUntil(page, 'the key to be ready', async () => page.locator('[data-flight-phase]').getAttribute('data-flight-phase'), (p) => p === 'ready');
      expect(await page.locator('[data-flight-freshness]').getAttribute('data-flight-freshness')).toBe('fresh');
      const computed = (await asJson()).body;
      await page.locator('button.refresh').click();
      await page.waitForURL(/notice=/);
      expect(await page.locator('.notice').textContent()).toMatch(/stale|refresh/i);
      expect(await page.locator('[data-flight-freshness]').getAttribute('data-flight-freshness')).toBe('stale');
      await screenshot(page, 'console-flight');

      // A warm API environment keeps its fresh copy (as a browser or CDN may, with max-age) until asked to revalidate.
      const served = await asJson(true);
      expect(served.status).toBe(200);
      expect(served.body.stale).toBe(true);
      const refreshed = await eventually('the forced refresh to complete', async () => {
        const now = await asJson(true);
        return now.status === 200 && now.body.stale !== true && now.body.computedAt !== computed.computedAt ? now.body : undefined;
      }, 60_000);
      expect(Date.parse(refreshed.computedAt ?? '')).toBeGreaterThan(Date.parse(computed.computedAt ?? ''));
    } finally {
      runtime.setEventSourceEnabled('ioWorker', 'io', true);
      await context.close();
    }
  }, 150_000);
});
