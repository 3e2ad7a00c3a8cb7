/**
 * Ferry's Flower, the operations console, invoked as API Gateway invokes it
 * (REST proxy events built by the local runtime's own event code), against
 * the real emulators: a local runtime of the job fixtures' app (DynamoDB
 * Local, fauxqs, the fixture worker), whose environment points the platform
 * code at them. Links are followed as a browser resolves them, under the
 * stage path (`/prod/_ferry/console/...`), so a wrong relative link fails.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, ScheduledEvent } from 'aws-lambda';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';
import { sqsClient } from '../../lib/aws/clients.js';
import { parseScheduleExpression } from '../../lib/app/schedule-expression.js';
import { CONSOLE_DEFAULTS, createConsoleHandler, InvalidConsoleOptionError, pageBase } from '../../lib/console/console-handler.js';
import { nextRunOf, oldestMessageAges } from '../../lib/console/console-data.js';
import { heartbeatChart, overviewPage } from '../../lib/console/console-pages.js';
import { requestFlight } from '../../lib/coordination/flight-task.js';
import { escapeHtml } from '../../lib/http/html.js';
import { heartbeatHandler } from '../../lib/jobs/heartbeat.js';
import { sendToDeadLetterQueue } from '../../lib/jobs/dead-letter.js';
import { DynamoJobStore } from '../../lib/jobs/dynamo-job-store.js';
import { createJobClient } from '../../lib/jobs/enqueue.js';
import { encodeEnvelope, newEnvelope } from '../../lib/jobs/envelope.js';
import { matchRoute, toProxyEvent } from '../../lib/local/rest-event.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { chain, s } from '../../lib/workflows/canvas.js';
import { add, nap, slowSum, steps } from '../fixtures/job-tasks.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { testApp } from '../fixtures/test-app.js';
import { registry, workflows } from '../fixtures/job-worker.js';
import { documentedDefaults } from '../helpers/documented-defaults.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
const jobs = createJobClient({ registry });
const SCHEDULE = `nightly-${randomUUID()}`;
/** What the console logged (a failed request). */
const logged: Record<string, unknown>[] = [];
const consoleHandler = createConsoleHandler({ schedules: [SCHEDULE], log: (entry) => logged.push(entry) });

beforeAll(async () => {
  // Sets process.env to the runtime's environment: the console's platform code reads the emulators' tables and queues.
  runtime = await startTestRuntime(jobsApp, { sqsMetricsIntervalMs: 500 });
});
afterAll(async () => {
  await runtime?.stop();
});

// ---------------------------------------------------------------------------
// Requests as API Gateway makes them, and links as a browser follows them
// ---------------------------------------------------------------------------

const ROUTES: Route[] = [
  { functionId: 'console', method: 'ANY', path: '/_ferry/console', authorization: 'none' },
  { functionId: 'console', method: 'ANY', path: '/_ferry/console/{proxy+}', authorization: 'none' },
];
const STAGE = 'prod';
/** Where the pages are, as a browser sees them: under the stage path. */
const ORIGIN = 'https://api.example.test';

interface Answer extends APIGatewayProxyResult {
  /** The URL the request was made to (the browser's). */
  readonly url: string;
}

/** `method url` as a browser sends it to the deployed API: API Gateway strips the stage and builds the proxy event. */
function eventFor(method: string, url: string, options: { readonly form?: Record<string, string>; readonly base64?: boolean; readonly headers?: [string, string][] } = {}): APIGatewayProxyEvent {
  const parsed = new URL(url, ORIGIN);
  if (!parsed.pathname.startsWith(`/${STAGE}/`)) throw new Error(`${url} is not under the stage path /${STAGE}`);
  const path = parsed.pathname.slice(STAGE.length + 1);
  const match = matchRoute(ROUTES, method, path);
  if (match === undefined) throw new Error(`no console route matches ${method} ${path}`);
  const body = options.form === undefined ? Buffer.alloc(0) : Buffer.from(new URLSearchParams(options.form).toString());
  const headers: [string, string][] = [['Accept', 'text/html'], ['Host', 'api.example.test'], ...(options.form === undefined ? [] : [['Content-Type', 'application/x-www-form-urlencoded'] as [string, string]]), ...(options.headers ?? [])];
  return toProxyEvent(
    { method, path, query: parsed.searchParams, headers, body, sourceIp: '127.0.0.1' },
    match,
    // A binary media type of form posts makes API Gateway pass their bodies base64-encoded.
    { stage: STAGE, binaryMediaTypes: options.base64 === true ? ['application/x-www-form-urlencoded'] : [], apiId: 'local', accountId: '000000000000', host: 'api.example.test' },
  );
}

