/**
 * The notes service's resources, declared once (Ferry's second app, beside
 * the report service in `app/`). Its CDK stack and its local runtime are both
 * built from this value, named in `notes/ferry.config.ts`.
 *
 * What it shows: enqueue after commit through the transactional outbox,
 * the three remedies for deleting a note while its copies are pending,
 * once-only onboarding, and a periodic purge that never overlaps itself.
 */
import { defineApp, minutes, OUTBOX_TABLE, seconds } from 'ferry';

export const notesApp = defineApp({
  name: 'notes',
  tables: {
    /** Job state, idempotency records, tag entries and the purge schedule's state (Ferry's). */
    state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' },
    /** Jobs' intents, committed with the writes that asked for them; its stream feeds the relay. */
    outbox: OUTBOX_TABLE,
    /** The app's own data: notes, the trash, hard deletes' tombstones (expiring), users, and the fake providers' mailboxes. */
    notes: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' },
  },
  queues: {
    // Onboarding retries a provider outage up to 8 times; a receive or two more for deliveries found busy.
    io: { maxReceiveCount: 10 },
  },
  functions: {
    api: {
      entry: 'notes/functions/api.ts',
      timeout: seconds(10),
      memoryMb: 512,
      // The outbox: a request writes its rows, the job's record and the job's intent; it sends nothing itself.
      uses: { tables: { notes: 'readWrite', state: 'readWrite', outbox: 'readWrite' } },
      events: [
        { type: 'http', method: 'GET', path: '/notes' },
        { type: 'http', method: 'POST', path: '/notes' },
        { type: 'http', method: 'GET', path: '/notes/{id}' },
        { type: 'http', method: 'DELETE', path: '/notes/{id}' },
        { type: 'http', method: 'POST', path: '/notes/{id}/copies' },
        { type: 'http', method: 'POST', path: '/users' },
        { type: 'http', method: 'GET', path: '/users/{id}' },
        { type: 'http', method: 'POST', path: '/users/{id}/onboarding' },
        { type: 'http', method: 'GET', path: '/jobs/{id}' },
        { type: 'http', method: 'GET', path: '/maintenance/purge' },
      ],
    },
    worker: {
      entry: 'notes/functions/worker.ts',
      timeout: seconds(60),
      memoryMb: 512,
      uses: { tables: { notes: 'readWrite', state: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'sqs', queue: 'io', batchSize: 10, maxConcurrency: 5 }],
    },
    relay: {
      entry: 'notes/functions/outbox.ts',
      timeout: seconds(30),
      uses: { tables: { outbox: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'dynamodb-stream', table: 'outbox', batchSize: 100, startingPosition: 'TRIM_HORIZON', retryAttempts: 10 }],
    },
    sweeper: {
      entry: 'notes/functions/outbox.ts',
      handler: 'sweep',
      timeout: seconds(60),
      uses: { tables: { outbox: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'schedule', name: 'notes-outbox-sweep', expression: 'rate(1 minute)' }],
    },
    purgeTicker: {
      entry: 'notes/functions/purge.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'schedule', name: 'notes-purge', expression: 'rate(1 hour)' }],
    },
  },
});

/** How long a soft-deleted note stays in the trash before the purge removes it. */
export const TRASH_RETENTION = minutes(10);
