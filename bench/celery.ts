/**
 * `npx tsx bench/celery.ts`: Celery 5 beside Ferry, in one run, on the same
 * machine and the same SQS emulator.
 *
 * Ferry runs in this process on the local runtime (fauxqs, DynamoDB Local,
 * the event source mapping and Ferry's worker; `bench/celery/ferry-app.ts`).
 * Celery (Debian's python3-celery) runs its SQS transport against the same
 * fauxqs the runtime started, through a proxy in this process that translates
 * botocore 1.29's query protocol to the JSON protocol fauxqs speaks and counts
 * the calls (`bench/celery/sqs-query-proxy.ts`), with a Redis result backend;
 * then, as Celery's own best case, on its Redis transport.
 *
 * Workloads, the same on both: N no-op tasks enqueued while the workers run
 * (results not stored, then stored); the same N queued first and then drained
 * (the workers' own pace); and a chord of 100 `add(i, i)` with an `xsum`
 * callback (its result checked: 9,900), several times. Broker calls are SQS
 * requests (Ferry: counted by SDK middleware and the event source mapping;
 * Celery: by the proxy) or, on Celery's Redis transport, Redis commands.
 * Result-store calls are DynamoDB requests (Ferry) or Redis commands (Celery).
 *
 * Environment: BENCH_TASKS (1000), BENCH_MEMBERS (100), BENCH_RUNS (5),
 * BENCH_CELERY_CONCURRENCY (2: the machine's cores), BENCH_CELERY_TRANSPORTS
 * (`sqs,redis`).
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { cpus, loadavg } from 'node:os';
import { createJobClient } from '../lib/jobs/enqueue.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { chord, s } from '../lib/workflows/canvas.js';
import { CallCounter } from './call-counter.js';
import { Figures, percentile } from './figures.js';
import { drained } from './queue-drain.js';
import {
  celeryInstalled,
  celeryVersion,
  INSTALL_LINE,
  startCeleryProducer,
  startCeleryWorker,
  type CeleryEnvironment,
  type CeleryProducer,
  type CeleryWorker,
} from './celery/celery-processes.js';
import { add, ferryApp, noop, WORKER_EVENTS, xsum } from './celery/ferry-app.js';
import { workflows } from './celery/ferry-entry.js';
import { startRedisServer, type RedisServer } from './celery/redis-server.js';
import { startSqsQueryProxy, type SqsQueryProxy } from './celery/sqs-query-proxy.js';

const N = Number(process.env.BENCH_TASKS ?? 1000);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CELERY_CONCURRENCY = Number(process.env.BENCH_CELERY_CONCURRENCY ?? 2);
const TRANSPORTS = (process.env.BENCH_CELERY_TRANSPORTS ?? 'sqs,redis').split(',').map((t) => t.trim());
/** Tasks run on each system before measuring: loads the handlers and opens the connections. */
const WARMUP_TASKS = 20;
const POLL_MS = 10;
const DRAIN_TIMEOUT_MS = 300_000;
const EXPECTED_CHORD = MEMBERS * (MEMBERS - 1); // the sum of 2i for i < MEMBERS
const DYNAMODB_COMMANDS = ['PutItem', 'UpdateItem', 'DeleteItem', 'GetItem', 'Query', 'Scan', 'BatchWriteItem', 'BatchGetItem', 'TransactWriteItems', 'TransactGetItems'];

type Labels = Record<string, string | number | boolean>;

/** One drain of N no-op tasks. */
interface Drain {
  readonly seconds: number;
  /** Until every task was sent (the enqueue call returned), from the same start. */
  readonly enqueueSeconds: number;
  readonly brokerCalls: number;
  readonly storeCalls: number;
}

/** The numbers a chord workload reports. */
interface ChordRuns {
  readonly wallsMs: readonly number[];
  readonly brokerCalls: number;
}