async function request(method: string, url: string, options?: Parameters<typeof eventFor>[2]): Promise<Answer> {
  const event = eventFor(method, url, options);
  const result = await consoleHandler(event);
  return { ...result, url: new URL(url, ORIGIN).toString() };
}

const get = (url: string) => request('GET', url);
const post = (url: string, form: Record<string, string> = {}, options: { readonly base64?: boolean } = {}) => request('POST', url, { form, ...options });

const CONSOLE = `/${STAGE}/_ferry/console`;

/** Where a link or form action of `page` leads, resolved as a browser resolves it. */
function resolve(page: Answer, href: string): string {
  return new URL(href.replace(/&amp;/g, '&'), page.url).toString();
}

/** Follows a 303 as a browser does. */
async function follow(answer: Answer): Promise<Answer> {
  expect(answer.statusCode, answer.body).toBe(303);
  const location = String(answer.headers?.location);
  return get(new URL(location, answer.url).pathname + new URL(location, answer.url).search);
}

/** Submits the form around `button` (its action and hidden fields) as a browser does. */
async function press(page: Answer, buttonClass: string, within?: string): Promise<Answer> {
  const html = within ?? page.body;
  const form = new RegExp(`<form[^>]*method="post" action="([^"]*)">((?:(?!</form>).)*?<button type="submit" class="[^"]*\\b${buttonClass}\\b[^"]*">)`, 's').exec(html);
  if (form === null) throw new Error(`no button.${buttonClass} in the page`);
  const fields = Object.fromEntries([...(form[2] as string).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [unescape(m[1] as string), unescape(m[2] as string)]));
  const target = new URL(resolve(page, form[1] as string));
  return post(target.pathname + target.search, fields);
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The `<tr>` with `attribute="value"`. */
function row(html: string, attribute: string, value: string): string {
  const found = new RegExp(`<tr [^>]*${attribute}="${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>.*?</tr>`, 's').exec(html);
  if (found === null) throw new Error(`no tr[${attribute}="${value}"] in the page`);
  return found[0];
}

/** The text of the `<td>` with class `cls` in `html`. */
function cell(html: string, cls: string): string {
  const found = new RegExp(`<td class="[^"]*\\b${cls}\\b[^"]*">(.*?)</td>`, 's').exec(html);
  if (found === null) throw new Error(`no td.${cls}`);
  return (found[1] as string).replace(/<[^>]+>/g, '');
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1] as string);
}

/** The text of the element carrying `attribute` (e.g. `data-job-status`). */
function marked(html: string, attribute: string): string | undefined {
  return new RegExp(`${attribute}="([^"]*)"`).exec(html)?.[1];
}

/**
 * Turns the worker's SQS event source off: messages then wait in the queue.
 * Receives already waiting still finish (as on AWS): a message sent takes
 * each; one still waiting after a while shows that no receive waits any more.
 */
