/**
 * `npm run bench:single-flight`: a burst of concurrent cold requests for one
 * slow report, against each of the seed tutorial's four patterns and Ferry's
 * single-flight, in one process on the same emulators (the local runtime,
 * fauxqs, DynamoDB Local, Ferry's worker).
 *
 * Per pattern: jobs enqueued, computations run, DynamoDB writes for the
 * refresh (requests and tasks, until the queue is drained), DynamoDB reads
 * per cached hit afterwards, and SQS sends.
 */
import { randomUUID } from 'node:crypto';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { CallCounter } from './call-counter.js';
import { drained } from './queue-drain.js';
import { Figures } from './figures.js';
import { benchApp, computations, COMPUTE_MS, views } from './single-flight-app.js';

const BURST = Number(process.env.BENCH_BURST ?? 1000);
const HITS = Number(process.env.BENCH_HITS ?? 100);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('single-flight');
  const runtime = await startLocalRuntime({ app: benchApp, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    for (const [pattern, view] of Object.entries(views)) {
      const key = `report-${randomUUID()}`;
      const calls = new CallCounter();
      const started = performance.now();
      await Promise.all(Array.from({ length: BURST }, () => view(key)));
      const enqueued = calls.get('sqs:SendMessage', 'sqs:SendMessageBatch');
      await drained(runtime, 'reports');
      for (;;) {
        if ((await view(key)) !== undefined) break;
        await drained(runtime, 'reports');
        await new Promise((r) => setTimeout(r, 50));
      }
      const refreshSeconds = (performance.now() - started) / 1000;
      const writes = calls.dynamoWritesApplied();
      const writeRequests = calls.dynamoWrites();
      const sends = calls.get('sqs:SendMessage', 'sqs:SendMessageBatch');

      const hits = new CallCounter();
      for (let i = 0; i < HITS; i++) await view(key);
      const labels = { pattern, burst: BURST, compute_ms: COMPUTE_MS };
      figures.report('enqueued', enqueued, 'jobs', labels);
      figures.report('computations', computations[pattern] ?? 0, 'runs', labels);
      figures.report('ddb_writes_per_refresh', writes, 'writes', { ...labels, counts: 'writes that changed state' });
      figures.report('ddb_write_requests_per_refresh', writeRequests, 'requests', { ...labels, counts: 'every write request, rejected conditional writes included (billed)' });
      figures.report('ddb_reads_per_cached_hit', hits.get('dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem') / HITS, 'reads', labels);
      figures.report('sqs_sends', sends, 'calls', labels);
      figures.report('refresh_wall_s', refreshSeconds, 's', labels);
    }
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