async function until(done: () => Promise<boolean>, what: string, check: () => void = () => undefined): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (!(await done())) {
    check();
    if (Date.now() > deadline) throw new Error(`timed out after ${DRAIN_TIMEOUT_MS / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * The rate at which `done()` (tasks finished so far) climbs from `from` to
 * `from + n`, timed from its first rise to the end: the workers' own pace on
 * a queue already holding the tasks, without the start of the workers.
 */
async function drainRate(done: () => Promise<number>, from: number, n: number, check: () => void = () => undefined): Promise<number> {
  let first: { readonly at: number; readonly count: number } | undefined;
  let count = from;
  await until(async () => {
    count = await done();
    if (first === undefined && count > from) first = { at: performance.now(), count };
    return count >= from + n;
  }, `a drain of ${n} tasks`, check);
  if (first === undefined || count === first.count) throw new Error('the drain finished within one poll: too few tasks to time (raise BENCH_TASKS)');
  return (count - first.count) / ((performance.now() - first.at) / 1000);
}

// ---------------------------------------------------------------- Ferry

class FerrySide {
  private readonly jobs = createJobClient();
  constructor(private readonly runtime: LocalRuntime) {}

  /** SQS calls: this process's (sends, the worker's) and the event source mapping's receives and deletes. */
  private async brokerCalls(calls: CallCounter): Promise<number> {
    const q = (await this.runtime.stats()).queues.jobs;
    return calls.sqsCalls() + (q?.receiveCalls ?? 0) + (q?.deleteCalls ?? 0);
  }

  private async deleted(): Promise<number> {
    return (await this.runtime.stats()).queues.jobs?.deleted ?? 0;
  }

  async noops(n: number, stored: boolean): Promise<Drain> {
    await drained(this.runtime, 'jobs');
    const calls = new CallCounter();
    const brokerBefore = await this.brokerCalls(calls);
    const deletedBefore = await this.deleted();
    const started = performance.now();
    await this.jobs.enqueueMany(noop, Array.from({ length: n }, (_, i) => ({ n: i })), { trackStatus: stored });
    const enqueueSeconds = (performance.now() - started) / 1000;
    await until(async () => (await this.deleted()) - deletedBefore >= n, `Ferry to drain ${n} tasks`);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, enqueueSeconds, brokerCalls: (await this.brokerCalls(calls)) - brokerBefore, storeCalls: calls.get(...DYNAMODB_COMMANDS.map((c) => `dynamodb:${c}`)) };
  }

  /**
   * Sends n untracked no-ops while the event source mapping is disabled, then
   * enables it and times the drain. Receives already waiting when it was
   * disabled still take a batch each (as on AWS); those finish first.
   */
  async drainOnly(n: number): Promise<number> {
    await drained(this.runtime, 'jobs');
    this.runtime.setEventSourceEnabled('worker', 'jobs', false);
    const receivedLessDeleted = async () => {
      const q = (await this.runtime.stats()).queues.jobs;
      return (q?.received ?? 0) - (q?.deleted ?? 0);
    };
    const settled = await receivedLessDeleted();
    const before = await this.deleted();
    await this.jobs.enqueueMany(noop, Array.from({ length: n }, (_, i) => ({ n: i })), { trackStatus: false });
    await until(async () => (await receivedLessDeleted()) === settled, 'the batches received before the mapping was disabled');
    await new Promise((r) => setTimeout(r, 200));
    const start = await this.deleted();
    this.runtime.setEventSourceEnabled('worker', 'jobs', true);
    return drainRate(() => this.deleted(), start, n - (start - before));
  }

  async chords(members: number, runs: number): Promise<ChordRuns> {
    const wallsMs: number[] = [];
    await drained(this.runtime, 'jobs');
    const calls = new CallCounter();
    const brokerBefore = await this.brokerCalls(calls);
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const { workflowId } = await workflows.start(chord(Array.from({ length: members }, (_, i) => s(add, [i, i])), s(xsum)));
      await until(async () => {
        const view = await workflows.get(workflowId);
        if (view.status === 'RUNNING') return false;
        if (view.status !== 'SUCCEEDED' || view.result !== EXPECTED_CHORD) throw new Error(`Ferry's chord ended ${view.status} with ${String(view.result)}, expected ${EXPECTED_CHORD}`);
        return true;
      }, "Ferry's chord");
      wallsMs.push(performance.now() - started);
      await drained(this.runtime, 'jobs');
    }
    return { wallsMs, brokerCalls: (await this.brokerCalls(calls)) - brokerBefore };
  }
}

// ---------------------------------------------------------------- Celery

/** Where Celery's messages go, and how its calls and acknowledgements are counted there. */
interface CeleryBroker {
  readonly environment: Omit<CeleryEnvironment, 'backend'>;
  /**
   * The environment for a worker started anew. On SQS, a new queue: a killed
   * worker's long poll stays open in fauxqs (as in SQS) and would take the
   * first messages sent, hiding them for the visibility timeout. On Redis, the
   * same list (the server ends a closed connection's BRPOP).
   */
  freshEnvironment(): Promise<Omit<CeleryEnvironment, 'backend'>>;
  /** Calls to the broker so far. */
  calls(): Promise<number>;
  /** Messages acknowledged (deleted) so far: with `task_acks_late`, tasks finished. */
  acks(): Promise<number>;
  readonly labels: Labels;
  /** What one broker call is: an SQS request, or a Redis command (MULTI and EXEC count as commands). */
  readonly callUnit: 'requests' | 'commands';
  /** The query-protocol proxy, on SQS. */
  readonly proxy?: SqsQueryProxy;
  stop(): Promise<void>;
}

