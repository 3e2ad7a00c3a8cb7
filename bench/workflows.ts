/**
 * `npm run bench:workflows`: a chord of N `add` members and an `xsum`
 * callback on the local runtime (fauxqs, DynamoDB Local, Ferry's worker and
 * workflow engine), at N = 100, 1,000 and 10,000 (`BENCH_MEMBERS=100,1000`).
 * Counts every DynamoDB write request and SQS call per member (the
 * workflow's own records, the event source mapping's receives and deletes,
 * refused and conflicting requests included), the items those requests
 * wrote, the transactions cancelled by conflicts, and times the chord;
 * checks the result exactly (the sum of 2i for i < N) and that each task ran
 * exactly as often as it should. Baseline, in the same run: the same N tracked
 * jobs enqueued with `enqueueMany`, with no workflow around them; and, at 100
 * and 1,000 members (`BENCH_ONE_COUNTER`), the same chord counting on one
 * item per group, as before counter shards.
 */
import { createJobClient } from '../lib/jobs/enqueue.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { chord, s } from '../lib/workflows/canvas.js';
import { WorkflowEngine } from '../lib/workflows/workflow-engine.js';
import { CallCounter } from './call-counter.js';
import { drained } from './queue-drain.js';
import { Figures, percentile } from './figures.js';
import { add, benchApp, executions, xsum } from './workflow-app.js';
import { workflows } from './workflow-entry.js';

const SIZES = (process.env.BENCH_MEMBERS ?? '100,1000,10000').split(',').map(Number);
/** Runs per size: three of the small chord, one of the larger ones, unless BENCH_RUNS says. */
const runsOf = (members: number) => Number(process.env.BENCH_RUNS ?? (members <= 100 ? 3 : 1));

async function mappingCalls(runtime: LocalRuntime): Promise<number> {
  const q = (await runtime.stats()).queues.jobs;
  return (q?.receiveCalls ?? 0) + (q?.deleteCalls ?? 0);
}

interface Cost {
  writes: number;
  items: number;
  sqs: number;
  conflicts: number;
  overlaps: number;
  ddbCalls: number;
}

/** Counts what `work` costs, the event source mapping's calls included. */
async function measure(runtime: LocalRuntime, work: () => Promise<void>): Promise<Cost & { ms: number }> {
  await drained(runtime, 'jobs');
  const calls = new CallCounter();
  const mappingBefore = await mappingCalls(runtime);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  await drained(runtime, 'jobs');
  return {
    ms,
    writes: calls.dynamoWrites(),
    items: calls.dynamoItemsWritten(),
    sqs: calls.sqsCalls() + (await mappingCalls(runtime)) - mappingBefore,
    conflicts: calls.transactionConflicts(),
    overlaps: calls.transactionOverlaps(),
    ddbCalls: calls.dynamoCalls(),
  };
}

/** Starts chords on one counter item per group, as before shards: the contention baseline. */
const oneCounter = new WorkflowEngine(undefined, undefined, { membersPerShard: Number.POSITIVE_INFINITY });
/** Sizes the one-counter baseline runs at (it adds a run per size). */
const ONE_COUNTER_SIZES = (process.env.BENCH_ONE_COUNTER ?? '100,1000').split(',').map(Number);

async function chordRun(members: number, starter: WorkflowEngine = workflows): Promise<void> {
  const before = { ...executions };
  const { workflowId } = await starter.start(chord(Array.from({ length: members }, (_, i) => s(add, [i, i])), s(xsum)));
  for (;;) {
    const view = await workflows.status(workflowId);
    if (view.status !== 'RUNNING') {
      const expected = members * (members - 1);
      if (view.status !== 'SUCCEEDED' || view.result !== expected) throw new Error(`chord ended ${view.status} with ${String(view.result)}, expected ${expected}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const ran = { add: executions.add - before.add, xsum: executions.xsum - before.xsum };
  if (ran.add !== members || ran.xsum !== 1) throw new Error(`chord of ${members} ran add ${ran.add} times and xsum ${ran.xsum} times`);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('workflows');
  const runtime = await startLocalRuntime({ app: benchApp, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const counts = 'every request, refused and conflicting ones included; a TransactWriteItems counts once (DynamoDB bills each of its items at twice the capacity: see ddb_items_written_per_member)';
    for (const size of SIZES) {
      const members = size + 1; // the callback is a member too
      const runs = runsOf(size);
      const costs: (Cost & { ms: number })[] = [];
      for (let run = 0; run < runs; run++) costs.push(await measure(runtime, () => chordRun(size)));
      const per = (pick: (c: Cost) => number) => costs.reduce((n, c) => n + pick(c), 0) / runs / members;
      const walls = costs.map((c) => c.ms).sort((a, b) => a - b);
      const wall = percentile(walls, 50);
      const labels = { members: size, runs, checked: 'result exact; add ran once per member, xsum once' };
      figures.report('ddb_writes_per_member', per((c) => c.writes), 'writes', { ...labels, counts });
      figures.report('ddb_items_written_per_member', per((c) => c.items), 'items', labels);
      figures.report('sqs_calls_per_member', per((c) => c.sqs), 'calls', labels);
      figures.report('transaction_conflicts_per_member', per((c) => c.conflicts), 'conflicts', { ...labels, counts: 'cancelled by DynamoDB Local, which runs transactions one at a time: none' });
      figures.report('transaction_overlaps_per_member', per((c) => c.overlaps), 'transactions', { ...labels, counts: 'sent while another transaction on one of their items was in flight: what AWS may cancel' });
      figures.report('wall_ms', wall, 'ms', { ...labels, stat: 'median' });
      figures.report('wall_ms_per_member', wall / size, 'ms', { ...labels, stat: 'median' });
      figures.report('ddb_requests_per_s', (per((c) => c.ddbCalls) * members * runs) / (costs.reduce((n, c) => n + c.ms, 0) / 1000), 'req/s', { ...labels, reached: 'DynamoDB Local, reads and writes' });
      figures.report('sqs_requests_per_s', (per((c) => c.sqs) * members * runs) / (costs.reduce((n, c) => n + c.ms, 0) / 1000), 'req/s', { ...labels, reached: 'fauxqs' });

      if (ONE_COUNTER_SIZES.includes(size)) {
        // Contention baseline: the same chord counting on one item, as before shards.
        const one = await measure(runtime, () => chordRun(size, oneCounter));
        const base = { members: size, baseline: 'the same chord on one counter item (membersPerShard: Infinity)' };
        figures.report('ddb_writes_per_member', one.writes / members, 'writes', base);
        figures.report('transaction_overlaps_per_member', one.overlaps / members, 'transactions', base);
        figures.report('wall_ms', one.ms, 'ms', base);
      }

      // Baseline: the same tracked jobs, enqueued in batches, with no workflow around them.
      const jobs = createJobClient();
      const base = await measure(runtime, async () => {
        await jobs.enqueueMany(add, Array.from({ length: size }, (_, i) => [i, i] as [number, number]));
        await jobs.enqueue(xsum, [1, 2]);
      });
      const baseline = { members: size, baseline: 'the same tracked jobs, enqueueMany, no workflow' };
      figures.report('ddb_writes_per_member', base.writes / members, 'writes', { ...baseline, counts });
      figures.report('sqs_calls_per_member', base.sqs / members, 'calls', baseline);
    }
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
