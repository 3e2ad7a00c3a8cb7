/**
 * `npm run bench:runtime`: what the foundation costs, measured on the local
 * runtime against DynamoDB Local and fauxqs.
 *
 * - AWS calls per ping job, counted by SDK middleware on the clients the
 *   handlers use (the event source mapping's own receive/delete are counted
 *   from the runtime's stats);
 * - enqueue-to-processed latency of the slice (POST /pings until the worker's
 *   write is visible);
 * - GET /health through the local API Gateway, against a baseline of calling
 *   the same handler directly in this process (the gateway's overhead).
 *
 * Prints one JSON object per figure, then a table.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { sqsClient, dynamoDbClient } from '../lib/aws/clients.js';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { api } from '../lib/api/api.js';
import { createLambdaContext } from '../lib/local/lambda-context.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);

interface Figure {
  bench: 'runtime';
  metric: string;
  value: number;
  unit: string;
  [label: string]: string | number;
}
const figures: Figure[] = [];
function report(metric: string, value: number, unit: string, labels: Record<string, string | number> = {}): void {
  const figure: Figure = { bench: 'runtime', metric, value: Math.round(value * 1000) / 1000, unit, ...labels };
  figures.push(figure);
  console.log(JSON.stringify(figure));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Counts SDK commands sent by the shared clients, by name. */
function countCalls(): Map<string, number> {
  const counts = new Map<string, number>();
  const middleware = (name: string) => (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const key = `${name}:${context.commandName ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return next(args);
  };
  sqsClient().middlewareStack.add(middleware('sqs') as never, { step: 'initialize', name: 'ferryBenchCount' });
  dynamoDbClient().middlewareStack.add(middleware('dynamodb') as never, { step: 'initialize', name: 'ferryBenchCount' });
  return counts;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const runtime = await startLocalRuntime({ httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const calls = countCalls();
    const before = await runtime.stats();

    // Enqueue-to-processed latency, one job at a time so the figure is latency, not queueing.
    const latencies: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const started = performance.now();
      const created = (await (await fetch(`${runtime.url}/pings`, { method: 'POST', body: '{"message":"bench"}' })).json()) as { ping: { id: string } };
      for (;;) {
        const answer = (await (await fetch(`${runtime.url}/pings/${created.ping.id}`)).json()) as { ping: { status: string } };
        if (answer.ping.status === 'processed') break;
        await new Promise((r) => setTimeout(r, 2));
      }
      latencies.push(performance.now() - started);
    }
    const after = await runtime.stats();
    latencies.sort((a, b) => a - b);
    report('ping_enqueue_to_processed_p50_ms', percentile(latencies, 50), 'ms', { jobs: JOBS });
    report('ping_enqueue_to_processed_p99_ms', percentile(latencies, 99), 'ms', { jobs: JOBS });

    // The job's own calls: POST writes + sends; the worker updates; GETs poll (excluded below).
    const per = (key: string) => (calls.get(key) ?? 0) / JOBS;
    report('sqs_send_per_job', per('sqs:SendMessageCommand'), 'calls');
    report('ddb_reads_per_job', per('dynamodb:GetItemCommand'), 'calls', { note: 'all are GET /pings/{id} status polls; the worker reads nothing' });
    report('ddb_writes_per_job', per('dynamodb:PutItemCommand') + per('dynamodb:UpdateItemCommand'), 'calls');
    const q = (k: 'received' | 'deleted') => ((after.queues.io?.[k] ?? 0) - (before.queues.io?.[k] ?? 0)) / JOBS;
    report('sqs_messages_received_per_job', q('received'), 'messages');
    report('sqs_messages_deleted_per_job', q('deleted'), 'messages');

    // GET /health: through the local API Gateway vs the handler called directly.
    const direct: number[] = [];
    const event = { httpMethod: 'GET', resource: '/health', path: '/health', requestContext: { requestId: 'bench' } } as unknown as APIGatewayProxyEvent;
    for (let i = 0; i < REQUESTS; i++) {
      const context: Context = createLambdaContext({ functionName: 'bench', memoryMb: 512, timeoutMs: 10_000, region: 'us-east-1', accountId: '0' });
      const t = performance.now();
      await api(event, context);
      direct.push(performance.now() - t);
    }
    const viaGateway: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      const response = await fetch(`${runtime.url}/health`);
      await response.arrayBuffer();
      viaGateway.push(performance.now() - t);
    }
    direct.sort((a, b) => a - b);
    viaGateway.sort((a, b) => a - b);
    report('health_direct_p50_ms', percentile(direct, 50), 'ms', { requests: REQUESTS, path: 'baseline: handler called in-process' });
    report('health_local_gateway_p50_ms', percentile(viaGateway, 50), 'ms', { requests: REQUESTS, path: 'HTTP → local API Gateway → handler' });
    report('health_local_gateway_p99_ms', percentile(viaGateway, 99), 'ms', { requests: REQUESTS, path: 'HTTP → local API Gateway → handler' });

    console.log('\nmetric                                    value');
    for (const f of figures) console.log(`${f.metric.padEnd(40)} ${String(f.value).padStart(8)} ${f.unit}`);
  } finally {
    await runtime.stop();
  }
}

await main();
