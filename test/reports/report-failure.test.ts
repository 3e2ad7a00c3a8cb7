/**
 * A report whose computation keeps failing: after its retries the user sees
 * what failed, with a way to retry, instead of a page that polls forever, on
 * either path a refresh takes. The failures are real: DynamoDB's own error
 * for every query of one report (injected at the SDK, as AWS would answer),
 * then the page-view table deleted under the running service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../../lib/aws/clients.js';
import { tableName } from '../../lib/app/resource-env.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

/** Every query of the io worker that filters on this text fails with DynamoDB's internal error, more times than the SDK and the job retry. */
const FLAKY = 'flaky-marker';

let runtime: LocalRuntime;
beforeAll(async () => {
  // Ferry's app as deployed: the synthesized bundles, each function in sandboxes of its own
  // (which take their faults from the plan they start with); no random faults.
  runtime = await startTestRuntime(undefined, {
    code: 'bundles',
    faults: { seed: 1, script: [{ command: 'Query', functionId: 'ioWorker', inputContains: FLAKY, times: 1_000_000, fault: 'fail' }] },
  });
});
afterAll(async () => {
  await runtime?.stop();
});

describe('a report computed in one job whose queries keep failing', () => {
  it('ends in the failed state with DynamoDB\'s error after the job\'s retries', async () => {
    const flaky = `/reports/slow-blog-views?days=3&urlContains=${FLAKY}`;
    const before = (await runtime.stats()).queues.io?.sent ?? 0;
    expect((await fetch(`${runtime.url}${flaky}`)).status).toBe(202);
    const failed = await eventually('the failure', async () => {
      const response = await fetch(`${runtime.url}${flaky}`, { headers: { accept: 'application/json' } });
      return response.status === 500 ? ((await response.json()) as { state: string; error: { code: string; message: string } }) : undefined;
    });
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'InternalServerError' } });
    expect(failed.error.message).toMatch(/^DynamoDB had an internal error; the request was not applied \(injected\)$/);
    // One job, no chord: its three attempts are deliveries of the same message.
    expect(((await runtime.stats()).queues.io?.sent ?? 0) - before).toBe(1);
  }, 60_000);
});

const path = '/reports/slow-blog-views?days=3';

describe('a report whose table is gone (no estimate can be made, so the refresh fans out)', () => {
  beforeAll(async () => {
    await dynamoDbClient().send(new DeleteTableCommand({ TableName: tableName('pageViews') }));
  });

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
