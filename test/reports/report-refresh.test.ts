/**
 * A report refresh's two paths (one job, or fanned out as a chord) and its
 * re-drivability, on Ferry's app with its functions in this process (they
 * share its environment, so a test can set the io worker's limits). The test
 * claims a refresh as a request does, keeps the claim's job instead of sending
 * it, and delivers it itself as the worker would (the task run with the job's
 * input and id), once, twice, or after a delivery that died.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SingleFlight, type FlightClaim } from '../../lib/coordination/single-flight.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import type { TaskContext } from '../../lib/jobs/task.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import { PageViewStore, type PageView } from '../../app/reports/page-views.js';
import { REFRESH_PLAN_ENV, RefreshPlanConfigError } from '../../app/reports/refresh-plan.js';
import { canonicalKey } from '../../app/reports/report-params.js';
import { findReport } from '../../app/reports/report-registry.js';
import { refreshProgress, refreshRunRef } from '../../app/reports/report-workflow.js';
import type { SlowViewsResult } from '../../app/reports/slow-blog-views.js';
import { workflows } from '../../lib/workflows/default-engine.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
let views: PageView[];
const NOW = Date.now() - 60_000;

beforeAll(async () => {
  runtime = await startTestRuntime();
  views = [...generatePageViews({ rows: 2_000, days: 10, seed: 5, now: NOW })];
  await new PageViewStore().writeAll(views);
});
afterEach(() => {
  delete process.env[REFRESH_PLAN_ENV.oneJobMaxPartitions];
});
afterAll(async () => {
  await runtime?.stop();
});

const registered = findReport('slow-blog-views');
if (registered === undefined) throw new Error('slow-blog-views is not registered');
const { task, policy } = registered.flight;
const flight = new SingleFlight();

type Params = { days: number; minResponseMs: number; urlContains: string };
type Input = Parameters<typeof task.run>[0];

/** Claims a refresh of `params` as a request does, keeping the claim's job (the test delivers it). */
async function claimRefresh(params: Params): Promise<{ claim: FlightClaim; input: Input }> {
  const key = canonicalKey('slow-blog-views', params);
  let claimed: FlightClaim | undefined;
  await flight.request(key, policy, async (claim) => {
    claimed = claim;
  });
  if (claimed === undefined) throw new Error(`no refresh of ${key} was claimed`);
  return { claim: claimed, input: { key, token: claimed.token, params: { params, asOf: NOW } } };
}

/** One delivery of the claim's job, as the worker runs it. */
function deliver(claim: FlightClaim, input: Input, attempt = 1): Promise<unknown> {
  const context: TaskContext = {
    jobId: claim.jobId,
    attempt,
    maxAttempts: task.retry.maxAttempts,
    traceId: `test-${claim.jobId}`,
    enqueuedAt: new Date().toISOString(),
    signal: new AbortController().signal,
    eager: false,
    willRetry: () => attempt < task.retry.maxAttempts,
    stopRequested: () => Promise.resolve(false),
    stopIfRequested: () => Promise.resolve(),
  };
  return task.run(input, context);
}

/** An independent count over the generated rows. */
function expectedCount(result: SlowViewsResult, params: Params): number {
  return views.filter((v) => v.createdAt >= result.windowStart && v.createdAt <= result.windowEnd && v.responseMs >= params.minResponseMs && v.url.includes(params.urlContains)).length;
}

async function readyItem(key: string) {
  return eventually(`${key} to be ready`, async () => {
    const item = await flight.read(key);
    return item?.phase === 'ready' ? item : undefined;
  });
}

