/**
 * The app the reliability suite runs under injected faults: the report
 * service's tables, routes and tasks (through the real API and worker code),
 * plus the chaos tasks whose effects are counted. Its queues give messages
 * back quickly (12 s visibility) and leave room for killed and busy
 * deliveries before SQS dead-letters one itself (maxReceiveCount 10).
 */
import { defineApp } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';

export const chaosApp = defineApp({
  name: 'chaos',
  tables: {
    state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' },
    pageViews: { partitionKey: { name: 'day' }, sortKey: { name: 'sk' } },
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
      uses: { tables: { state: 'readWrite', pageViews: 'read' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'io', batchSize: 10, maxConcurrency: 8 }],
    },
    cpuWorker: {
      entry: 'bench/chaos/chaos-worker.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite', pageViews: 'read' }, queues: { io: 'send', cpu: 'send' } },
      events: [{ type: 'sqs', queue: 'cpu', batchSize: 5, maxConcurrency: 4 }],
    },
  },
});
