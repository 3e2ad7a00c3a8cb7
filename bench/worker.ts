/**
 * `npm run bench:worker`: drains N no-op tasks through the local runtime
 * (fauxqs, DynamoDB Local, the event source mapping and Ferry's worker) three
 * ways in one process: a bare SQS handler (the baseline: what the queue and
 * the event source mapping cost alone), untracked Ferry tasks, and tracked
 * Ferry tasks. Counts SQS calls (sends, the mapping's receives and deletes)
 * and DynamoDB writes per task, and the drain rate.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../lib/aws/clients.js';
import { createJobClient } from '../lib/jobs/enqueue.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { CallCounter } from './call-counter.js';
import { Figures } from './figures.js';
import { benchApp, noop } from './worker-app.js';

const N = Number(process.env.BENCH_TASKS ?? 500);

interface Drain {
  readonly seconds: number;
  readonly sqsCalls: number;
  readonly ddbWrites: number;
}

async function drain(runtime: LocalRuntime, calls: CallCounter, queue: 'jobs' | 'raw', send: () => Promise<void>): Promise<Drain> {
  const before = (await runtime.stats()).queues[queue];
  const sqsBefore = calls.sqsCalls();
  const writesBefore = calls.dynamoWrites();
  const started = performance.now();
  await send();
  for (;;) {
    const now = (await runtime.stats()).queues[queue];
    if ((now?.deleted ?? 0) - (before?.deleted ?? 0) >= N) {
      const seconds = (performance.now() - started) / 1000;
      const mappingCalls = (now?.receiveCalls ?? 0) - (before?.receiveCalls ?? 0) + (now?.deleteCalls ?? 0) - (before?.deleteCalls ?? 0);
      return { seconds, sqsCalls: calls.sqsCalls() - sqsBefore + mappingCalls, ddbWrites: calls.dynamoWrites() - writesBefore };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('worker');
  const runtime = await startLocalRuntime({ app: benchApp, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const calls = new CallCounter();
    const jobs = createJobClient();
    const inputs = Array.from({ length: N }, (_, n) => ({ n }));

    const raw = await drain(runtime, calls, 'raw', async () => {
      const url = runtime.resources.queues.raw?.url ?? '';
      for (let i = 0; i < N; i += 10) {
        await sqsClient().send(
          new SendMessageBatchCommand({ QueueUrl: url, Entries: inputs.slice(i, i + 10).map(({ n }) => ({ Id: String(n), MessageBody: `{"n":${n}}` })) }),
        );
      }
    });
    const untracked = await drain(runtime, calls, 'jobs', async () => void (await jobs.enqueueMany(noop, inputs, { trackStatus: false })));
    const tracked = await drain(runtime, calls, 'jobs', async () => void (await jobs.enqueueMany(noop, inputs, { trackStatus: true })));

    for (const [label, d] of [['baseline: bare SQS handler', raw], ['untracked', untracked], ['tracked', tracked]] as const) {
      const labels: Record<string, boolean | number> = label.startsWith('baseline') ? { baseline: true, tasks: N } : { tracked: label === 'tracked', tasks: N };
      figures.report('tasks_per_second', N / d.seconds, 'tasks/s', labels);
      figures.report('sqs_calls_per_task', d.sqsCalls / N, 'calls', labels);
      figures.report('ddb_writes_per_task', d.ddbWrites / N, 'writes', labels);
    }
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