describe('a refresh over a short window', () => {
  it('is computed by its one job, which stores the result under the claim; a redelivery after that is skipped and the result stays the first', async () => {
    const params = { days: 5, minResponseMs: 1000, urlContains: 'blog' };
    const { claim, input } = await claimRefresh(params);
    expect(await deliver(claim, input)).toEqual({ stored: true });
    const item = await flight.read(claim.key);
    expect(item).toMatchObject({ phase: 'ready', token: claim.token, runRef: refreshRunRef('one-job', claim), attempts: 1 });
    const result = item?.result as SlowViewsResult;
    expect(result.partitionsRead).toBe(6);
    expect(result.count).toBe(expectedCount(result, params));
    // No progress to follow, and none looked for.
    expect(await refreshProgress(refreshRunRef('one-job', claim))).toBeUndefined();

    expect(await deliver(claim, input, 2)).toEqual({ skipped: 'stale-claim' });
    expect((await flight.read(claim.key))?.computedAt).toBe(item?.computedAt);
  });

  it('stores one result when two deliveries of its job run at once (a duplicate)', async () => {
    const params = { days: 5, minResponseMs: 2000, urlContains: 'blog' };
    const { claim, input } = await claimRefresh(params);
    const outcomes = await Promise.all([deliver(claim, input), deliver(claim, input)]);
    // Each delivery either stored the result or found it stored by the other: neither failed.
    expect(outcomes.every((o) => JSON.stringify(o) === '{"stored":true}' || JSON.stringify(o) === '{"skipped":"stale-claim"}')).toBe(true);
    const item = await flight.read(claim.key);
    expect(item).toMatchObject({ phase: 'ready', token: claim.token });
    expect(item?.attempts).toBeLessThanOrEqual(2);
    const result = item?.result as SlowViewsResult;
    expect(result.count).toBe(expectedCount(result, params));
  });

  it('is re-driven on the path its first delivery started, after that delivery died, even where the plan now chooses the other', async () => {
    const params = { days: 5, minResponseMs: 3000, urlContains: 'blog' };
    const { claim, input } = await claimRefresh(params);
    // The first delivery planned a fan-out (the limits were lower then), started the run, and died.
    expect(await flight.start(claim, policy, { runRef: refreshRunRef('fan-out', claim) })).toBe(true);
    // The redelivery plans one job with today's limits, finds the fan-out started, and re-drives it: the chord runs.
    expect(await deliver(claim, input, 2)).toEqual({ stored: true });
    const item = await readyItem(claim.key);
    expect(item.runRef).toBe(refreshRunRef('fan-out', claim));
    // The chord's callback stored the result; its workflow ends once the callback's outcome is recorded.
    await eventually('the chord to succeed', async () => ((await workflows.get(refreshRunRef('fan-out', claim))).status === 'SUCCEEDED' ? true : undefined));
    const result = item.result as SlowViewsResult;
    expect(result.count).toBe(expectedCount(result, params));
  });
});

describe("the io worker's limits", () => {
  it('fan out even a short window at 0 partitions: a chord over its day partitions stores the same count', async () => {
    process.env[REFRESH_PLAN_ENV.oneJobMaxPartitions] = '0';
    const params = { days: 5, minResponseMs: 4000, urlContains: 'blog' };
    const { claim, input } = await claimRefresh(params);
    const before = (await runtime.stats()).queues.io?.sent ?? 0;
    expect(await deliver(claim, input)).toEqual({ stored: true });
    const item = await readyItem(claim.key);
    expect(item.runRef).toBe(refreshRunRef('fan-out', claim));
    const result = item.result as SlowViewsResult;
    expect(result.partitionsRead).toBe(6);
    expect(result.count).toBe(expectedCount(result, params));
    // A job per partition, the chord's callback and its (delayed) deadline check.
    expect(((await runtime.stats()).queues.io?.sent ?? 0) - before).toBe(6 + 1 + 1);
  });

  it('fail the refresh for good when one is set wrong, with a message naming the variable and its range', async () => {
    process.env[REFRESH_PLAN_ENV.oneJobMaxPartitions] = 'many';
    const { claim, input } = await claimRefresh({ days: 5, minResponseMs: 5000, urlContains: 'blog' });
    const error = await deliver(claim, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefreshPlanConfigError);
    const message = 'FERRY_REPORT_ONE_JOB_MAX_PARTITIONS must be a whole number from 0 to 100,000 (got "many")';
    expect((error as Error).message).toBe(message);
    expect(await flight.read(claim.key)).toMatchObject({ phase: 'failed', lastError: { name: 'RefreshPlanConfigError', message } });
  });
});