async function sqsBroker(runtime: LocalRuntime): Promise<CeleryBroker> {
  // Queues of Celery's own in the fauxqs the runtime started (not declared in the Ferry app: no Ferry worker polls them).
  const sqs = new SQSClient({ endpoint: runtime.endpoints.sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const proxy = await startSqsQueryProxy({ upstream: runtime.endpoints.sqsEndpoint });
  let queues = 0;
  const environment = async () => {
    const name = `${runtime.resources.queues.jobs?.name ?? 'bench-celery'}-celery-${++queues}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error(`fauxqs created queue ${name} without a URL`);
    return { broker: `sqs://local:local@${new URL(proxy.endpoint).host}/`, queueUrl: proxy.queueUrl(QueueUrl) };
  };
  return {
    proxy,
    environment: await environment(),
    freshEnvironment: environment,
    calls: async () => proxy.calls(),
    acks: async () => proxy.counts().DeleteMessage ?? 0,
    labels: { transport: 'sqs', broker: 'fauxqs via query proxy' },
    callUnit: 'requests',
    stop: async () => {
      sqs.destroy();
      await proxy.close();
    },
  };
}

async function redisBroker(): Promise<CeleryBroker> {
  const redis = await startRedisServer();
  return {
    environment: { broker: redis.url },
    freshEnvironment: async () => ({ broker: redis.url }),
    calls: () => redis.commands(),
    // kombu's Redis transport acknowledges a message by removing it from its unacked hash (one HDEL).
    acks: async () => (await redis.commandStats()).hdel ?? 0,
    labels: { transport: 'redis', broker: 'redis-server' },
    callUnit: 'commands',
    stop: () => redis.stop(),
  };
}

/**
 * Celery's worker for the whole run, and a fresh producer for each phase: the
 * Redis result backend subscribes the producer to every stored task's result
 * channel, and a producer kept from the stored phase would process those
 * thousand messages (and unsubscribe) in the next phase, inside its timing.
 */
class CelerySide {
  private environment: CeleryEnvironment;
  private worker: CeleryWorker;

  constructor(
    private readonly broker: CeleryBroker,
    private readonly backend: RedisServer,
  ) {
    this.environment = { ...broker.environment, backend: backend.url };
    this.worker = startCeleryWorker(this.environment, CELERY_CONCURRENCY);
  }

  private async withProducer<T>(phase: (producer: CeleryProducer) => Promise<T>): Promise<T> {
    const producer = await startCeleryProducer(this.environment);
    try {
      return await phase(producer);
    } finally {
      await producer.stop();
    }
  }

  private async acksSince(before: number): Promise<number> {
    return (await this.broker.acks()) - before;
  }

  async noops(n: number, stored: boolean): Promise<Drain> {
    return this.withProducer(async (producer) => {
      const acksBefore = await this.broker.acks();
      const brokerBefore = await this.broker.calls();
      const storeBefore = await this.backend.commands();
      const started = performance.now();
      const { sent } = await producer.sendNoops(n, stored);
      if (sent !== n) throw new Error(`the Celery producer sent ${sent} tasks, not ${n}`);
      const enqueueSeconds = (performance.now() - started) / 1000;
      await until(async () => (await this.acksSince(acksBefore)) >= n, `Celery to drain ${n} tasks`, () => this.worker.assertRunning());
      const seconds = (performance.now() - started) / 1000;
      return { seconds, enqueueSeconds, brokerCalls: (await this.broker.calls()) - brokerBefore, storeCalls: (await this.backend.commands()) - storeBefore };
    });
  }

  /** Stops the worker, sends n no-ops (results not stored), starts a new worker and times its drain. */
  async drainOnly(n: number): Promise<number> {
    await this.worker.stop();
    this.environment = { ...(await this.broker.freshEnvironment()), backend: this.backend.url };
    const before = await this.broker.acks();
    await this.withProducer(async (producer) => producer.sendNoops(n, false));
    this.worker = startCeleryWorker(this.environment, CELERY_CONCURRENCY);
    return drainRate(() => this.broker.acks(), before, n, () => this.worker.assertRunning());
  }

  async chords(members: number, runs: number): Promise<ChordRuns> {
    return this.withProducer(async (producer) => {
      const wallsMs: number[] = [];
      const brokerBefore = await this.broker.calls();
      for (let run = 0; run < runs; run++) {
        const acksBefore = await this.broker.acks();
        const { result, wall_ms } = await producer.chord(members);
        if (result !== EXPECTED_CHORD) throw new Error(`Celery's chord returned ${String(result)}, expected ${EXPECTED_CHORD}`);
        wallsMs.push(wall_ms);
        // The callback's result is stored before its message is acknowledged: wait for every ack.
        await until(async () => (await this.acksSince(acksBefore)) >= members + 1, "Celery's chord messages to be acknowledged", () => this.worker.assertRunning());
      }
      return { wallsMs, brokerCalls: (await this.broker.calls()) - brokerBefore };
    });
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}

// ---------------------------------------------------------------- the run

interface Side {
  readonly labels: Labels;
  readonly brokerUnit: string;
  readonly store: 'dynamodb' | 'redis';
  readonly storeUnit: string;
}

function report(figures: Figures, side: Side, drains: { readonly none: Drain; readonly stored: Drain }, chords: ChordRuns, drainPerS: number): void {
  const { labels } = side;
  for (const [results, d] of [['none', drains.none], ['stored', drains.stored]] as const) {
    figures.report('noop_tasks_per_s', N / d.seconds, 'tasks/s', { ...labels, results, tasks: N });
    figures.report('noop_enqueued_per_s', N / d.enqueueSeconds, 'tasks/s', { ...labels, results, tasks: N });
    figures.report('broker_calls_per_task', d.brokerCalls / N, side.brokerUnit, { ...labels, results, tasks: N });
    if (results === 'stored') figures.report('result_store_calls_per_task', d.storeCalls / N, side.storeUnit, { ...labels, results, store: side.store, tasks: N });
  }
  figures.report('noop_drain_per_s', drainPerS, 'tasks/s', { ...labels, results: 'none', tasks: N, queued: 'all, before the workers start' });
  const walls = [...chords.wallsMs].sort((a, b) => a - b);
  figures.report(`chord_${MEMBERS}_wall_ms`, percentile(walls, 50), 'ms', { ...labels, runs: RUNS, stat: 'median', min: Math.round(walls[0] ?? NaN), max: Math.round(walls.at(-1) ?? NaN) });
  figures.report('broker_calls_per_chord_member', chords.brokerCalls / RUNS / (MEMBERS + 1), side.brokerUnit, { ...labels, members: MEMBERS + 1, runs: RUNS });
}

function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  if (!celeryInstalled()) {
    console.error(`bench/celery.ts needs Debian's Celery 5 and Redis (run with /usr/bin/python3): ${INSTALL_LINE}`);
    process.exit(1);
  }
  for (const transport of TRANSPORTS) if (transport !== 'sqs' && transport !== 'redis') throw new Error(`BENCH_CELERY_TRANSPORTS: "${transport}" is not sqs or redis`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  console.error(`Celery ${celeryVersion()}, prefork -c ${CELERY_CONCURRENCY}; Ferry in one Node process; ${cpus().length} CPUs, load ${load()}; N=${N}, chord of ${MEMBERS} x ${RUNS}`);

  const figures = new Figures('celery');
  const runtime = await startLocalRuntime({ app: ferryApp, httpPort: 0, prefix: `bench-celery-${process.pid}`, log: () => undefined });
  const backend = await startRedisServer();
  try {
    // Ferry.
    const ferry = new FerrySide(runtime);
    await ferry.noops(WARMUP_TASKS, false);
    const ferryDrains = { none: await ferry.noops(N, false), stored: await ferry.noops(N, true) };
    const ferryChords = await ferry.chords(MEMBERS, RUNS);
    const ferryDrainPerS = await ferry.drainOnly(N);
    const ferryConcurrency = `1 process, batches of ${WORKER_EVENTS.batchSize} x ${WORKER_EVENTS.maxConcurrency} concurrent`;
    const ferryLabels = { system: 'ferry', transport: 'sqs', broker: 'fauxqs', concurrency: ferryConcurrency };
    report(figures, { labels: ferryLabels, brokerUnit: 'requests', store: 'dynamodb', storeUnit: 'requests' }, ferryDrains, ferryChords, ferryDrainPerS);

    // Celery, on each transport.
    for (const transport of TRANSPORTS) {
      const broker = transport === 'sqs' ? await sqsBroker(runtime) : await redisBroker();
      try {
        const celery = new CelerySide(broker, backend);
        try {
          await celery.noops(WARMUP_TASKS, false);
          const drains = { none: await celery.noops(N, false), stored: await celery.noops(N, true) };
          const chords = await celery.chords(MEMBERS, RUNS);
          const drainPerS = await celery.drainOnly(N);
          const labels = { system: 'celery', ...broker.labels, concurrency: `prefork -c ${CELERY_CONCURRENCY}` };
          report(figures, { labels, brokerUnit: broker.callUnit, store: 'redis', storeUnit: 'commands' }, drains, chords, drainPerS);
          const { proxy } = broker;
          if (proxy !== undefined) {
            figures.report('sqs_proxy_overhead_ms_per_request', proxy.overheadMs() / proxy.calls(), 'ms', { system: 'celery', transport: 'sqs', requests: proxy.calls() });
          }
        } finally {
          await celery.stop();
        }
      } finally {
        await broker.stop();
      }
    }
    figures.table();
    console.error(`load at the end: ${load()}`);
  } finally {
    await backend.stop();
    await runtime.stop();
  }
}

await main();
