/**
 * `npm run bench:ops`: what operations cost, against baselines in the same run.
 *
 * - **Queue heartbeats**: AWS calls and DynamoDB writes per tick per queue
 *   (the sender's record and canary, the worker's start record), and
 *   tick-to-start latency on an idle pool; beside a tracked job of the same
 *   pool (enqueue to start, and its calls), the cheapest job Ferry records.
 * - **The console**: latency and AWS calls of the overview (every queue's
 *   counts, every heartbeat queue's recent canaries) and of a queue's page
 *   with ten dead letters (and CloudWatch's GetMetricData for the oldest
 *   message's age); beside the least a hand-written check costs: one
 *   `GetQueueAttributes` per queue and per dead-letter queue.
 *
 * Counted in this process: the functions run from their sources here (the
 * event source mapping's receives and deletes are not counted; they are the
 * same for a canary as for any job).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { deadLetterQueueUrl, queueUrl } from '../lib/app/resource-env.js';
import { sqsClient } from '../lib/aws/clients.js';
import type { Route } from '../lib/app/define-app.js';
import { createConsoleHandler } from '../lib/console/console-handler.js';
import { sendToDeadLetterQueue } from '../lib/jobs/dead-letter.js';
import { createJobClient } from '../lib/jobs/enqueue.js';
import { encodeEnvelope, newEnvelope } from '../lib/jobs/envelope.js';
import { recentHeartbeats } from '../lib/jobs/heartbeat.js';
import { matchRoute, toProxyEvent } from '../lib/local/rest-event.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { heartbeatApp } from '../test/fixtures/heartbeat-app.js';
import { CallCounter } from './call-counter.js';
import { Figures, percentile } from './figures.js';

const TICKS = Number(process.env.BENCH_TICKS ?? 30);
const JOBS = Number(process.env.BENCH_JOBS ?? 30);
const PAGES = Number(process.env.BENCH_PAGES ?? 50);
const figures = new Figures('ops');
const SCHEDULE = 'beats-heartbeat';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function report(metric: string, values: number[], unit: string, labels: Record<string, string | number>): void {
  const sorted = [...values].sort((a, b) => a - b);
  figures.report(`${metric}_p50_${unit}`, percentile(sorted, 50), unit, labels);
  figures.report(`${metric}_p99_${unit}`, percentile(sorted, 99), unit, labels);
}

async function heartbeats(runtime: LocalRuntime): Promise<void> {
  const latencies: number[] = [];
  const counter = new CallCounter();
  const base = Date.now() - TICKS * 60_000;
  for (let i = 0; i < TICKS; i++) {
    // One tick a minute, as EventBridge fires them (each its own time, so its own heartbeat).
    const at = new Date(base + i * 60_000);
    const known = new Set((await recentHeartbeats('io', { limit: 5 })).map((s) => s.id));
    await runtime.fireSchedule(SCHEDULE, at);
    for (;;) {
      const sample = (await recentHeartbeats('io', { limit: 5 })).find((s) => !known.has(s.id));
      if (sample?.latencyMs !== undefined) {
        latencies.push(sample.latencyMs);
        break;
      }
      await sleep(5);
    }
  }
  // The polls above read the table: count the sender's and the worker's writes and sends, and the reads apart.
  const labels = { pool: 'io', ticks: TICKS };
  figures.report('heartbeat_dynamodb_writes_per_tick', counter.dynamoWrites() / TICKS, 'requests', labels);
  figures.report('heartbeat_sqs_sends_per_tick', counter.get('sqs:SendMessage', 'sqs:SendMessageBatch') / TICKS, 'calls', labels);
  report('heartbeat_tick_to_start', latencies, 'ms', labels);
}

async function trackedJobs(): Promise<void> {
  const client = createJobClient();
  const latencies: number[] = [];
  const counter = new CallCounter();
  let reads = 0;
  for (let i = 0; i < JOBS; i++) {
    const { jobId } = await client.sendTask('echo', { n: i }, { queue: 'io' });
    for (;;) {
      const job = await client.getJob(jobId);
      reads += 1;
      if ('startedAt' in job && job.startedAt !== undefined && job.status === 'SUCCEEDED') {
        latencies.push(Date.parse(job.startedAt) - Date.parse(job.enqueuedAt));
        break;
      }
      await sleep(5);
    }
  }
  const labels = { pool: 'io', jobs: JOBS, baseline: 'a tracked job' };
  figures.report('job_dynamodb_writes_per_job', counter.dynamoWrites() / JOBS, 'requests', labels);
  figures.report('job_sqs_sends_per_job', counter.get('sqs:SendMessage', 'sqs:SendMessageBatch') / JOBS, 'calls', labels);
  figures.report('job_status_reads_by_this_bench', reads / JOBS, 'requests', { ...labels, note: 'polling for the result, not the job' });
  report('job_enqueue_to_start', latencies, 'ms', labels);
}

const ROUTES: Route[] = [
  { functionId: 'console', method: 'ANY', path: '/_ferry/console', authorization: 'none' },
  { functionId: 'console', method: 'ANY', path: '/_ferry/console/{proxy+}', authorization: 'none' },
];

async function consolePages(): Promise<void> {
  const handler = createConsoleHandler();
  const get = async (path: string): Promise<APIGatewayProxyResult> => {
    const match = matchRoute(ROUTES, 'GET', path);
    if (match === undefined) throw new Error(`no console route for ${path}`);
    const event = toProxyEvent(
      { method: 'GET', path, query: new URLSearchParams(), headers: [['Accept', 'text/html'], ['Host', 'localhost']], body: Buffer.alloc(0), sourceIp: '127.0.0.1' },
      match,
      { stage: 'prod', binaryMediaTypes: [], apiId: 'local', accountId: '000000000000', host: 'localhost' },
    );
    return handler(event);
  };
  // Ten dead letters with their reasons, for the queue's page.
  for (let i = 0; i < 10; i++) {
    const envelope = newEnvelope('echo', { n: i }, { tracked: false, jobId: `bench-${randomUUID()}` });
    await sendToDeadLetterQueue('io', encodeEnvelope(envelope), { cause: 'non-retryable', errorName: 'Error', errorMessage: 'bench', attempts: 1, task: 'echo', queue: 'io', deadAt: new Date().toISOString() });
  }
  for (const [page, path] of [['overview', '/_ferry/console'], ['queue_with_10_dead_letters', '/_ferry/console/queues/io']] as const) {
    const first = await get(path);
    if (first.statusCode !== 200) throw new Error(`${path} answered ${first.statusCode}`);
    const times: number[] = [];
    const counter = new CallCounter();
    for (let i = 0; i < PAGES; i++) {
      const started = performance.now();
      await get(path);
      times.push(performance.now() - started);
    }
    const labels = { page, pages: PAGES, queues: 1 };
    report(`console_${page}`, times, 'ms', labels);
    figures.report(`console_${page}_sqs_calls`, counter.sqsCalls() / PAGES, 'calls', labels);
    figures.report(`console_${page}_dynamodb_reads`, counter.get('dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem') / PAGES, 'requests', labels);
    figures.report(`console_${page}_cloudwatch_calls`, counter.get('cloudwatch:GetMetricData') / PAGES, 'calls', labels);
  }
  // The baseline, measured the same way: a hand-written check of the queue's and its DLQ's counts.
  const times: number[] = [];
  const counter = new CallCounter();
  for (let i = 0; i < PAGES; i++) {
    const started = performance.now();
    await Promise.all([queueUrl('io'), deadLetterQueueUrl('io')].map((QueueUrl) => sqsClient().send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }))));
    times.push(performance.now() - started);
  }
  const labels = { baseline: 'GetQueueAttributes of the queue and its DLQ', pages: PAGES, queues: 1 };
  report('console_baseline_check', times, 'ms', labels);
  figures.report('console_baseline_sqs_calls', counter.sqsCalls() / PAGES, 'calls', labels);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const runtime = await startLocalRuntime({ app: heartbeatApp, httpPort: 0, prefix: `bench-ops-${process.pid}`, log: () => undefined });
  try {
    await heartbeats(runtime);
    await trackedJobs();
    await consolePages();
    figures.table();
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
