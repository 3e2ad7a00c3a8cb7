/**
 * The end-to-end suite: Ferry's public HTTP contract, against whichever
 * target `FERRY_E2E_TARGET` names (see target.ts). It speaks only HTTP, so
 * the same assertions hold on the embedded runtime, LocalStack and AWS.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { resources } from '../../app/resources.js';
import { seedPageViews } from '../../app/reports/seed-page-views.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { resolveTarget } from './target.js';
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { seconds } from '../../lib/app/duration.js';
import { queueUrl } from '../../lib/app/resource-env.js';
import { sqsClient } from '../../lib/aws/clients.js';
import { processPing } from '../../app/demo/pings.js';
import { deadLetterReasonOf, redrive } from '../../lib/jobs/dead-letter.js';
import { jobs } from '../../lib/jobs/enqueue.js';
import { encodeEnvelope, newEnvelope } from '../../lib/jobs/envelope.js';
import { inspectQueue } from '../helpers/queues.js';

const target = resolveTarget(process.env, (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
});
let runtime: LocalRuntime | undefined;
let api = '';

beforeAll(async () => {
  if (target.kind === 'local') {
    // What is deployed: the bundles `cdk synth` writes (not the sources), and only the deployed
    // paths (a link that works at the root but not under the stage fails here, as on AWS).
    runtime = await startTestRuntime(undefined, { serveRoot: false, code: 'bundles' });
    await seedPageViews({ rows: 2_000, days: 30 });
    // The deployed URL ends with the stage; the local API serves the same paths.
    api = `${runtime.url}/${resources.api.stageName}`;
  } else {
    api = target.apiUrl;
  }
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

const remote = target.kind !== 'local';
/** Remote targets are slower (cold starts, real queues). */
const patience = remote ? 120_000 : 30_000;

