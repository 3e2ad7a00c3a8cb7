/**
 * The local runtime: the declared app running on this machine against real
 * AWS emulators, with the same handlers Lambda runs.
 *
 * It starts (or joins) the emulators, creates every declared table and queue,
 * sets the environment the declaration defines, loads each function's handler,
 * and drives it the way AWS would: REST API routes over HTTP, SQS and DynamoDB
 * stream event source mappings, and scheduled rules.
 *
 * With `code: 'bundles'` (npm start, the e2e suite) each function runs its
 * synthesized bundle in sandboxes of its own (worker threads with exactly its
 * environment; sandbox-pool.ts). With `code: 'sources'` functions run in this
 * process and share `process.env`: each resource's variable has the same value
 * for every function that uses it, and the runtime sets the union. Either way
 * the runtime sets the union in this process too, for tests and tools acting
 * as clients, and checks every AWS call a function makes (IAM, timeouts, SQS
 * rules). One runtime runs per process at a time.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { App } from '../app/define-app.js';
import { environmentOf, type SqsSource, type StreamSource } from '../app/define-app.js';
import { toWholeSeconds } from '../app/duration.js';
import type { EmulatorEndpoints } from './emulator-protocol.js';
import { sqsTraffic, startEmulators, type Emulators } from './emulators.js';
import { FunctionHost } from './function-host.js';
import { LOCAL_REGION, localClients } from './local-clients.js';
import { localName, provision, type Provisioned } from './provision.js';
import { jsonResponse, startRestApiServer, type RestApiServer } from './rest-api-server.js';
import { useClientPlugin } from '../aws/clients.js';
import { deployedPolicies } from './deployed-policies.js';
import { denialLine, iamCheckPlugin, localArns, principalOf } from './iam-check.js';
import { deadlineCheckPlugin } from './deadline-check.js';
import { deployedBundles } from './deployed-bundles.js';
import { logFormat, parseOutputLine, prettyEntry } from '../util/log-format.js';
import { LocalMetrics } from './local-metrics.js';
import { LocalCloudWatch } from './local-cloudwatch.js';
import { SqsMetrics } from './sqs-metrics.js';
import { levelShown, type LogLevel } from '../util/log.js';
import { heartbeatAlarmSpecs, LocalAlarms, type LocalAlarmStatus } from './local-alarms.js';
import { LocalXrayDaemon, type XrayDocument } from './local-xray.js';
import { SandboxPool } from './sandbox-pool.js';
import { ReceiptLog, sqsRefusalLine, sqsRulesPlugin } from './sqs-rules.js';
import { RuntimeStats, type StatsSnapshot } from './runtime-stats.js';
import { Scheduler, UnknownScheduleError } from './scheduler.js';
import { SqsEventSource } from './sqs-event-source.js';
import { describePlan, FaultInjector, faultPlanFromEnv, installSkewedClock, invocationSkew, type FaultKind, type FaultPlan } from './fault-injection.js';
import { StreamEventSource } from './stream-event-source.js';

const REGION = LOCAL_REGION;

export interface LocalRuntimeOptions {
  /** The app to run: its declaration, from `defineApp`. */
  readonly app: App;
  /** Prefix of every local resource name. @default the app's name */
  readonly prefix?: string;
  /** Where `entry` paths (and `package-lock.json`) are resolved. @default the working directory */
  readonly projectRoot?: string;
  /** Running emulators to use; when absent the runtime starts its own and stops them on `stop()`. */
  readonly emulators?: EmulatorEndpoints;
  /** DynamoDB Local data folder, for emulators the runtime starts. @default none: in memory */
  readonly dataDir?: string;
  /** Delete `dataDir` before starting. @default false */
  readonly clean?: boolean;
  /** @default a free port */
  readonly dynamodbPort?: number;
  /** @default a free port */
  readonly sqsPort?: number;
  /** HTTP port of the local API; 0 picks a free one. @default 3000 */
  readonly httpPort?: number;
  /** @default '127.0.0.1' */
  readonly httpHost?: string;
  /**
   * Also serve the routes at the root (`/reports`), not only under the stage
   * path the deployed API has (`/prod/reports`). Turn it off to test that every
   * link works where the API is deployed.
   * @default true
   */
  readonly serveRoot?: boolean;
  /** Where invocation lines and warnings go. @default console.log */
  readonly log?: (line: string) => void;
  /**
   * Also gets every line a sandboxed function writes, as it wrote it (JSON
   * entries, whatever this process's log level shows), to read them as
   * CloudWatch Logs would hold them. @default none
   */
  readonly functionOutput?: (line: string) => void;
  /**
   * The level sandboxed functions log at (their `FERRY_LOG_LEVEL`), as a
   * deployed function's environment would set it; what this process prints of
   * their lines still follows its own `FERRY_LOG_LEVEL`.
   * @default this process's `FERRY_LOG_LEVEL`
   */
  readonly functionLogLevel?: LogLevel;
  /**
   * How often the runtime samples SQS's queue metrics (`AWS/SQS`:
   * ApproximateAgeOfOldestMessage and the message counts) into its metric
   * store, which its CloudWatch GetMetricData answers from (sqs-metrics.ts).
   * @default 60_000 (SQS publishes them once a minute)
   */
  readonly sqsMetricsIntervalMs?: number;
  /**
   * Check every AWS call a function makes against the IAM policy the deployed
   * stack gives it (synthesized from the app's declaration), refusing what it
   * does not grant with `AccessDeniedException`, as AWS does.
   * @default true
   */
  readonly iam?: boolean;
  /**
   * What the functions run: the TypeScript `sources` their declaration names,
   * or the `bundles` that `cdk synth` of the app's stack writes (esbuild, the
   * AWS SDK inside), loaded from the handler the template names, as deployed.
   * Bundling takes a few seconds more at start.
   * @default 'sources'
   */
  readonly code?: 'sources' | 'bundles';
  /**
   * Run each function in sandboxes of its own, as Lambda does: worker threads
   * with exactly the function's environment and a heap limit from its memory,
   * one invocation at a time each, reused while warm, terminated on timeout.
   * Needs `code: 'bundles'` (a sandbox loads the bundle, not TypeScript).
   * @default true with `code: 'bundles'`, false otherwise (functions run in this process)
   */
  readonly sandboxes?: boolean;
  /**
   * Runs once the resources exist and the environment is set, before any
   * function is loaded or invoked and before the API listens: for data that
   * no request may see half-written (`npm start`'s demo data set).
   * @default nothing
   */
  readonly prepare?: (context: PrepareContext) => Promise<void>;
  /**
   * Inject AWS's faults (throttling, lost responses, killed environments,
   * duplicate and late deliveries, clock skew; fault-injection.ts) at the
   * plan's rates, from its seed, which is logged.
   * @default the plan `FERRY_FAULTS` and `FERRY_FAULT_SEED` describe; none when unset
   */
  readonly faults?: FaultPlan | false;
}