async function pauseWorker(): Promise<void> {
  runtime.setEventSourceEnabled('worker', 'jobs', false);
  const url = runtime.resources.queues.jobs?.url ?? '';
  const waiting = async () => Number((await sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages ?? 0);
  for (let round = 0; round < 10; round++) {
    const before = await waiting();
    await sqsClient().send(new SendMessageCommand({ QueueUrl: url, MessageBody: untrackedAdd() }));
    await new Promise((r) => setTimeout(r, 1_500));
    if ((await waiting()) > before) return;
  }
  throw new Error('the worker kept receiving after its event source was disabled');
}

function resumeWorker(): void {
  runtime.setEventSourceEnabled('worker', 'jobs', true);
}

async function withWorkerPaused<T>(body: () => Promise<T>): Promise<T> {
  await pauseWorker();
  try {
    return await body();
  } finally {
    resumeWorker();
  }
}

async function queueNumbers(): Promise<{ depth: number; inFlight: number; delayed: number; deadLetters: number }> {
  const page = await get(`${CONSOLE}`);
  const queue = row(page.body, 'data-queue', 'jobs');
  const n = (cls: string) => Number(cell(queue, cls).replace(/,/g, ''));
  return { depth: n('depth'), inFlight: n('in-flight'), delayed: n('delayed'), deadLetters: n('dead-letters') };
}

/** A message any worker runs harmlessly later. */
function untrackedAdd(): string {
  return encodeEnvelope(newEnvelope(add.name, [1, 2], { tracked: false }));
}

// ---------------------------------------------------------------------------

describe('the console overview', () => {
  it('refreshes itself every 5 seconds, links each queue to its page under the stage path, and says when there are no heartbeats', async () => {
    for (const at of [CONSOLE, `${CONSOLE}/`]) {
      const page = await get(at);
      expect(page.body).toContain('<meta http-equiv="refresh" content="5">');
      const queueLink = hrefs(row(page.body, 'data-queue', 'jobs')).map((href) => resolve(page, href));
      expect(queueLink).toEqual([`${ORIGIN}${CONSOLE}/queues/jobs`]);
      // The navigation leads back to the overview, and to the other pages.
      const nav = hrefs(/<header class="top">.*?<\/header>/s.exec(page.body)?.[0] ?? '').map((href) => new URL(resolve(page, href)).pathname);
      expect(nav).toEqual([CONSOLE, CONSOLE, `${CONSOLE}/jobs`, `${CONSOLE}/schedules`]);
      expect(page.body).toContain('data-heartbeats="none"');
      expect(page.body).toContain('No heartbeats declared');
    }
  });

  it('shows the configured schedules, a schedule that never ticked as such', async () => {
    const page = await get(CONSOLE);
    const schedule = row(page.body, 'data-schedule', SCHEDULE);
    expect(schedule).toContain('class="pill none"');
    expect(schedule).toContain('never');
    const found = await get(`${CONSOLE}/schedules`);
    expect(found.statusCode).toBe(200);
    expect(row(found.body, 'data-schedule', SCHEDULE)).toContain('class="pill none"');
    expect(found.body).toMatch(/Bounded scan: read \d+ item/);
  });

  it('shows a declared schedule\'s expression and next run: a cron\'s next matching minute; a rate\'s only once it has ticked', async () => {
    const now = Date.parse('2026-11-22T10:11:12Z');
    const cron = `digest-${randomUUID()}`;
    const rate = `sweep-${randomUUID()}`;
    const handler = createConsoleHandler({ schedules: [{ name: cron, expression: 'cron(0 3 * * ? *)' }, { name: rate, expression: 'rate(1 hour)' }], now: () => now });
    const page = await handler(eventFor('GET', CONSOLE));
    expect(page.statusCode).toBe(200);
    const cronRow = row(page.body, 'data-schedule', cron);
    expect(cronRow).toContain('cron(0 3 * * ? *)');
    expect(cronRow).toContain('data-next-run="2026-11-23T03:00:00.000Z"');
    // No tick yet: EventBridge counts a rate from the rule's creation, which the console does not know.
    expect(row(page.body, 'data-schedule', rate)).not.toContain('data-next-run');
  });

  it('opens a job, a workflow or a key from its look-up forms, percent-encoding the id', async () => {
    const page = await get(CONSOLE);
    const action = /<form method="get" action="([^"]*)"><label for="lookup-flight"/.exec(page.body)?.[1] ?? '';
    const target = new URL(resolve(page, action));
    target.searchParams.set('flight', 'report/daily:2026');
    const answer = await get(target.pathname + target.search);
    expect(answer.statusCode).toBe(303);
    expect(new URL(String(answer.headers?.location), answer.url).pathname).toBe(`${CONSOLE}/flights/report%2Fdaily%3A2026`);
    const empty = await get(`${CONSOLE}/lookup?job=`);
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('give a job id (job=)');
  });
});

