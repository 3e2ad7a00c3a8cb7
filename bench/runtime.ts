/**
 * `npm run bench:runtime`: what the foundation costs, measured on the local
 * runtime against DynamoDB Local and fauxqs.
 *
 * - AWS calls per ping job, counted by SDK middleware on the clients the
 *   handlers use, and the messages the event source mapping moved;
 * - enqueue-to-processed latency of the slice (POST /pings until the worker's
 *   write is visible);
 * - GET /health through the local API Gateway, against a baseline of calling
 *   the same handler directly in this process (the gateway's overhead).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { resources } from '../app/resources.js';
import { api } from '../app/api.js';
import { createLambdaContext } from '../lib/local/lambda-context.js';
import { CallCounter } from './call-counter.js';
import { Figures, percentile } from './figures.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('runtime');
  const runtime = await startLocalRuntime({ app: resources, httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const calls = new CallCounter();
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
    figures.report('ping_enqueue_to_processed_p50_ms', percentile(latencies, 50), 'ms', { jobs: JOBS });
    figures.report('ping_enqueue_to_processed_p99_ms', percentile(latencies, 99), 'ms', { jobs: JOBS });

    const per = (...keys: string[]) => calls.get(...keys) / JOBS;
    figures.report('sqs_send_per_job', per('sqs:SendMessage'), 'calls');
    figures.report('ddb_writes_per_job', calls.dynamoWrites() / JOBS, 'calls', { note: 'ping Put + job record create, claim, succeed + ping Update' });
    figures.report('ddb_reads_per_job', per('dynamodb:GetItem'), 'calls', { note: 'GET /pings/{id} status polls' });
    const q = (k: 'received' | 'deleted') => ((after.queues.io?.[k] ?? 0) - (before.queues.io?.[k] ?? 0)) / JOBS;
    figures.report('sqs_messages_received_per_job', q('received'), 'messages');
    figures.report('sqs_messages_deleted_per_job', q('deleted'), 'messages');

    // GET /health: through the local API Gateway vs the handler called directly.
    const direct: number[] = [];
    const event = { httpMethod: 'GET', resource: '/health', path: '/health', requestContext: { requestId: 'bench' } } as unknown as APIGatewayProxyEvent;
    for (let i = 0; i < REQUESTS; i++) {
      const context = createLambdaContext({ functionName: 'bench', memoryMb: 512, timeoutMs: 10_000, region: 'us-east-1', accountId: '0' });
      const t = performance.now();
      await api(event, context);
      direct.push(performance.now() - t);
    }
    const viaGateway: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await (await fetch(`${runtime.url}/health`)).arrayBuffer();
      viaGateway.push(performance.now() - t);
    }
    direct.sort((a, b) => a - b);
    viaGateway.sort((a, b) => a - b);
    figures.report('health_direct_p50_ms', percentile(direct, 50), 'ms', { requests: REQUESTS, path: 'baseline: handler called in-process' });
    figures.report('health_local_gateway_p50_ms', percentile(viaGateway, 50), 'ms', { requests: REQUESTS, path: 'HTTP → local API Gateway → handler' });
    figures.report('health_local_gateway_p99_ms', percentile(viaGateway, 99), 'ms', { requests: REQUESTS, path: 'HTTP → local API Gateway → handler' });
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
