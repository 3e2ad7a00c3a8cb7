/**
 * The app the reliability suite runs under injected faults: the report
 * service's tables, routes and tasks (through the real API and worker code),
 * plus the chaos tasks whose effects are counted, the transactional outbox
 * (its relay and sweeper) and the notes service's onboarding. Its queues give messages
 * back quickly (12 s visibility) and leave room for killed and busy
 * deliveries before SQS dead-letters one itself (maxReceiveCount 10).
 */
import { defineApp } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';
import { OUTBOX_TABLE } from '../../lib/jobs/outbox.js';

export const chaosApp = defineApp({
  name: 'chaos',
  tables: {
    state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' },
    pageViews: { partitionKey: { name: 'day' }, sortKey: { name: 'sk' } },
    /** The transactional outbox's intents; its stream feeds the relay. */
    outbox: OUTBOX_TABLE,
    /** The notes service's table: users and the fake providers' mailboxes (onboarding under faults). */
    notes: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' } },
  },
  queues: {
    io: { visibilityTimeout: seconds(12), maxReceiveCount: 10 },
    cpu: { visibilityTimeout: seconds(12), maxReceiveCount: 10 },
  },
  functions: {
    api: {
      entry: 'functions/api.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [
        { type: 'http', method: 'POST', path: '/pings' },
        { type: 'http', method: 'GET', path: '/pings/{id}' },
        { type: 'http', method: 'GET', path: '/reports/{name}' },
      ],
    },
    ioWorker: {
      entry: 'bench/chaos/chaos-worker.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite', pageViews: 'read', outbox: 'readWrite', notes: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'io', batchSize: 10, maxConcurrency: 8 }],
    },
    relay: {
      entry: 'bench/chaos/chaos-outbox.ts',
      timeout: seconds(10),
      uses: { tables: { outbox: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'dynamodb-stream', table: 'outbox', batchSize: 100, startingPosition: 'TRIM_HORIZON', retryAttempts: 10 }],
    },
    sweeper: {
      entry: 'bench/chaos/chaos-outbox.ts',
      handler: 'sweep',
      timeout: seconds(30),
      uses: { tables: { outbox: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'schedule', name: 'chaos-outbox-sweep', expression: 'rate(1 minute)' }],
    },
    cpuWorker: {
      entry: 'bench/chaos/chaos-worker.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite', pageViews: 'read', outbox: 'readWrite', notes: 'readWrite' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'cpu', batchSize: 5, maxConcurrency: 4 }],
    },
  },
});
