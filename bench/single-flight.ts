/**
 * `npm run bench:single-flight`: a burst of concurrent cold requests for one
 * slow report (a 500 ms wait), against the seed tutorial's patterns (its
 * first view, computing in the request, and its four background ones: cache,
 * lock, "working" marker, "task sent" marker) and Ferry's single-flight, in
 * one process on the same emulators (the local runtime, fauxqs, DynamoDB
 * Local, Ferry's worker).
 *
 * Each pattern runs twice: behind a server that runs at most 32 requests at
 * once (gunicorn's 2 workers x 16 threads, the rest waiting in line:
 * `admitted=32`), and with every request of the burst at once
 * (`admitted=unbounded`).
 *
 * Per pattern: jobs enqueued by the burst, computations run, DynamoDB writes
 * for the refresh (requests and tasks, until the queue is drained), DynamoDB
 * reads per cached hit afterwards, SQS sends, the time from the burst's first
 * request until the report could first be read (`first_ready_ms`: a probe
 * reads the cache, or the flight item, every 20 ms; for the in-request view,
 * its first answer) and until a view answered it after the queue drained
 * (`refresh_wall_s`).
 */
import { randomUUID } from 'node:crypto';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { sleep } from '../lib/util/sleep.js';
import { Admission, GUNICORN_ADMITTED } from './admission.js';
import { CallCounter } from './call-counter.js';
import { drained } from './queue-drain.js';
import { Figures } from './figures.js';
import { baselines, benchApp, computations, COMPUTE_MS, readable, views } from './single-flight-app.js';

const BURST = Number(process.env.BENCH_BURST ?? 1000);
const HITS = Number(process.env.BENCH_HITS ?? 100);
const PROBE_MS = 20;

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('single-flight');
  const runtime = await startLocalRuntime({ app: benchApp, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    for (const admitted of [GUNICORN_ADMITTED, undefined]) {
      for (const [pattern, view] of Object.entries(views)) {
        const admission = new Admission(admitted);
        const key = `report-${randomUUID()}`;
        computations[pattern] = 0;
        const calls = new CallCounter();
        const started = performance.now();
        let firstReadyMs: number | undefined;
        const ready = () => {
          firstReadyMs ??= performance.now() - started;
        };
        // Reads only: nothing a view does (no send, no claim), until the report can be read.
        const probe = (async () => {
          while (firstReadyMs === undefined) {
            if (await readable[pattern]?.(key)) ready();
            else await sleep(PROBE_MS);
          }
        })();
        const answers = await Promise.all(
          Array.from({ length: BURST }, () =>
            admission.run(async () => {
              const value = await view(key);
              if (value !== undefined) ready();
              return value;
            }),
          ),
        );
        const enqueued = calls.get('sqs:SendMessage', 'sqs:SendMessageBatch');
        await drained(runtime, 'reports');
        // A view that answered every request of the burst has nothing left to wait for.
        if (answers.some((a) => a === undefined)) {
          for (;;) {
            if ((await view(key)) !== undefined) break;
            await drained(runtime, 'reports');
            await sleep(50);
          }
        }
        const refreshSeconds = (performance.now() - started) / 1000;
        ready();
        await probe;
        const writes = calls.dynamoWritesApplied();
        const writeRequests = calls.dynamoWrites();
        const sends = calls.get('sqs:SendMessage', 'sqs:SendMessageBatch');
        const computed = computations[pattern] ?? 0;

        // Cached hits (the in-request view has no cache: each of its requests computes, as the burst showed).
        const inRequest = pattern === 'seed-in-request';
        const hits = new CallCounter();
        for (let i = 0; i < (inRequest ? 0 : HITS); i++) await view(key);
        const labels = { pattern, admitted: admission.label, burst: BURST, compute_ms: COMPUTE_MS, compute: 'a wait that loads nothing', baseline: baselines[pattern] ?? pattern };
        figures.report('enqueued', enqueued, 'jobs', labels);
        figures.report('computations', computed, 'runs', labels);
        figures.report('ddb_writes_per_refresh', writes, 'writes', { ...labels, counts: 'writes that changed state' });
        figures.report('ddb_write_requests_per_refresh', writeRequests, 'requests', { ...labels, counts: 'every write request, rejected conditional writes included (billed)' });
        if (!inRequest) figures.report('ddb_reads_per_cached_hit', hits.get('dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem') / HITS, 'reads', labels);
        figures.report('sqs_sends', sends, 'calls', labels);
        figures.report('first_ready_ms', firstReadyMs ?? Number.NaN, 'ms', labels);
        figures.report('refresh_wall_s', refreshSeconds, 's', labels);
      }
    }
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
