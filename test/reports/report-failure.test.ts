/**
 * A report whose computation keeps failing: after its retries the user sees
 * what failed, with a way to retry, instead of a page that polls forever.
 * The failure is real: the page-view table is deleted under the running service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../../lib/aws/clients.js';
import { tableName } from '../../lib/app/resource-env.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  // Ferry's app as deployed: the synthesized bundles, each function in sandboxes of its own.
  runtime = await startTestRuntime(undefined, { code: 'bundles' });
  await dynamoDbClient().send(new DeleteTableCommand({ TableName: tableName('pageViews') }));
});
afterAll(async () => {
  await runtime?.stop();
});

const path = '/reports/slow-blog-views?days=3';

describe('a report that fails', () => {
  it('ends in the failed state with the error and a retry link after its retries, not pending forever', async () => {
    expect((await fetch(`${runtime.url}${path}`)).status).toBe(202);
    const failed = await eventually('the failure', async () => {
      const response = await fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json' } });
      return response.status === 500 ? { response, body: (await response.json()) as Record<string, unknown> } : undefined;
    });
    expect(failed.body).toMatchObject({
      state: 'failed',
      error: { code: 'ResourceNotFoundException' },
      retry: { method: 'POST', href: '/prod/reports/slow-blog-views/retry?days=3&minResponseMs=1000&urlContains=blog' },
    });
    expect((failed.body.error as { message: string }).message).toMatch(/non-existent table/);
    expect(Number(failed.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(failed.response.headers.get('cache-control')).toBe('no-store');
  });

  it('shows the browser the message and a retry button', async () => {
    const html = await (await fetch(`${runtime.url}${path}`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('The report could not be calculated.');
    expect(html).toMatch(/non-existent table/);
    expect(html).toContain('<form method="post" action="slow-blog-views/retry?days=3&amp;minResponseMs=1000&amp;urlContains=blog"><button type="submit" id="retry">Try again</button></form>');
  });

  it('starts a new computation when the user retries during the cool-down', async () => {
    const before = (await runtime.stats()).queues.io?.sent ?? 0;
    const response = await fetch(`${runtime.url}/reports/slow-blog-views/retry?days=3&minResponseMs=1000&urlContains=blog`, {
      method: 'POST',
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('../slow-blog-views?days=3&minResponseMs=1000&urlContains=blog');
    // The retry claimed a new refresh: its start job was sent.
    expect(((await runtime.stats()).queues.io?.sent ?? 0) - before).toBeGreaterThanOrEqual(1);
  });
});
