/**
 * `npm run bench:outbox`: what enqueueing after commit through the outbox
 * costs, against the baseline in the same run: write the row, then enqueue
 * (Django's `on_commit`, which loses the job if the process dies between the
 * two).
 *
 * - latency, one job at a time: the request's own time (the transaction, or
 *   the row's write plus the enqueue) and commit-to-start, from the request's
 *   writes returning to the worker starting the job (the job record's
 *   `startedAt`);
 * - AWS calls and items written per job, the relay and the worker included,
 *   over a burst of jobs sent at once (counted in this process: the
 *   functions run from their sources here), and relay invocations per job
 *   (the stream batches intents).
 *
 * The local runtime polls the stream four times a second, as Lambda does, so
 * commit-to-start through the outbox includes up to 250 ms of stream polling.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../lib/app/resource-env.js';
import { documentClient } from '../lib/aws/clients.js';
import { jobs } from '../lib/jobs/enqueue.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { outboxApp } from '../test/fixtures/outbox-app.js';
import { copyNote } from '../test/fixtures/outbox-worker.js';
import { CallCounter } from './call-counter.js';
import { Figures, percentile } from './figures.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const figures = new Figures('outbox');

type Way = 'outbox' | 'row-then-enqueue';

const putNote = (id: string) => ({ TableName: tableName('notes'), Item: { id, text: 'bench' }, ConditionExpression: 'attribute_not_exists(id)' });

/** Writes a note and enqueues its job one way; resolves once the way's commit returned, with the job id. */
async function send(way: Way): Promise<string> {
  const noteId = randomUUID();
  if (way === 'outbox') return (await jobs.enqueueWith([{ Put: putNote(noteId) }], copyNote, { noteId })).jobId;
  await documentClient().send(new PutCommand(putNote(noteId)));
  return (await jobs.enqueue(copyNote, { noteId })).jobId;
}

async function startedAt(jobId: string): Promise<number> {
  for (;;) {
    const job = await jobs.getJob(jobId);
    if ('startedAt' in job && job.startedAt !== undefined) return Date.parse(job.startedAt);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function latency(way: Way): Promise<void> {
  const requestMs: number[] = [];
  const toStartMs: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const started = performance.now();
    const jobId = await send(way);
    const committed = Date.now();
    requestMs.push(performance.now() - started);
    toStartMs.push((await startedAt(jobId)) - committed);
  }
  for (const [metric, values] of [['request', requestMs], ['commit_to_start', toStartMs]] as const) {
    const sorted = [...values].sort((a, b) => a - b);
    figures.report(`${metric}_p50_ms`, percentile(sorted, 50), 'ms', { way, jobs: JOBS });
    figures.report(`${metric}_p99_ms`, percentile(sorted, 99), 'ms', { way, jobs: JOBS });
  }
}

async function calls(runtime: LocalRuntime, way: Way): Promise<void> {
  const before = await runtime.stats();
  const counter = new CallCounter();
  const started = performance.now();
  await Promise.all(Array.from({ length: BURST }, () => send(way)));
  const target = (before.queues.io?.deleted ?? 0) + BURST;
  for (;;) {
    const now = await runtime.stats();
    if ((now.queues.io?.deleted ?? 0) >= target && (way === 'row-then-enqueue' || (now.functions.relay?.invocations ?? 0) > (before.functions.relay?.invocations ?? 0))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  // Let the relay finish deleting the last intents.
  await new Promise((r) => setTimeout(r, 500));
  const after = await runtime.stats();
  figures.report('burst_all_done_ms', performance.now() - started, 'ms', { way, jobs: BURST });
  figures.report('dynamodb_writes_per_job', counter.dynamoWrites() / BURST, 'requests', { way });
  figures.report('dynamodb_items_written_per_job', counter.dynamoItemsWritten() / BURST, 'items', { way });
  figures.report('sqs_calls_per_job', counter.sqsCalls() / BURST, 'calls', { way, note: 'SendMessage; the event source mapping polls on its own' });
  if (way === 'outbox') {
    const relayed = (after.functions.relay?.invocations ?? 0) - (before.functions.relay?.invocations ?? 0);
    figures.report('relay_invocations_per_job', relayed / BURST, 'invocations', { way, note: 'each intent inserted and deleted: both reach the relay' });
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const runtime = await startLocalRuntime({ app: outboxApp, httpPort: 0, prefix: `bench-outbox-${process.pid}`, log: () => undefined });
  try {
    await send('outbox');
    await send('row-then-enqueue');
    for (const way of ['outbox', 'row-then-enqueue'] as const) await latency(way);
    for (const way of ['outbox', 'row-then-enqueue'] as const) await calls(runtime, way);
    figures.table();
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