export interface PrepareContext {
  readonly resources: Provisioned;
  readonly environment: Readonly<Record<string, string>>;
}

export interface EnforcementCounts {
  /** Calls made inside invocations that the IAM check saw. */
  readonly iamChecked: number;
  readonly iamDenied: number;
  /** Calls refused because their invocation had timed out. */
  readonly lateCallsRefused: number;
  /** SQS calls refused by the rules fauxqs does not enforce. */
  readonly sqsRefused: number;
}

export interface LocalFunctionSettings {
  /** The file the function's handler is loaded from: its TypeScript entry, or the synthesized bundle. */
  readonly codeFile: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The module export invoked. */
  readonly handler: string;
  /** The variables the declaration gives this function (resource names and its own), as the stack sets them. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface LocalRuntime {
  /** Base URL of the local REST API, e.g. `http://localhost:3000`. */
  readonly url: string;
  readonly endpoints: EmulatorEndpoints;
  /** Physical names and URLs of the declared tables and queues. */
  readonly resources: Provisioned;
  /** The environment the runtime set for the functions. */
  readonly environment: Readonly<Record<string, string>>;
  /** What each function runs with, by declared id: the settings the contract test compares with the synthesized stack. */
  readonly functions: Readonly<Record<string, LocalFunctionSettings>>;
  /** How often the runtime's AWS checks ran and refused, since it started (see the README's table of what is enforced). */
  enforcement(): EnforcementCounts;
  /** Per sandboxed function: sandboxes live now and started so far (cold starts). Empty when functions run in this process. */
  sandboxes(): Readonly<Record<string, { readonly live: number; readonly started: number }>>;
  /** The SQS and stream event source mappings the runtime drives, with their settings. */
  readonly eventSources: { readonly sqs: readonly SqsSource[]; readonly streams: readonly StreamSource[] };
  stats(): Promise<StatsSnapshot>;
  /**
   * The declared alarms (queue heartbeats) and their states, evaluated on the
   * metrics the sandboxed functions' EMF lines carry (functions running in
   * this process, `code: 'sources'`, feed no metrics).
   */
  alarms(): LocalAlarmStatus[];
  /**
   * The X-Ray segment documents the sandboxed functions sent to the local
   * daemon (Powertools Tracer's subsegments: AWS calls, jobs), oldest first;
   * with `traceId`, one trace's. Empty when functions run in this process.
   */
  xray(traceId?: string): readonly XrayDocument[];
  /** Invokes a declared schedule's function now, with the event of a tick at `at` (default now; the same `at` twice is one tick delivered twice). */
  fireSchedule(name: string, at?: Date): Promise<void>;
  /**
   * Disables or enables the SQS event source of `functionId` on `queue`
   * (UpdateEventSourceMapping `Enabled`): while disabled, its messages wait in
   * the queue. Throws when no such event source is declared.
   */
  setEventSourceEnabled(functionId: string, queue: string, enabled: boolean): void;
  /**
   * Resolves once the disabled SQS event source of `functionId` on `queue`
   * holds nothing (its State reaching Disabled): receives still in flight
   * (a long poll lasts up to 20 s) can deliver until then, as on AWS.
   */
  eventSourceDisabled(functionId: string, queue: string): Promise<void>;
  /** The fault plan and the faults injected so far, by kind; undefined when none are injected. */
  faults(): { readonly plan: FaultPlan; readonly injected: Readonly<Record<FaultKind, number>>; readonly total: number } | undefined;
  /** The fault injector, when faults are on: tests script faults at given calls with `addScript`. */
  readonly injector: FaultInjector | undefined;
  /** Stops polling, lets invocations in hand finish, closes the API, and stops emulators it started. */
  stop(): Promise<void>;
}

