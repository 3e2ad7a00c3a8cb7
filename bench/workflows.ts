/**
 * `npm run bench:workflows`: a chord of 100 `add` members and an `xsum`
 * callback on the local runtime (fauxqs, DynamoDB Local, Ferry's worker and
 * workflow engine), several times. Counts DynamoDB writes and SQS calls per
 * member (the workflow's own records included) and times the chord, against
 * a baseline of the same 101 jobs enqueued directly, with no workflow.
 */
import { createJobClient } from '../lib/jobs/enqueue.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { chord, s } from '../lib/workflows/canvas.js';
import { CallCounter } from './call-counter.js';
import { drained } from './queue-drain.js';
import { Figures, percentile } from './figures.js';
import { add, benchApp, xsum } from './workflow-app.js';
import { workflows } from './workflow-entry.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function mappingCalls(runtime: LocalRuntime): Promise<number> {
  const q = (await runtime.stats()).queues.jobs;
  return (q?.receiveCalls ?? 0) + (q?.deleteCalls ?? 0);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('workflows');
  const runtime = await startLocalRuntime({ app: benchApp, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const members = MEMBERS + 1; // the callback is a member too
    const walls: number[] = [];
    let writes = 0;
    let sqsCalls = 0;
    for (let run = 0; run < RUNS; run++) {
      await drained(runtime, 'jobs');
      const calls = new CallCounter();
      const mappingBefore = await mappingCalls(runtime);
      const started = performance.now();
      const { workflowId } = await workflows.start(chord(Array.from({ length: MEMBERS }, (_, i) => s(add, [i, i])), s(xsum)));
      for (;;) {
        const view = await workflows.get(workflowId);
        if (view.status !== 'RUNNING') {
          const expected = MEMBERS * (MEMBERS - 1);
          if (view.status !== 'SUCCEEDED' || view.result !== expected) throw new Error(`chord ended ${view.status} with ${String(view.result)}, expected ${expected}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      walls.push(performance.now() - started);
      await drained(runtime, 'jobs');
      writes += calls.dynamoWrites();
      sqsCalls += calls.sqsCalls() + (await mappingCalls(runtime)) - mappingBefore;
    }

    // Baseline: the same 101 tracked jobs, enqueued in batches, with no workflow around them.
    await drained(runtime, 'jobs');
    const calls = new CallCounter();
    const mappingBefore = await mappingCalls(runtime);
    const jobs = createJobClient();
    await jobs.enqueueMany(add, Array.from({ length: MEMBERS }, (_, i) => [i, i] as [number, number]));
    await jobs.enqueue(xsum, [1, 2]);
    await drained(runtime, 'jobs');
    const baselineWrites = calls.dynamoWrites() / members;
    const baselineSqs = (calls.sqsCalls() + (await mappingCalls(runtime)) - mappingBefore) / members;

    walls.sort((a, b) => a - b);
    const counts = 'write requests; a TransactWriteItems of two items counts once (DynamoDB bills each of its items at twice the capacity)';
    figures.report('ddb_writes_per_member', writes / RUNS / members, 'writes', { members, runs: RUNS, counts });
    figures.report('sqs_calls_per_member', sqsCalls / RUNS / members, 'calls', { members, runs: RUNS });
    figures.report(`chord_${MEMBERS}_wall_ms`, percentile(walls, 50), 'ms', { members, runs: RUNS, stat: 'median' });
    figures.report('ddb_writes_per_member', baselineWrites, 'writes', { members, baseline: 'the same tracked jobs without a workflow', counts });
    figures.report('sqs_calls_per_member', baselineSqs, 'calls', { members, baseline: 'the same tracked jobs without a workflow' });
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
