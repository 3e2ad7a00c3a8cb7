/**
 * The report service's resources, declared once. Its CDK stack (`ferry synth`,
 * `ferry deploy`) and its local runtime (`ferry dev`, `npm start`, the tests)
 * are both built from this value (named in `ferry.config.ts`).
 */
import { defineApp, seconds } from 'ferry';

export const resources = defineApp({
  name: 'ferry',
  tables: {
    /** Job state, locks, dedup markers, idempotency records and cached results. */
    state: {
      partitionKey: { name: 'pk' },
      sortKey: { name: 'sk' },
      timeToLiveAttribute: 'expiresAt',
    },
    /** Page views, one partition per UTC day, so a time range is read by queries, never a scan. */
    pageViews: {
      partitionKey: { name: 'day' },
      sortKey: { name: 'sk' },
    },
  },
  queues: {
    /** I/O-bound jobs: many at once, mostly waiting on the network or a database. */
    io: { maxReceiveCount: 5 },
    /** CPU-bound jobs: one per invocation, on a full vCPU, few at once. */
    cpu: { maxReceiveCount: 5 },
  },
  functions: {
    api: {
      entry: 'functions/api.ts',
      timeout: seconds(10),
      memoryMb: 512,
      // Send on both pools: a ping's job can run on either (the demo proves each pool end to end).
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [
        { type: 'http', method: 'GET', path: '/health' },
        { type: 'http', method: 'POST', path: '/pings' },
        { type: 'http', method: 'GET', path: '/pings/{id}' },
        { type: 'http', method: 'GET', path: '/reports' },
        { type: 'http', method: 'GET', path: '/reports/{name}' },
        { type: 'http', method: 'POST', path: '/reports/{name}/retry' },
      ],
    },
    ioWorker: {
      entry: 'functions/worker.ts',
      timeout: seconds(30),
      memoryMb: 512,
      // Send on both pools: a job re-sends itself (delays past 15 minutes) and starts
      // workflow members (the report's chord), which may run on either pool.
      uses: { tables: { state: 'readWrite', pageViews: 'read' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'io', batchSize: 10, maxConcurrency: 5 }],
    },
    cpuWorker: {
      entry: 'functions/worker.ts',
      timeout: seconds(120),
      // 1,769 MB is where Lambda allots one full vCPU.
      memoryMb: 1769,
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'cpu', batchSize: 1, maxConcurrency: 2 }],
    },
    heartbeat: {
      entry: 'functions/heartbeat.ts',
      timeout: seconds(10),
      memoryMb: 256,
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'schedule', name: 'ferry-heartbeat', expression: 'rate(1 minute)' }],
    },
    // The operations console (lib/console/): IAM-authorized on AWS; locally also at /_ferry/console.
    // It reads job state, SQS's numbers and CloudWatch's (the oldest message's age), and acts only as an
    // operator does (redrive, cancel, refresh).
    console: {
      entry: 'functions/console.ts',
      timeout: seconds(15),
      memoryMb: 512,
      uses: { tables: { state: 'readWrite' }, queues: { io: 'operate', cpu: 'operate' }, metrics: 'read' },
      events: [
        { type: 'http', method: 'ANY', path: '/_ferry/console', authorization: 'iam' },
        { type: 'http', method: 'ANY', path: '/_ferry/console/{proxy+}', authorization: 'iam' },
      ],
    },
  },
  // A canary to each pool every minute; late after 2 minutes (the CPU pool runs long jobs two at a time).
  heartbeats: { sender: 'heartbeat', queues: ['io', 'cpu'], lateAfter: seconds(120) },
});