export class RuntimeAlreadyRunningError extends Error {
  override readonly name = 'RuntimeAlreadyRunningError';
}

let running = false;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  if (running) {
    throw new RuntimeAlreadyRunningError('a local runtime is already running in this process; stop it first (functions share process.env)');
  }
  running = true;
  const cleanups: (() => Promise<void>)[] = [];
  const savedEnv = { ...process.env };
  cleanups.push(async () => {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    running = false;
  });
  try {
    return await start(options, cleanups);
  } catch (error) {
    await runCleanups(cleanups);
    throw error;
  }
}

async function start(options: LocalRuntimeOptions, cleanups: (() => Promise<void>)[]): Promise<LocalRuntime> {
  const app = options.app;
  const prefix = options.prefix ?? app.name;
  const projectRoot = options.projectRoot ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));

  let endpoints: EmulatorEndpoints;
  if (options.emulators) {
    endpoints = options.emulators;
  } else {
    if (options.clean && options.dataDir) rmSync(options.dataDir, { recursive: true, force: true });
    const started: Emulators = await startEmulators({
      ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
      ...(options.dynamodbPort !== undefined && { dynamodbPort: options.dynamodbPort }),
      ...(options.sqsPort !== undefined && { sqsPort: options.sqsPort }),
    });
    cleanups.unshift(() => started.stop());
    endpoints = started;
  }

  const clients = localClients(endpoints);
  const { dynamodb, streams, sqs } = clients;
  cleanups.unshift(async () => clients.destroy());

  const provisioned = await provision(app, prefix, { dynamodb, sqs });
  // CloudWatch's part: the metric store (the functions' EMF metrics, SQS's queue metrics) and its GetMetricData.
  const metrics = new LocalMetrics();
  const cloudwatch = await LocalCloudWatch.start(metrics);
  cleanups.unshift(() => cloudwatch.close());

  // The environment Lambda would give the functions, and the endpoints that
  // point the SDK at the emulators through its standard variables.
  const environment: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
  };
  if (!process.env.AWS_ACCESS_KEY_ID) Object.assign(environment, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  const sandboxed = options.sandboxes ?? options.code === 'bundles';
  if (sandboxed && options.code !== 'bundles') throw new Error("sandboxes run the synthesized bundles: start the runtime with code: 'bundles'");
  // Bundled (or taken from the cache) while the resources are created and `prepare` writes its data.
  const bundlesReady = options.code === 'bundles' ? deployedBundles(app, projectRoot) : Promise.resolve(undefined);

  const functionSettings: Record<string, LocalFunctionSettings> = {};
  for (const fn of app.functions) {
    const env = environmentOf(app, fn, {
      tableName: (id) => provisioned.tables[id]?.name ?? '',
      queueUrl: (id) => provisioned.queues[id]?.url ?? '',
      deadLetterQueueUrl: (id) => provisioned.queues[id]?.deadLetter.url ?? '',
    });
    for (const [key, value] of Object.entries(env)) {
      if (environment[key] !== undefined && environment[key] !== value) {
        throw new Error(`function "${fn.id}" sets ${key}=${value} but another function sets it to ${environment[key]}; in-process functions share one environment`);
      }
      environment[key] = value;
    }
    functionSettings[fn.id] = {
      codeFile: join(projectRoot, fn.entry),
      timeoutSeconds: toWholeSeconds(fn.timeout, `function "${fn.id}": timeout`),
      memoryMb: fn.memoryMb,
      handler: fn.handler,
      environment: env,
    };
  }
  Object.assign(process.env, environment);
  // The deployed policies (a synthesis on a cold cache) are read while `prepare` writes its data.
  const iam = options.iam ?? true;
  // After the bundles: their synthesis records the policies, so they need no second one.
  const policiesRead = iam
    ? bundlesReady.then(() => deployedPolicies(app, projectRoot, {
        tables: Object.fromEntries(Object.entries(provisioned.tables).map(([id, t]) => [id, t.arn])),
        queues: Object.fromEntries(Object.entries(provisioned.queues).map(([id, q]) => [id, q.arn])),
        deadLetterQueues: Object.fromEntries(Object.entries(provisioned.queues).map(([id, q]) => [id, q.deadLetter.arn])),
      }))
    : undefined;
  const [policies, deployed] = await Promise.all([policiesRead, bundlesReady, options.prepare?.({ resources: provisioned, environment })]);
  const bundles: Record<string, { file: string; handler: string }> = { ...deployed?.functions };
  const bootstrapFile = sandboxed ? deployed?.bootstrapFile : undefined;
  for (const [id, code] of Object.entries(bundles)) {
    const settings = functionSettings[id];
    if (settings !== undefined) functionSettings[id] = { ...settings, codeFile: code.file, handler: code.handler };
  }

  // An invocation that timed out makes no more AWS calls, as its stopped environment would not.
  const counts = { iamChecked: 0, iamDenied: 0, lateCallsRefused: 0, sqsRefused: 0 };
  const removeDeadlineCheck = useClientPlugin(
    deadlineCheckPlugin((error) => {
      counts.lateCallsRefused++;
      log(`timeout: ${error.message}`);
    }),
  );
  cleanups.unshift(async () => removeDeadlineCheck());
  // SQS's own limits that fauxqs does not check.
  const receipts = new ReceiptLog();
  const removeSqsRules = useClientPlugin(
    sqsRulesPlugin(receipts, (call, error) => {
      counts.sqsRefused++;
      log(sqsRefusalLine(call, error));
    }),
  );
  cleanups.unshift(async () => removeSqsRules());

  if (iam && policies !== undefined) {
    const arns = localArns(localTableArns(provisioned), localQueueArns(provisioned), REGION);
    const removePlugin = useClientPlugin(
      iamCheckPlugin({
        policies,
        arns,
        principalOf: (functionId) => principalOf(localName(prefix, functionId)),
        onChecked: () => void counts.iamChecked++,
        onDenied: (error) => {
          counts.iamDenied++;
          log(denialLine(error));
        },
      }),
    );
    cleanups.unshift(async () => removePlugin());
  }

  const plan = options.faults === false ? undefined : (options.faults ?? faultPlanFromEnv());
  const injector = plan === undefined ? undefined : new FaultInjector(plan);
  if (injector !== undefined && plan !== undefined) {
    log(describePlan(plan));
    const removeFaults = useClientPlugin(injector.plugin());
    const restoreClock = installSkewedClock(invocationSkew);
    cleanups.unshift(async () => {
      removeFaults();
      restoreClock();
    });
  }

  const stats = new RuntimeStats();
  // X-Ray's part: the daemon the sandboxes' X-Ray SDK sends subsegments to.
  const xray = bootstrapFile !== undefined ? await LocalXrayDaemon.start() : undefined;
  if (xray !== undefined) cleanups.unshift(() => xray.close());
  // The declared alarms, evaluated on the metric store; SQS's metrics sampled into it.
  const alarms = new LocalAlarms(
    heartbeatAlarmSpecs(app, (queueId) => provisioned.queues[queueId]?.name ?? queueId, prefix),
    metrics,
    log,
  );
  const functionOutput = (line: string): void => {
    metrics.ingest(line);
    options.functionOutput?.(line);
    const shown = readableLine(line);
    if (shown !== undefined) process.stdout.write(`${shown}\n`);
  };
  const hosts = new Map<string, FunctionHost>();
  const sandboxPools = new Map<string, SandboxPool>();
  for (const fn of app.functions) {
    const code = bundles[fn.id];
    const settings = functionSettings[fn.id];
    const physicalName = localName(prefix, fn.id);
    let sandboxes: SandboxPool | undefined;
    if (bootstrapFile !== undefined && code !== undefined && settings !== undefined) {
      sandboxes = new SandboxPool({
        bootstrapFile,
        data: {
          functionId: fn.id,
          functionName: physicalName,
          file: code.file,
          handler: code.handler,
          memoryMb: fn.memoryMb,
          region: REGION,
          ...(policies !== undefined && { policy: policies.get(fn.id) ?? [] }),
          principal: principalOf(physicalName),
          arns: { tables: localTableArns(provisioned), queues: localQueueArns(provisioned) },
          ...(plan !== undefined && { faults: plan }),
        },
        ...(injector !== undefined && { onFault: (kind: FaultKind) => injector.count(kind) }),
        env: {
          ...sandboxEnvironment(fn, physicalName, settings.environment, environment, options.functionLogLevel),
          // Lambda's, for a traced function: its code's directory (the X-Ray SDK's sign that it runs on Lambda) and the daemon.
          LAMBDA_TASK_ROOT: dirname(code.file),
          ...(xray !== undefined && { AWS_XRAY_DAEMON_ADDRESS: xray.address, AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR' }),
        },
        onOutput: functionOutput,
        onCheck: (kind, line) => {
          counts[kind]++;
          if (line !== undefined) log(line);
        },
      });
      sandboxPools.set(fn.id, sandboxes);
    }
    const host = new FunctionHost({
      fn,
      physicalName,
      projectRoot,
      region: REGION,
      stats,
      log,
      receipts,
      ...(code && { code }),
      ...(sandboxes && { sandboxes }),
      ...(injector !== undefined && sandboxes === undefined && { faults: injector }),
    });
    await host.load();
    hosts.set(fn.id, host);
  }
  cleanups.unshift(async () => void (await Promise.all([...hosts.values()].map((h) => h.drain()))));

  const sqsSources = app.sqsSources.map((source) => {
    const queue = provisioned.queues[source.queue];
    const host = hosts.get(source.functionId);
    if (queue === undefined || host === undefined) throw new Error(`sqs source ${source.functionId}/${source.queue} is not provisioned`);
    return new SqsEventSource({ source, queue, host, sqs, region: REGION, stats, log, receipts, ...(injector !== undefined && { faults: injector }), visibilityMs: app.queues.find((q) => q.id === source.queue)?.visibilityTimeout.milliseconds ?? 30_000 });
  });
  const streamSources = app.streamSources.map((source) => {
    const host = hosts.get(source.functionId);
    const table = provisioned.tables[source.table];
    if (table === undefined || host === undefined) throw new Error(`stream source ${source.functionId}/${source.table} is not provisioned`);
    return new StreamEventSource({ source, tableName: table.name, host, dynamodb, streams, region: REGION, stats, log });
  });
  const scheduler = new Scheduler({
    schedules: app.schedules,
    hosts,
    region: REGION,
    stats,
    ruleArn: (name) => `arn:aws:events:${REGION}:000000000000:rule/${localName(prefix, name)}`,
  });

  const queueNames = Object.fromEntries(
    Object.entries(provisioned.queues).map(([id, q]) => [id, { name: q.name, deadLetterName: q.deadLetter.name }]),
  );
  const snapshot = async () => stats.snapshot([...hosts.keys()], queueNames, await sqsTraffic(endpoints));

  const server: RestApiServer = await startRestApiServer({
    routes: app.routes,
    hosts,
    host: options.httpHost ?? '127.0.0.1',
    port: options.httpPort ?? 3000,
    stage: app.api.stageName,
    serveRoot: options.serveRoot ?? true,
    binaryMediaTypes: app.api.binaryMediaTypes,
    iam: { accessKeyId: environment.AWS_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: environment.AWS_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'local', region: REGION },
    control: async (method, path) => {
      if (method === 'GET' && path === '/_ferry/stats') return jsonResponse(200, await snapshot());
      if (method === 'GET' && path === '/_ferry/alarms') return jsonResponse(200, { alarms: alarms.states() });
      const schedule = /^\/_ferry\/schedules\/([^/]+)$/.exec(path);
      if (method === 'POST' && schedule) {
        try {
          const result = await scheduler.fire(decodeURIComponent(schedule[1] ?? ''));
          return jsonResponse(200, { outcome: result.outcome, durationMs: result.durationMs });
        } catch (error) {
          if (error instanceof UnknownScheduleError) return jsonResponse(404, { message: error.message });
          throw error;
        }
      }
      return undefined;
    },
  });
  cleanups.unshift(() => server.close());

  for (const source of streamSources) await source.start();
  for (const source of sqsSources) source.start();
  const sqsMetrics = new SqsMetrics({
    sqsEndpoint: endpoints.sqsEndpoint,
    queues: Object.values(provisioned.queues).map((q) => q.name),
    deadLetterQueues: Object.values(provisioned.queues).map((q) => q.deadLetter.name),
    metrics,
    ...(options.sqsMetricsIntervalMs !== undefined && { intervalMs: options.sqsMetricsIntervalMs }),
    log,
  });
  scheduler.start();
  alarms.start();
  sqsMetrics.start();
  cleanups.unshift(async () => {
    await sqsMetrics.stop();
    alarms.stop();
    await scheduler.stop();
    await Promise.all([...sqsSources, ...streamSources].map((s) => s.stop()));
  });

  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    endpoints: { dynamodbEndpoint: endpoints.dynamodbEndpoint, sqsEndpoint: endpoints.sqsEndpoint, controlEndpoint: endpoints.controlEndpoint },
    resources: provisioned,
    environment,
    functions: functionSettings,
    enforcement: () => ({ ...counts }),
    injector,
    faults: () => (injector === undefined || plan === undefined ? undefined : { plan, injected: injector.injected(), total: injector.total() }),
    sandboxes: () => Object.fromEntries([...sandboxPools].map(([id, pool]) => [id, { live: pool.size, started: pool.started }])),
    eventSources: { sqs: sqsSources.map((s) => s.source), streams: streamSources.map((s) => s.source) },
    stats: snapshot,
    fireSchedule: async (name, at) => void (await scheduler.fire(name, at)),
    alarms: () => alarms.states(),
    xray: (traceId) => xray?.received(traceId) ?? [],
    setEventSourceEnabled: (functionId, queue, enabled) => {
      const source = sqsSources.find((s) => s.functionId === functionId && s.queueId === queue);
      if (source === undefined) throw new Error(`no sqs event source of function "${functionId}" on queue "${queue}" is declared`);
      source.setEnabled(enabled);
    },
    eventSourceDisabled: async (functionId, queue) => {
      const source = sqsSources.find((s) => s.functionId === functionId && s.queueId === queue);
      if (source === undefined) throw new Error(`no sqs event source of function "${functionId}" on queue "${queue}" is declared`);
      await source.disabledAndIdle();
    },
    stop: () => (stopped ??= runCleanups(cleanups)),
  };
}

/**
 * Exactly what Lambda gives a function's environment: its own variables (from
 * the declaration, as the stack sets them), the region and Lambda's reserved
 * variables, plus what points the SDK at the emulators (endpoints and local
 * credentials) and the host's log settings. Nothing of the other functions.
 */
function sandboxEnvironment(
  fn: { readonly memoryMb: number },
  physicalName: string,
  own: Readonly<Record<string, string>>,
  shared: Readonly<Record<string, string>>,
  logLevel: LogLevel | undefined,
): Record<string, string> {
  const passThrough = ['FERRY_LOG_LEVEL', 'NO_COLOR', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
  const local = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
  return {
    ...own,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: physicalName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    TZ: ':UTC',
    ...Object.fromEntries(local.flatMap((k) => (shared[k] ?? process.env[k]) !== undefined ? [[k, String(shared[k] ?? process.env[k])]] : [])),
    ...Object.fromEntries(passThrough.flatMap((k) => (process.env[k] !== undefined ? [[k, String(process.env[k])]] : []))),
    ...(logLevel !== undefined && { FERRY_LOG_LEVEL: logLevel }),
    ...(process.stdout.isTTY === true && process.stdout.hasColors() && { FORCE_COLOR: '1' }),
  };
}

/**
 * A function's output line as this terminal wants it: a log entry below this
 * process's log level dropped, the rest made readable on a terminal; a
 * metrics document (what CloudWatch reads as data) printed only as JSON, at
 * info; any other line as it is.
 */
function readableLine(line: string): string | undefined {
  const parsed = parseOutputLine(line);
  switch (parsed.kind) {
    case 'text':
      return line;
    case 'metrics':
      return logFormat() === 'json' && levelShown('info') ? line : undefined;
    case 'entry':
      if (!levelShown(parsed.entry.level)) return undefined;
      return logFormat() === 'json' ? line : prettyEntry(parsed.entry, parsed.time);
  }
}

/** ARNs of the provisioned tables, by physical name. */
function localTableArns(provisioned: Provisioned): Record<string, string> {
  return Object.fromEntries(Object.values(provisioned.tables).map((t) => [t.name, t.arn]));
}

/** ARNs of the provisioned queues and dead-letter queues, by URL. */
function localQueueArns(provisioned: Provisioned): Record<string, string> {
  return Object.fromEntries(Object.values(provisioned.queues).flatMap((q) => [[q.url, q.arn], [q.deadLetter.url, q.deadLetter.arn]]));
}

/** Runs cleanups in order (newest first), each even if an earlier one failed. */
async function runCleanups(cleanups: readonly (() => Promise<void>)[]): Promise<void> {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`local runtime: cleanup failed: ${(error as Error).message}`);
    }
  }
}