describe(`Ferry on ${target.kind}`, () => {
  it('answers GET /health', async () => {
    const response = await fetch(`${api}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'ferry' });
  });

  it('runs the ping job a POST enqueues, through the queue and the worker', async () => {
    const created = await fetch(`${api}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'e2e' }) });
    expect(created.status).toBe(202);
    const { ping, jobId } = (await created.json()) as { ping: { id: string }; jobId: string };
    const processed = await eventually('the ping to be processed', async () => {
      const answer = (await (await fetch(`${api}/pings/${ping.id}`)).json()) as { ping: { status: string; jobId?: string } };
      return answer.ping.status === 'processed' ? answer.ping : undefined;
    }, patience);
    expect(processed.jobId).toBe(jobId);
  }, patience + 10_000);

  it.each(['io', 'cpu'])('runs a ping job on the %s pool, so every declared worker pool is proven end to end', async (pool) => {
    const created = await fetch(`${api}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'pool', pool }) });
    expect(created.status).toBe(202);
    const { ping } = (await created.json()) as { ping: { id: string; pool: string } };
    expect(ping.pool).toBe(pool);
    await eventually(`the ping on ${pool} to be processed`, async () => {
      const answer = (await (await fetch(`${api}/pings/${ping.id}`)).json()) as { ping: { status: string } };
      return answer.ping.status === 'processed' ? true : undefined;
    }, patience);
  }, patience + 10_000);

  it('refuses a ping for a pool that is not declared with 400 naming the pools', async () => {
    const response = await fetch(`${api}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pool: 'gpu' }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('"pool" must be one of io, cpu (got "gpu")');
  });

  it('serves the report: 202 while it is computed, then 200 with the count', async () => {
    const path = `${api}/reports/slow-blog-views?days=${remote ? 30 : 29}`;
    const first = await fetch(path, { headers: { accept: 'application/json' } });
    expect([200, 202]).toContain(first.status);
    const ready = await eventually('the report', async () => {
      const response = await fetch(path, { headers: { accept: 'application/json' } });
      const body = (await response.json()) as { state: string; result?: { count: number } };
      expect(body.state).not.toBe('failed');
      return response.status === 200 ? body : undefined;
    }, patience);
    // Locally the suite seeded 2,000 views, so some are slow blog views; a deployed target may hold no data.
    if (remote) expect(ready.result?.count).toBeGreaterThanOrEqual(0);
    else expect(ready.result?.count).toBeGreaterThan(0);
  }, patience + 10_000);

  it('refuses bad report parameters with 400 naming them', async () => {
    const response = await fetch(`${api}/reports/slow-blog-views?days=0`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('"days" must be an integer from 1 to 365 (got "0")');
  });

  it.runIf(target.kind === 'local')('runs the synthesized bundles in sandboxes of their own, under the local runtime\'s IAM checks', () => {
    for (const settings of Object.values(runtime?.functions ?? {})) expect(settings.codeFile).toMatch(/[/\\]asset\.[0-9a-f]+[/\\]index\.mjs$/);
    const sandboxes = runtime?.sandboxes() ?? {};
    // One pool per declared function; the report's request path and both worker pools ran.
    expect(Object.keys(sandboxes).sort()).toEqual(Object.keys(runtime?.functions ?? {}).sort());
    for (const id of ['api', 'cpuWorker', 'ioWorker']) expect(sandboxes[id]?.started, id).toBeGreaterThanOrEqual(1);
    const enforcement = runtime?.enforcement();
    // The bundles' own copy of the SDK clients carries the checks: calls were checked, none refused.
    expect(enforcement?.iamChecked).toBeGreaterThan(20);
    expect(enforcement).toMatchObject({ iamDenied: 0, lateCallsRefused: 0, sqsRefused: 0 });
  });

  it('answers a path the API does not declare with 403 Missing Authentication Token, as API Gateway does', async () => {
    const response = await fetch(`${api}/no-such-path`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('returns only links and Locations that work where the API is served (under its stage)', async () => {
    const followed: string[] = [];
    const follow = async (link: string, from: string, accept = 'text/html') => {
      const url = new URL(link, from).toString();
      const response = await fetch(url, { headers: { accept } });
      followed.push(`${response.status} ${url}`);
      expect([200, 202], `${link} (from ${from}) answered ${response.status}`).toContain(response.status);
      return response;
    };
    const hrefs = (html: string) => [...html.matchAll(/(?:href|action)="([^"]+)"/g)].map((m) => (m[1] ?? '').replaceAll('&amp;', '&'));

    const created = await fetch(`${api}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'links' }) });
    await follow(created.headers.get('location') ?? '', `${api}/pings`, 'application/json');

    const listed = (await (await fetch(`${api}/reports`, { headers: { accept: 'application/json' } })).json()) as { reports: { href: string }[] };
    for (const report of listed.reports) await follow(report.href, `${api}/reports`, 'application/json');

    const index = `${api}/reports`;
    for (const link of hrefs(await (await follow(index, index)).text())) {
      const page = await follow(link, index);
      for (const next of hrefs(await page.text())) await follow(next, page.url);
    }
    const bad = `${api}/reports/slow-blog-views?days=0`;
    const badPage = await fetch(bad, { headers: { accept: 'text/html' } });
    expect(badPage.status).toBe(400);
    for (const link of hrefs(await badPage.text())) await follow(link, bad);
    expect(followed.length).toBeGreaterThan(8);
  }, patience + 30_000);
});

/**
 * The job flows the README documents, run by the sandboxed bundles under IAM
 * (local target only: they need the queues and the job client, not just HTTP).
 * A ping whose id names no ping fails for good (PingNotFoundError), which
 * makes dead letters, redrive and cancel observable with Ferry's own task.
 */
describe.runIf(target.kind === 'local')('job flows on the sandboxed bundles', () => {
  const local = () => {
    if (runtime === undefined) throw new Error('no local runtime');
    return runtime;
  };
  const ioQueue = () => local().resources.queues.io ?? { name: '', url: '', deadLetter: { name: '', url: '' } };

  it('dead-letters a job that cannot succeed with its reason, and redrive moves it back to be run again', async () => {
    const { jobId } = await jobs.enqueue(processPing, { pingId: randomUUID() });
    const reason = await eventually('the dead letter', async () => {
      const message = (await inspectQueue(local(), ioQueue().deadLetter.name)).ready.find((m) => m.body.includes(jobId));
      return message && deadLetterReasonOf(message.messageAttributes);
    }, patience);
    expect(reason).toMatchObject({ cause: 'non-retryable', errorName: 'PingNotFoundError', task: 'demo.ping', jobId });
    expect(await jobs.getJob(jobId)).toMatchObject({ status: 'FAILED' });
    expect((await redrive('io')).moved).toBeGreaterThanOrEqual(1);
    // Moved back, run again by the worker, and dead-lettered again: the whole loop works under the deployed grants.
    await eventually('the redriven job to fail again', async () =>
      (await jobs.getJob(jobId)).status === 'FAILED' && (await inspectQueue(local(), ioQueue().deadLetter.name)).ready.some((m) => m.body.includes(jobId)) ? true : undefined, patience);
    expect(local().enforcement().iamDenied).toBe(0);
  }, patience * 2);

  it('skips a job cancelled while queued, and keeps it CANCELLED', async () => {
    const { jobId } = await jobs.enqueue(processPing, { pingId: randomUUID() }, { delay: seconds(2) });
    expect(await jobs.cancel(jobId)).toMatchObject({ status: 'CANCELLED' });
    await eventually('the delayed message to be received and deleted', async () => {
      const queue = await inspectQueue(local(), ioQueue().name);
      return [...queue.ready, ...queue.delayed, ...queue.inflight.map((m) => m.message)].some((m) => m.body.includes(jobId)) ? undefined : true;
    }, patience);
    // Had the worker run it, the ping's missing id would have failed it.
    expect(await jobs.getJob(jobId)).toMatchObject({ status: 'CANCELLED' });
  }, patience + 10_000);

  it('carries a delay beyond 15 minutes in the envelope: the sandboxed worker sends the job on (it may send to its own queue)', async () => {
    const envelope = newEnvelope(processPing.name, { pingId: randomUUID() }, { tracked: false, notBefore: new Date(Date.now() + 20 * 60_000) });
    await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl('io'), MessageBody: encodeEnvelope(envelope) }));
    await eventually('the job to be sent on, delayed', async () =>
      (await inspectQueue(local(), ioQueue().name)).delayed.some((m) => m.body.includes(envelope.jobId)) ? true : undefined, patience);
    expect(local().enforcement().iamDenied).toBe(0);
  }, patience + 10_000);
});