describe('the heartbeats on the overview', () => {
  const settings = { queues: ['jobs'], table: 'state', lateAfterMs: 1_500, highResolution: false };
  const tick = (): ScheduledEvent => ({ version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: {} });

  it('charts each canary: one waiting past lateAfter is LATE, drawn as waiting; once a worker starts canaries quickly it is OK', async () => {
    process.env.FERRY_HEARTBEAT = JSON.stringify(settings);
    try {
      await withWorkerPaused(async () => {
        await heartbeatHandler({ log: () => undefined })(tick());
        await new Promise((r) => setTimeout(r, settings.lateAfterMs + 300));
        const page = await get(CONSOLE);
        expect(/data-heartbeat-status="jobs">([A-Z ]+)</.exec(page.body)?.[1]).toBe('LATE');
        const chart = /<svg class="heartbeat" data-heartbeat="jobs".*?<\/svg>/s.exec(page.body)?.[0] ?? '';
        expect(chart).toMatch(/<rect class="bar waiting late"[^>]*data-waiting="true"/);
        expect(chart).toContain('<line class="threshold"');
      });
      // The worker takes the waiting canary; new ones start at once, and the newest start decides.
      await eventually('the heartbeat to be OK again', async () => {
        await heartbeatHandler({ log: () => undefined })(tick());
        const page = await get(CONSOLE);
        return /data-heartbeat-status="jobs">OK</.test(page.body) ? page : undefined;
      }, 20_000);
      const chart = /<svg class="heartbeat" data-heartbeat="jobs".*?<\/svg>/s.exec((await get(CONSOLE)).body)?.[0] ?? '';
      expect(chart).toMatch(/<rect class="bar ok"/);
    } finally {
      delete process.env.FERRY_HEARTBEAT;
    }
  });

  it('draws OK, LATE and NO DATA from the samples alone (a pure rendering)', () => {
    const now = Date.parse('2026-05-01T12:00:00Z');
    const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
    const html = overviewPage(
      { base: '', overview: './', now },
      {
        queues: [],
        ages: { byName: {} },
        schedules: [],
        schedulesConfigured: false,
        heartbeats: {
          declared: true,
          lateAfterMs: 2_000,
          views: [
            { queue: 'io', state: 'ok', latencyMs: 120, samples: [{ queue: 'io', id: 'io:2', sentAt: at(60), startedAt: at(59.88), latencyMs: 120 }, { queue: 'io', id: 'io:1', sentAt: at(120), startedAt: at(119), latencyMs: 1_000 }] },
            { queue: 'cpu', state: 'late', latencyMs: 30_000, samples: [{ queue: 'cpu', id: 'cpu:1', sentAt: at(30) }] },
            { queue: 'batch', state: 'no-data', samples: [] },
          ],
        },
      },
    );
    expect(/data-heartbeat-status="io">([A-Z ]+)</.exec(html)?.[1]).toBe('OK');
    expect(/data-heartbeat-status="cpu">([A-Z ]+)</.exec(html)?.[1]).toBe('LATE');
    expect(/data-heartbeat-status="batch">([A-Z ]+)</.exec(html)?.[1]).toBe('NO DATA');
    const io = /<svg class="heartbeat" data-heartbeat="io".*?<\/svg>/s.exec(html)?.[0] ?? '';
    // Oldest on the left: the 1-second start, then the 120 ms one.
    expect([...io.matchAll(/data-latency-ms="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([1_000, 120]);
    expect(heartbeatChart({ queue: 'cpu', samples: [{ queue: 'cpu', id: 'cpu:1', sentAt: at(30) }] }, 2_000, now)).toContain('waiting 30 s so far');
  });
});

describe('queues and dead letters, while no worker takes their messages', () => {
  beforeAll(pauseWorker);
  afterAll(resumeWorker);

  it("lists each queue with SQS's counts: messages sent while no worker takes them are waiting, a delayed one is delayed", async () => {
    const before = await queueNumbers();
    await Promise.all([1, 2, 3].map((n) => jobs.enqueue(add, [n, n])));
    await jobs.enqueue(add, [9, 9], { delay: seconds(120) });
    const page = await get(CONSOLE);
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    const queue = row(page.body, 'data-queue', 'jobs');
    expect(Number(cell(queue, 'depth'))).toBe(before.depth + 3);
    expect(Number(cell(queue, 'delayed'))).toBe(before.delayed + 1);
    expect(cell(queue, 'in-flight')).toBe(String(before.inFlight));
    expect(cell(queue, 'dead-letters')).toBe(String(before.deadLetters));
    // Its physical name is shown beside the id.
    expect(queue).toContain(runtime.resources.queues.jobs?.url.split('/').pop() ?? 'none');
  });

  it("shows each queue's oldest message age from CloudWatch (SQS's metric, which the runtime samples as SQS publishes it), on the overview and the queue's page", async () => {
    // The messages sent while the worker is paused are waiting: the oldest grows older.
    const overviewAge = await eventually('an age of 2 s or more', async () => {
      const queue = row((await get(CONSOLE)).body, 'data-queue', 'jobs');
      const seconds = Number(/data-age-seconds="(\d+)"/.exec(queue)?.[1] ?? -1);
      return seconds >= 2 ? seconds : undefined;
    });
    expect(overviewAge).toBeLessThan(600);
    const page = await get(`${CONSOLE}/queues/jobs`);
    expect(page.body).toMatch(/Oldest message: <strong data-age-seconds="\d+">\d+(\.\d)? (s|min)<\/strong>/);
  });

  it('asks CloudWatch for at most 500 queues per call (its limit), so a long list still gets every age', async () => {
    const jobs = runtime.resources.queues.jobs;
    if (jobs === undefined) throw new Error('no jobs queue');
    const others = Array.from({ length: 600 }, (_, i) => ({ id: `other${i}`, url: `${jobs.url}-other${i}`, name: `${jobs.name}-other${i}` }));
    const ages = await oldestMessageAges([...others, { id: 'jobs', url: jobs.url, name: jobs.name }], Date.now());
    expect(ages.error).toBeUndefined();
    expect(Object.keys(ages.byName)).toEqual([jobs.name]);
  });

  it('lists a dead letter with its recorded reason, escaped, and moves it back with its Redrive button', async () => {
    const jobId = `job-${randomUUID()}`;
    await sendToDeadLetterQueue('jobs', untrackedAdd(), {
      cause: 'non-retryable',
      errorName: 'NonRetryableError',
      errorMessage: 'the ledger is <locked> & closed',
      attempts: 3,
      task: add.name,
      jobId,
      queue: 'jobs',
      deadAt: new Date().toISOString(),
    });
    const before = await queueNumbers();
    expect(before.deadLetters).toBeGreaterThanOrEqual(1);

    const page = await get(`${CONSOLE}/queues/jobs`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<meta http-equiv="refresh"');
    const messageId = [...page.body.matchAll(/<tr data-message-id="([^"]+)">(.*?)<\/tr>/gs)].find((m) => (m[2] as string).includes(jobId))?.[1];
    expect(messageId).toBeDefined();
    const letter = row(page.body, 'data-message-id', messageId ?? '');
    expect(letter).toContain('after 3 attempts: <strong>NonRetryableError</strong>: <span class="reason">the ledger is &lt;locked&gt; &amp; closed</span>');
    expect(letter).toContain('button type="submit" class="redrive"');
    expect(page.body).toContain('class="redrive-all"');

    const back = await follow(await press(page, 'redrive', letter));
    expect(back.url).toContain(`${CONSOLE}/queues/jobs?notice=`);
    expect(/<div class="notice" role="status">(.*?)<\/div>/.exec(back.body)?.[1]).toBe(`Dead letter ${messageId} moved back to queue jobs.`);
    expect(back.body).not.toContain(`data-message-id="${messageId}"`);
    const after = await queueNumbers();
    expect(after.deadLetters).toBe(before.deadLetters - 1);
    expect(after.depth).toBe(before.depth + 1);

    // Pressed again (the page was stale): nothing moves, and the notice says so as a problem.
    const again = await follow(await post(`${CONSOLE}/queues/jobs/redrive`, { messageId: messageId ?? '' }, { base64: true }));
    expect(/<div class="notice problem" role="status">(.*?)<\/div>/.exec(again.body)?.[1]).toContain(`No dead letter ${messageId} found`);
  });

  it('moves every dead letter back with Redrive all (a form body that arrives base64-encoded)', async () => {
    const reason = { cause: 'attempts-exhausted' as const, errorName: 'Error', errorMessage: 'down', attempts: 1, task: add.name, queue: 'jobs', deadAt: new Date().toISOString() };
    await sendToDeadLetterQueue('jobs', untrackedAdd(), reason);
    await sendToDeadLetterQueue('jobs', untrackedAdd(), reason);
    const before = await queueNumbers();
    const answer = await post(`${CONSOLE}/queues/jobs/redrive`, {}, { base64: true });
    const back = await follow(answer);
    expect(/<div class="notice" role="status">(.*?)<\/div>/.exec(back.body)?.[1]).toBe(`${before.deadLetters} dead letters moved back to queue jobs.`);
    expect(back.body).toContain('data-dead-letters="none"');
    const after = await queueNumbers();
    expect(after).toMatchObject({ deadLetters: 0, depth: before.depth + before.deadLetters });
  });

  it('answers 404 naming a queue the function has no variable for', async () => {
    const page = await get(`${CONSOLE}/queues/nope`);
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('no queue &quot;nope&quot; in this function&#39;s environment');
    expect(page.body).toContain('Known: jobs');
  });
});

describe('a job page', () => {
  it('shows a queued job and cancels it with its Cancel button; a finished job cannot be cancelled, and the page says why', async () => {
    const { jobId } = await jobs.enqueue(steps, { key: randomUUID(), steps: 1, stepMs: 0 }, { delay: seconds(60) });
    const page = await get(`${CONSOLE}/jobs/${jobId}`);
    expect(page.statusCode).toBe(200);
    expect(marked(page.body, 'data-job-status')).toBe('QUEUED');
    expect(page.body).toContain(`<dd>${steps.name}</dd>`);
    const back = await follow(await press(page, 'cancel'));
    expect(marked(back.body, 'data-job-status')).toBe('CANCELLED');
    expect(back.body).toContain(`Job ${jobId} cancelled: it will not run.`);
    expect(back.body).not.toContain('class="cancel');
    expect((await jobs.getJob(jobId)).status).toBe('CANCELLED');

    const done = await jobs.enqueue(add, [20, 22]);
    await eventually('the job to succeed', async () => ((await jobs.getJob(done.jobId)).status === 'SUCCEEDED' ? true : undefined), 20_000);
    const finished = await get(`${CONSOLE}/jobs/${done.jobId}`);
    expect(marked(finished.body, 'data-job-status')).toBe('SUCCEEDED');
    expect(/<pre data-job-result>(.*?)<\/pre>/s.exec(finished.body)?.[1]).toBe('42');
    const refused = await follow(await post(`${CONSOLE}/jobs/${done.jobId}/cancel`));
    expect(/<div class="notice problem" role="status">(.*?)<\/div>/.exec(refused.body)?.[1]).toBe(`job ${done.jobId} is SUCCEEDED; only a QUEUED job can be cancelled`);
  });

  it("escapes a job's error, task and id: a <script> in an error message is text", async () => {
    const store = new DynamoJobStore();
    const task = `test.escape-${randomUUID()}`;
    const jobId = `esc-${randomUUID()}"<b>`;
    const job = { jobId, task, queue: 'jobs', maxAttempts: 1, enqueuedAt: new Date().toISOString(), traceId: randomUUID(), ttlMs: 600_000 };
    await store.create(job);
    await store.claim(job, 1, 60_000);
    await store.fail(jobId, 1, { name: 'Error', message: '<script>alert("owned")</script>' }, true, undefined, 'non-retryable');

    const page = await get(`${CONSOLE}/jobs/${encodeURIComponent(jobId)}`);
    expect(page.statusCode).toBe(200);
    expect(marked(page.body, 'data-job-status')).toBe('FAILED');
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<b>');
    expect(page.body).toContain('<strong>Error</strong>: &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
    expect(page.body).toContain(`<h1>Job <code>${escapeHtml(jobId)}</code></h1>`);
    expect(escapeHtml(jobId)).toMatch(/&quot;&lt;b&gt;$/);

    // The jobs list finds it by its task, counts it, and links to it.
    const list = await get(`${CONSOLE}/jobs?task=${encodeURIComponent(task)}&status=FAILED`);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain('<script>');
    const listed = row(list.body, 'data-job-id', escapeHtml(jobId));
    expect(cell(listed, 'state')).toBe('FAILED');
    expect(hrefs(listed).map((href) => new URL(resolve(list, href)).pathname)).toEqual([`${CONSOLE}/jobs/${encodeURIComponent(jobId)}`]);
    expect(list.body).toMatch(/data-count="FAILED"><span class="pill failed">FAILED 1<\/span>/);
    expect(list.body).toMatch(/<p class="muted small" data-scan-items="\d+">Bounded scan: read \d+ items? of the state table/);
  });

  it('lists recent jobs by status, and refuses a status that is none', async () => {
    const { jobId } = await jobs.enqueue(steps, { key: randomUUID(), steps: 1, stepMs: 0 }, { delay: seconds(60) });
    const list = await get(`${CONSOLE}/jobs?status=QUEUED&task=${steps.name}`);
    expect(cell(row(list.body, 'data-job-id', jobId), 'state')).toBe('QUEUED');
    for (const m of list.body.matchAll(/<td class="state">(.*?)<\/td>/g)) expect((m[1] as string).replace(/<[^>]+>/g, '')).toBe('QUEUED');
    await jobs.cancel(jobId);
    const bad = await get(`${CONSOLE}/jobs?status=DONE`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('status must be one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED (got &quot;DONE&quot;)');
  });

  it('answers 404 naming a job nobody knows', async () => {
    const page = await get(`${CONSOLE}/jobs/no-such-job`);
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('no job no-such-job is known');
    expect(hrefs(page.body).map((href) => new URL(resolve(page, href)).pathname)).toContain(CONSOLE);
  });
});

describe('a workflow page', () => {
  it('shows the tree with each node\'s state and the progress of a finished workflow', async () => {
    const { workflowId } = await workflows.start(chain(s(add, [1, 2]), s(add, [3])));
    await eventually('the workflow to end', async () => ((await workflows.get(workflowId)).status === 'SUCCEEDED' ? true : undefined), 30_000);
    const page = await get(`${CONSOLE}/workflows/${workflowId}`);
    expect(page.statusCode).toBe(200);
    expect(marked(page.body, 'data-workflow-status')).toBe('SUCCEEDED');
    expect(page.body).toContain('<progress value="2" max="2">');
    const nodes = [...page.body.matchAll(/<tr data-node-id="([^"]+)">(.*?)<\/tr>/gs)];
    expect(nodes).toHaveLength(3);
    expect(nodes.map((n) => cell(n[2] as string, 'state'))).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(nodes[1]?.[2]).toContain(`<strong>${add.name}</strong>`);
    expect(/<pre>(.*?)<\/pre>/s.exec(page.body)?.[1]).toBe('6');
    expect(page.body).not.toContain('class="cancel');
  });

  it('cancels a running workflow with its Cancel button', async () => {
    const { workflowId } = await workflows.start(chain(s(nap, [4_000]), s(add, [1, 2])));
    const page = await get(`${CONSOLE}/workflows/${workflowId}`);
    expect(marked(page.body, 'data-workflow-status')).toBe('RUNNING');
    expect(page.body).toContain('<progress value="0" max="2">');
    const back = await follow(await press(page, 'cancel'));
    expect(marked(back.body, 'data-workflow-status')).toBe('CANCELLED');
    expect(back.body).toContain(`Workflow ${workflowId} cancelled: its pending members will not run.`);
    expect((await workflows.get(workflowId)).status).toBe('CANCELLED');
    const last = [...back.body.matchAll(/<tr data-node-id="([^"]+)">(.*?)<\/tr>/gs)].pop();
    expect(cell(last?.[2] ?? '', 'state')).toBe('CANCELLED');
  });

  it('answers 404 naming a workflow nobody knows', async () => {
    const page = await get(`${CONSOLE}/workflows/nope-${'x'.repeat(4)}`);
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('no workflow nope-xxxx is known');
  });
});

describe('a single-flight key page', () => {
  it('shows a key with / and : in it, and its Force refresh makes the result stale', async () => {
    const key = `report/${randomUUID()}:daily`;
    const params = { values: [1, 2, 3] };
    await requestFlight(slowSum, key, params);
    await eventually('the key to be ready', async () => ((await requestFlight(slowSum, key, params)).state === 'ready' ? true : undefined), 30_000);
    const page = await get(`${CONSOLE}/flights/${encodeURIComponent(key)}`);
    expect(page.statusCode).toBe(200);
    expect(marked(page.body, 'data-flight-phase')).toBe('ready');
    expect(marked(page.body, 'data-flight-freshness')).toBe('fresh');
    expect(page.body).toContain(`<code>${key}</code>`);
    const back = await follow(await press(page, 'refresh'));
    expect(new URL(back.url).pathname).toBe(`${CONSOLE}/flights/${encodeURIComponent(key)}`);
    expect(back.body).toContain(`Key ${key}: its result is stale now`);
    expect(marked(back.body, 'data-flight-phase')).toBe('ready');
    expect(marked(back.body, 'data-flight-freshness')).toBe('stale');
    // The next request serves the stale result and refreshes it.
    expect(await requestFlight(slowSum, key, params)).toMatchObject({ state: 'ready', stale: true, refreshing: true });
    const refreshing = await get(`${CONSOLE}/flights/${encodeURIComponent(key)}`);
    expect(['queued', 'running']).toContain(marked(refreshing.body, 'data-flight-phase'));
  });

  it('answers 404 naming a key nobody computed', async () => {
    const page = await get(`${CONSOLE}/flights/${encodeURIComponent('none/of:this')}`);
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('no single-flight key &quot;none/of:this&quot;');
  });
});

describe('routing and errors', () => {
  it('answers 404 for an unknown path, with the navigation back to the overview', async () => {
    for (const path of ['/nowhere', '/queues', '/queues/jobs/extra', '/workflows', '/schedules/x']) {
      const page = await get(`${CONSOLE}${path}`);
      expect(page.statusCode, path).toBe(404);
      expect(page.body).toContain('<h1>404 Not found</h1>');
      expect(new URL(resolve(page, hrefs(page.body)[0] ?? '')).pathname).toBe(CONSOLE);
    }
  });

  it('answers 405 with Allow to a wrong method', async () => {
    const get405 = await get(`${CONSOLE}/jobs/x/cancel`);
    expect(get405.statusCode).toBe(405);
    expect(get405.headers).toMatchObject({ allow: 'POST' });
    const post405 = await post(`${CONSOLE}/queues/jobs`);
    expect(post405.statusCode).toBe(405);
    expect(post405.headers).toMatchObject({ allow: 'GET' });
    expect(post405.body).toContain('POST is not allowed on /queues/jobs: use GET');
  });

  it("refuses a form another site's page posts", async () => {
    const answer = await request('POST', `${CONSOLE}/queues/jobs/redrive`, { form: {}, headers: [['Sec-Fetch-Site', 'cross-site']] });
    expect(answer.statusCode).toBe(403);
    expect(answer.body).toContain('a form of another site may not act on the console');
  });

  it('answers 500 with the error message when the platform fails (a missing table variable)', async () => {
    const saved = process.env.FERRY_TABLE_STATE;
    delete process.env.FERRY_TABLE_STATE;
    try {
      const page = await get(`${CONSOLE}/jobs/anything`);
      expect(page.statusCode).toBe(500);
      expect(page.body).toContain('MissingResourceEnvError: FERRY_TABLE_STATE is not set');
      expect(logged.at(-1)).toMatchObject({ level: 'error', msg: 'console request failed', method: 'GET', path: '/_ferry/console/jobs/anything', error: { name: 'MissingResourceEnvError' } });
    } finally {
      process.env.FERRY_TABLE_STATE = saved;
    }
  });
});

describe('pageBase', () => {
  const at = (path: string, proxy?: string) =>
    pageBase({ path, resource: proxy === undefined ? '/_ferry/console' : '/_ferry/console/{proxy+}', pathParameters: proxy === undefined ? null : { proxy } });

  it('makes links relative to the page, however deep, and keeps an encoded / in a key one segment', () => {
    expect(at('/_ferry/console')).toEqual({ base: 'console/', overview: 'console' });
    expect(at('/_ferry/console/')).toEqual({ base: '', overview: '../console' });
    expect(at('/_ferry/console/jobs', 'jobs')).toEqual({ base: '', overview: '../console' });
    expect(at('/_ferry/console/queues/io', 'queues/io')).toEqual({ base: '../', overview: '../../console' });
    expect(at('/_ferry/console/flights/report%2Fdaily', 'flights/report/daily')).toEqual({ base: '../', overview: '../../console' });
    expect(at('/_ferry/console/jobs/a/cancel', 'jobs/a/cancel')).toEqual({ base: '../../', overview: '../../../console' });
  });
});

describe('createConsoleHandler options', () => {
  const docs = documentedDefaults('lib/console/console-handler.ts');

  it('documents the defaults the code applies', () => {
    for (const option of ['scanPages', 'jobRows', 'deadLetters', 'redriveMax'] as const) expect(docs.number('ConsoleOptions', option), option).toBe(CONSOLE_DEFAULTS[option]);
  });

  it('refuses an option out of its range, naming it', () => {
    expect(() => createConsoleHandler({ scanPages: 0 })).toThrow(InvalidConsoleOptionError);
    expect(() => createConsoleHandler({ scanPages: 0 })).toThrow('createConsoleHandler: scanPages must be a whole number from 1 to 100 (got 0)');
    expect(() => createConsoleHandler({ schedules: [''] })).toThrow('createConsoleHandler: schedules must be a list of non-empty schedule names or { name, expression } (app.schedules) (got "")');
    expect(() => createConsoleHandler({ schedules: [{ name: 'x', expression: 'rate(0 minutes)' }] })).toThrow(/schedules must be names or \{ name, expression \} with a valid expression: Invalid schedule expression "rate\(0 minutes\)"/);
  });

  it('takes the declared schedules as they are (app.schedules: parsed expressions)', async () => {
    const nightly = testApp.schedules.find((s) => s.name === 'nightly');
    expect(nightly?.expression.source).toBe('cron(0 3 * * ? *)');
    const handler = createConsoleHandler({ schedules: testApp.schedules, now: () => Date.parse('2026-11-22T03:00:00Z') });
    const page = await handler(eventFor('GET', CONSOLE));
    expect(row(page.body, 'data-schedule', 'nightly')).toContain('data-next-run="2026-11-23T03:00:00.000Z"');
  });
});

describe('nextRunOf', () => {
  const now = Date.parse('2026-11-22T10:11:12Z');
  it('gives a cron expression\'s next matching minute, exactly', () => {
    expect(nextRunOf(parseScheduleExpression('cron(*/15 * * * ? *)'), undefined, now)).toEqual({ at: '2026-11-22T10:15:00.000Z', approximate: false });
  });
  it('gives a rate\'s next step after the last tick, as approximate, and nothing before a tick', () => {
    const hourly = parseScheduleExpression('rate(1 hour)');
    expect(nextRunOf(hourly, '2026-11-22T09:40:00.000Z', now)).toEqual({ at: '2026-11-22T10:40:00.000Z', approximate: true });
    // Ticks missed (the schedule was disabled a while): still on the rule's grid.
    expect(nextRunOf(hourly, '2026-11-22T06:40:00.000Z', now)).toEqual({ at: '2026-11-22T10:40:00.000Z', approximate: true });
    expect(nextRunOf(hourly, undefined, now)).toBeUndefined();
  });
});
