/**
 * Validates an {@link AppDeclaration} and applies every default, once. The CDK
 * stack and the local runtime both consume the resulting {@link App}, so a
 * default lives here and nowhere else.
 */
import type {
  AppDeclaration,
  FunctionDeclaration,
  HeartbeatDeclaration,
  HttpMethod,
  KeyType,
  QueueAccess,
  StreamViewType,
  TableAccess,
} from './declaration.js';
import { type Duration, days, seconds, toWholeSeconds } from './duration.js';
import { parseScheduleExpression, type ScheduleExpression } from './schedule-expression.js';
import { deadLetterQueueUrlEnvName, queueUrlEnvName, tableEnvName } from './resource-env.js';

/** The defaults documented on the declaration types, in one place. */
export const DEFAULTS = {
  keyType: 'S' as KeyType,
  handler: 'handler',
  memoryMb: 512,
  maxReceiveCount: 5,
  visibilityTimeoutFactor: 6,
  visibilityTimeoutWithoutConsumer: seconds(30),
  retention: days(4),
  deadLetterRetention: days(14),
  sqsBatchSize: 10,
  sqsMaxBatchingWindow: seconds(0),
  sqsMaxConcurrency: 5,
  streamBatchSize: 100,
  streamStartingPosition: 'LATEST' as const,
  streamRetryAttempts: 3,
  stageName: 'prod',
  heartbeatTable: 'state',
  heartbeatLateAfter: seconds(120),
  heartbeatPeriod: seconds(60),
  heartbeatEvaluationPeriods: 3,
  heartbeatDatapointsToAlarm: 2,
} as const;

/** The variable that tells every function of an app with heartbeats their settings (JSON of {@link HeartbeatEnv}). */
export const HEARTBEAT_ENV = 'FERRY_HEARTBEAT';

/** The stack output holding {@link HEARTBEAT_ENV}'s value, for the operations commands. */
export const HEARTBEAT_SETTINGS_OUTPUT = 'HeartbeatSettings';

/** What {@link HEARTBEAT_ENV} carries. */
export interface HeartbeatEnv {
  readonly queues: readonly string[];
  readonly table: string;
  readonly lateAfterMs: number;
  /** The alarm's period is under a minute: the metric is written at high (1-second) resolution. */
  readonly highResolution: boolean;
}

export interface Table {
  readonly id: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyType };
  readonly sortKey?: { readonly name: string; readonly type: KeyType };
  readonly timeToLiveAttribute?: string;
  readonly stream?: StreamViewType;
}

export interface Queue {
  readonly id: string;
  readonly visibilityTimeout: Duration;
  readonly maxReceiveCount: number;
  readonly retention: Duration;
  readonly deadLetterRetention: Duration;
}

export interface SqsSource {
  readonly functionId: string;
  readonly queue: string;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency: number;
}

export interface StreamSource {
  readonly functionId: string;
  readonly table: string;
  readonly batchSize: number;
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  readonly retryAttempts: number;
}

export interface Schedule {
  readonly functionId: string;
  readonly name: string;
  readonly expression: ScheduleExpression;
  readonly input?: Readonly<Record<string, unknown>>;
}

export interface Route {
  readonly functionId: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** `iam`: only SigV4-signed requests of principals allowed `execute-api:Invoke`. */
  readonly authorization: 'none' | 'iam';
}

/** The declared alarm on a queue's heartbeat latency (CloudWatch's semantics; the local runtime evaluates the same). */
export interface HeartbeatAlarm {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** Alarm when a period's maximum latency is greater than this. */
  readonly thresholdMs: number;
  /**
   * Periods without datapoints are left out; none at all is INSUFFICIENT_DATA
   * (the sender stopped: a waiting canary is itself a datapoint, see heartbeat.ts).
   */
  readonly treatMissingData: 'missing';
}

/** Queue heartbeats, resolved (see {@link HeartbeatDeclaration}). */
export interface Heartbeats {
  readonly sender: string;
  readonly queues: readonly string[];
  readonly table: string;
  readonly lateAfter: Duration;
  readonly alarm: HeartbeatAlarm;
}

export interface LambdaFunction {
  readonly id: string;
  readonly entry: string;
  readonly handler: string;
  readonly timeout: Duration;
  readonly memoryMb: number;
  readonly tables: Readonly<Record<string, TableAccess>>;
  readonly queues: Readonly<Record<string, QueueAccess>>;
  /** `'read'`: may call CloudWatch `GetMetricData` (declared as `uses.metrics`). */
  readonly metrics?: 'read';
  readonly environment: Readonly<Record<string, string>>;
}

/** A validated declaration with every default applied. */
export interface App {
  readonly name: string;
  readonly tables: readonly Table[];
  readonly queues: readonly Queue[];
  readonly functions: readonly LambdaFunction[];
  readonly sqsSources: readonly SqsSource[];
  readonly streamSources: readonly StreamSource[];
  readonly schedules: readonly Schedule[];
  readonly routes: readonly Route[];
  /** The REST API's deployed stage and binary media types. */
  readonly api: { readonly stageName: string; readonly binaryMediaTypes: readonly string[] };
  /** Queue heartbeats, when declared. */
  readonly heartbeats?: Heartbeats;
}

/** Thrown for a declaration that AWS would refuse or that refers to nothing. */
export class InvalidDeclarationError extends Error {
  override readonly name = 'InvalidDeclarationError';
  constructor(readonly problems: readonly string[]) {
    super(`the app declaration has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  }
}

const ID = /^[a-z][a-zA-Z0-9]*$/;
const PATH = /^\/$|^(\/([A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\}))+$/;
const LAMBDA_MAX_TIMEOUT_S = 900;
const SQS_MAX_VISIBILITY_S = 43_200;

/** Validates `declaration` and applies defaults. Throws {@link InvalidDeclarationError} listing every problem. */
export function defineApp(declaration: AppDeclaration): App {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };

  check(/^[a-z][a-z0-9-]{0,30}$/.test(declaration.name), `app name "${declaration.name}" must be lower-case letters, digits and dashes (at most 31)`);
  const tableDecls = declaration.tables ?? {};
  const queueDecls = declaration.queues ?? {};
  for (const id of [...Object.keys(tableDecls), ...Object.keys(queueDecls), ...Object.keys(declaration.functions)]) {
    check(ID.test(id), `id "${id}" must be camelCase letters and digits, starting with a lower-case letter`);
  }

  const functions: LambdaFunction[] = [];
  const sqsSources: SqsSource[] = [];
  const streamSources: StreamSource[] = [];
  const schedules: Schedule[] = [];
  const routes: Route[] = [];

  for (const [id, fn] of Object.entries(declaration.functions)) {
    const where = `function "${id}"`;
    const timeoutS = wholeSeconds(fn.timeout, `${where}: timeout`, problems);
    check(timeoutS >= 1 && timeoutS <= LAMBDA_MAX_TIMEOUT_S, `${where}: timeout must be 1-${LAMBDA_MAX_TIMEOUT_S} seconds (got ${timeoutS})`);
    const memoryMb = fn.memoryMb ?? DEFAULTS.memoryMb;
    check(Number.isInteger(memoryMb) && memoryMb >= 128 && memoryMb <= 10_240, `${where}: memoryMb must be a whole number 128-10240 (got ${memoryMb})`);
    for (const table of Object.keys(fn.uses?.tables ?? {})) {
      check(Object.hasOwn(tableDecls, table), `${where}: uses.tables names unknown table "${table}"`);
    }
    for (const queue of Object.keys(fn.uses?.queues ?? {})) {
      check(Object.hasOwn(queueDecls, queue), `${where}: uses.queues names unknown queue "${queue}"`);
    }
    const metrics = fn.uses?.metrics;
    check(metrics === undefined || metrics === 'read', `${where}: uses.metrics must be 'read' (got ${JSON.stringify(metrics)})`);
    const queues: Record<string, QueueAccess> = { ...fn.uses?.queues };
    const tables: Record<string, TableAccess> = { ...fn.uses?.tables };
    collectEvents(id, fn, { tableDecls, queueDecls, queues, tables, sqsSources, streamSources, schedules, routes, check });
    functions.push({
      id,
      entry: fn.entry,
      handler: fn.handler ?? DEFAULTS.handler,
      timeout: fn.timeout,
      memoryMb,
      tables,
      queues,
      ...(metrics === 'read' && { metrics }),
      environment: { ...fn.environment },
    });
  }

  const tables: Table[] = Object.entries(tableDecls).map(([id, t]) => ({
    id,
    partitionKey: { name: t.partitionKey.name, type: t.partitionKey.type ?? DEFAULTS.keyType },
    ...(t.sortKey && { sortKey: { name: t.sortKey.name, type: t.sortKey.type ?? DEFAULTS.keyType } }),
    ...(t.timeToLiveAttribute !== undefined && { timeToLiveAttribute: t.timeToLiveAttribute }),
    ...(t.stream !== undefined && { stream: t.stream }),
  }));

  const queues: Queue[] = Object.entries(queueDecls).map(([id, q]) => {
    const sources = sqsSources.filter((s) => s.queue === id);
    const consumers = sources.map((s) => functions.find((f) => f.id === s.functionId));
    const longest = Math.max(0, ...consumers.map((f) => f?.timeout.milliseconds ?? 0));
    const window = Math.max(0, ...sources.map((s) => s.maxBatchingWindow.milliseconds));
    const visibilityTimeout =
      q.visibilityTimeout ??
      (longest > 0
        ? seconds(Math.min(SQS_MAX_VISIBILITY_S, Math.ceil((longest * DEFAULTS.visibilityTimeoutFactor + window) / 1000)))
        : DEFAULTS.visibilityTimeoutWithoutConsumer);
    const visibilityS = wholeSeconds(visibilityTimeout, `queue "${id}": visibilityTimeout`, problems);
    check(visibilityS <= SQS_MAX_VISIBILITY_S, `queue "${id}": visibilityTimeout must be at most 12 hours`);
    check(
      visibilityTimeout.milliseconds >= longest,
      `queue "${id}": visibilityTimeout (${visibilityS} s) is shorter than the timeout of a function it feeds (${longest / 1000} s); AWS refuses that event source mapping`,
    );
    check(
      visibilityTimeout.milliseconds < longest || window === 0 || visibilityTimeout.milliseconds >= longest + window,
      `queue "${id}": visibilityTimeout (${visibilityS} s) is shorter than a consumer's timeout plus its batching window (${(longest + window) / 1000} s): ` +
        'messages would reappear, and be delivered twice, before their batch is handled',
    );
    const maxReceiveCount = q.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    check(Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 1000, `queue "${id}": maxReceiveCount must be 1-1000 (got ${maxReceiveCount})`);
    const retention = q.retention ?? DEFAULTS.retention;
    const deadLetterRetention = q.deadLetterRetention ?? DEFAULTS.deadLetterRetention;
    for (const [label, d] of [['retention', retention], ['deadLetterRetention', deadLetterRetention]] as const) {
      const s = wholeSeconds(d, `queue "${id}": ${label}`, problems);
      check(s >= 60 && s <= 1_209_600, `queue "${id}": ${label} must be 1 minute to 14 days`);
    }
    return { id, visibilityTimeout, maxReceiveCount, retention, deadLetterRetention };
  });

  const stageName = declaration.api?.stageName ?? DEFAULTS.stageName;
  // API Gateway: a stage name is letters, digits, hyphens and underscores, at most 128.
  check(/^[A-Za-z0-9_-]{1,128}$/.test(stageName), `api: stageName must be 1-128 letters, digits, hyphens or underscores (got "${stageName}")`);
  const binaryMediaTypes = [...(declaration.api?.binaryMediaTypes ?? [])];
  for (const type of binaryMediaTypes) check(/^[^/\s]+\/[^/\s]+$/.test(type), `api: binaryMediaTypes entry "${type}" is not a media type such as image/png or image/*`);

  const heartbeats = declaration.heartbeats === undefined ? undefined : resolveHeartbeats(declaration.heartbeats, { functions, schedules, sqsSources, tableDecls, check, problems });
  if (problems.length > 0) throw new InvalidDeclarationError(problems);
  if (heartbeats !== undefined) {
    const env: HeartbeatEnv = { queues: heartbeats.queues, table: heartbeats.table, lateAfterMs: heartbeats.lateAfter.milliseconds, highResolution: heartbeats.alarm.periodSeconds < 60 };
    for (const fn of functions) (fn.environment as Record<string, string>)[HEARTBEAT_ENV] = JSON.stringify(env);
  }
  return {
    name: declaration.name,
    tables,
    queues,
    functions,
    sqsSources,
    streamSources,
    schedules,
    routes,
    api: { stageName, binaryMediaTypes },
    ...(heartbeats !== undefined && { heartbeats }),
  };
}

/** CloudWatch alarm periods: 10, 20 or 30 seconds (high-resolution metrics) or a multiple of 60. */
function validAlarmPeriod(seconds: number): boolean {
  return seconds === 10 || seconds === 20 || seconds === 30 || (seconds >= 60 && seconds % 60 === 0);
}

function resolveHeartbeats(
  declared: HeartbeatDeclaration,
  ctx: {
    readonly functions: readonly LambdaFunction[];
    readonly schedules: readonly Schedule[];
    readonly sqsSources: readonly SqsSource[];
    readonly tableDecls: AppDeclaration['tables'] & object;
    readonly check: (ok: boolean, problem: string) => void;
    readonly problems: string[];
  },
): Heartbeats {
  const { check } = ctx;
  const sender = ctx.functions.find((f) => f.id === declared.sender);
  const table = declared.table ?? DEFAULTS.heartbeatTable;
  check(sender !== undefined, `heartbeats: sender names unknown function "${declared.sender}"`);
  check(Object.hasOwn(ctx.tableDecls, table), `heartbeats: table names unknown table "${table}"`);
  check(declared.queues.length > 0, 'heartbeats: queues must name at least one queue');
  if (sender !== undefined) {
    check(ctx.schedules.some((s) => s.functionId === sender.id), `heartbeats: sender "${sender.id}" has no schedule event (declare one, e.g. rate(1 minute))`);
    check(sender.tables[table] === 'readWrite', `heartbeats: sender "${sender.id}" needs uses.tables.${table}: 'readWrite'`);
  }
  for (const queue of declared.queues) {
    check(ctx.sqsSources.some((s) => s.queue === queue), `heartbeats: queue "${queue}" is consumed by no function (a canary would never start)`);
    const access = sender?.queues[queue];
    check(sender === undefined || access === 'send' || access === 'sendConsume', `heartbeats: sender "${declared.sender}" needs uses.queues.${queue}: 'send'`);
  }
  check(new Set(declared.queues).size === declared.queues.length, 'heartbeats: a queue is named twice');
  const lateAfter = declared.lateAfter ?? DEFAULTS.heartbeatLateAfter;
  check(lateAfter.milliseconds >= 1_000, 'heartbeats: lateAfter must be at least 1 second');
  const period = declared.alarm?.period ?? DEFAULTS.heartbeatPeriod;
  const periodSeconds = wholeSeconds(period, 'heartbeats: alarm.period', ctx.problems);
  check(validAlarmPeriod(periodSeconds), `heartbeats: alarm.period must be 10, 20 or 30 seconds or a multiple of 60 (got ${periodSeconds} s)`);
  const evaluationPeriods = declared.alarm?.evaluationPeriods ?? DEFAULTS.heartbeatEvaluationPeriods;
  const datapointsToAlarm = declared.alarm?.datapointsToAlarm ?? Math.min(DEFAULTS.heartbeatDatapointsToAlarm, evaluationPeriods);
  check(Number.isInteger(evaluationPeriods) && evaluationPeriods >= 1, `heartbeats: alarm.evaluationPeriods must be a whole number >= 1 (got ${evaluationPeriods})`);
  check(Number.isInteger(datapointsToAlarm) && datapointsToAlarm >= 1 && datapointsToAlarm <= evaluationPeriods, `heartbeats: alarm.datapointsToAlarm must be 1 to evaluationPeriods (got ${datapointsToAlarm})`);
  check(periodSeconds * evaluationPeriods <= 86_400, 'heartbeats: alarm.period x evaluationPeriods must be at most one day');
  return {
    sender: declared.sender,
    queues: [...declared.queues],
    table,
    lateAfter,
    alarm: { periodSeconds, evaluationPeriods, datapointsToAlarm, thresholdMs: lateAfter.milliseconds, treatMissingData: 'missing' },
  };
}

interface EventContext {
  readonly tableDecls: AppDeclaration['tables'] & object;
  readonly queueDecls: AppDeclaration['queues'] & object;
  readonly queues: Record<string, QueueAccess>;
  readonly tables: Record<string, TableAccess>;
  readonly sqsSources: SqsSource[];
  readonly streamSources: StreamSource[];
  readonly schedules: Schedule[];
  readonly routes: Route[];
  readonly check: (ok: boolean, problem: string) => void;
}

function collectEvents(functionId: string, fn: FunctionDeclaration, ctx: EventContext): void {
  const { check } = ctx;
  const where = `function "${functionId}"`;
  for (const event of fn.events ?? []) {
    switch (event.type) {
      case 'sqs': {
        check(Object.hasOwn(ctx.queueDecls, event.queue), `${where}: sqs event names unknown queue "${event.queue}"`);
        const maxBatchingWindow = event.maxBatchingWindow ?? DEFAULTS.sqsMaxBatchingWindow;
        check(Number.isInteger(maxBatchingWindow.milliseconds / 1000), `${where}: maxBatchingWindow must be a whole number of seconds`);
        const batchSize = event.batchSize ?? DEFAULTS.sqsBatchSize;
        const maxBatch = maxBatchingWindow.milliseconds > 0 ? 10_000 : 10;
        check(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= maxBatch, `${where}: batchSize must be 1-${maxBatch}${maxBatch === 10 ? ' (up to 10000 with a maxBatchingWindow)' : ''} (got ${batchSize})`);
        check(maxBatchingWindow.milliseconds <= 300_000, `${where}: maxBatchingWindow must be at most 5 minutes`);
        const maxConcurrency = event.maxConcurrency ?? DEFAULTS.sqsMaxConcurrency;
        check(Number.isInteger(maxConcurrency) && maxConcurrency >= 2 && maxConcurrency <= 1000, `${where}: maxConcurrency must be 2-1000 (got ${maxConcurrency})`);
        ctx.queues[event.queue] = mergeQueueAccess(ctx.queues[event.queue], 'consume');
        ctx.sqsSources.push({ functionId, queue: event.queue, batchSize, maxBatchingWindow, maxConcurrency });
        break;
      }
      case 'dynamodb-stream': {
        const table = Object.hasOwn(ctx.tableDecls, event.table) ? ctx.tableDecls[event.table] : undefined;
        check(table !== undefined, `${where}: dynamodb-stream event names unknown table "${event.table}"`);
        check(table === undefined || table.stream !== undefined, `${where}: table "${event.table}" has no stream; declare its "stream" view type`);
        const batchSize = event.batchSize ?? DEFAULTS.streamBatchSize;
        check(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10_000, `${where}: stream batchSize must be 1-10000 (got ${batchSize})`);
        const retryAttempts = event.retryAttempts ?? DEFAULTS.streamRetryAttempts;
        check(Number.isInteger(retryAttempts) && retryAttempts >= 0 && retryAttempts <= 10_000, `${where}: retryAttempts must be 0-10000 (got ${retryAttempts})`);
        ctx.tables[event.table] = mergeTableAccess(ctx.tables[event.table], 'read');
        ctx.streamSources.push({
          functionId,
          table: event.table,
          batchSize,
          startingPosition: event.startingPosition ?? DEFAULTS.streamStartingPosition,
          retryAttempts,
        });
        break;
      }
      case 'schedule': {
        check(!ctx.schedules.some((s) => s.name === event.name), `${where}: schedule name "${event.name}" is used twice`);
        try {
          const expression = parseScheduleExpression(event.expression);
          ctx.schedules.push({ functionId, name: event.name, expression, ...(event.input && { input: event.input }) });
        } catch (error) {
          check(false, `${where}: ${(error as Error).message}`);
        }
        break;
      }
      case 'http': {
        check(PATH.test(event.path), `${where}: "${event.path}" is not a REST API resource path (segments of letters, digits, "._~-", {param} or a final {proxy+})`);
        check(!/\{[^}]+\+\}./.test(event.path), `${where}: a greedy {param+} must be the last segment of "${event.path}"`);
        const clash = ctx.routes.find((r) => r.path === event.path && (r.method === event.method || r.method === 'ANY' || event.method === 'ANY'));
        check(clash === undefined, `${where}: route ${event.method} ${event.path} is already declared by function "${clash?.functionId}"`);
        const sibling = ctx.routes.map((r) => variableSibling(r.path, event.path)).find((v) => v !== undefined);
        check(sibling === undefined, `${where}: "${event.path}" and "${sibling}" name the same path part differently; API Gateway allows one variable per level`);
        check(event.authorization === undefined || event.authorization === 'none' || event.authorization === 'iam', `${where}: authorization must be "none" or "iam" (got "${String(event.authorization)}")`);
        ctx.routes.push({ functionId, method: event.method, path: event.path, authorization: event.authorization ?? 'none' });
        break;
      }
    }
  }
}

/**
 * The first variable segment of `declared` that sits beside a differently
 * named variable in `candidate` under the same parent (`/a/{id}` vs `/a/{name}`).
 */
function variableSibling(declared: string, candidate: string): string | undefined {
  const a = declared.split('/');
  const b = candidate.split('/');
  for (let i = 1; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x === y) continue;
    return x.startsWith('{') && y.startsWith('{') ? a.slice(0, i + 1).join('/') : undefined;
  }
  return undefined;
}

function wholeSeconds(d: Duration, label: string, problems: string[]): number {
  try {
    return toWholeSeconds(d, label);
  } catch (error) {
    problems.push((error as Error).message);
    return Math.ceil(d.milliseconds / 1000);
  }
}

function mergeQueueAccess(a: QueueAccess | undefined, b: QueueAccess): QueueAccess {
  if (a === undefined || a === b) return b;
  // 'operate' covers 'send'; anything with 'consume' becomes 'sendConsume', which covers 'operate'.
  if ((a === 'operate' && b === 'send') || (a === 'send' && b === 'operate')) return 'operate';
  return 'sendConsume';
}

function mergeTableAccess(a: TableAccess | undefined, b: TableAccess): TableAccess {
  if (a === undefined || a === b) return b;
  return 'readWrite';
}

/**
 * The environment of function `fn` of `app`: one variable per table and queue
 * it uses, valued by `physical` (tokens in CDK, real names and URLs locally),
 * the app's name as the `service` of its log entries (Powertools Logger reads
 * `POWERTOOLS_SERVICE_NAME`), plus its literal variables.
 */
export function environmentOf(
  app: Pick<App, 'name'>,
  fn: LambdaFunction,
  physical: {
    tableName(tableId: string): string;
    queueUrl(queueId: string): string;
    deadLetterQueueUrl(queueId: string): string;
  },
): Record<string, string> {
  const env: Record<string, string> = { POWERTOOLS_SERVICE_NAME: app.name, ...fn.environment };
  for (const table of Object.keys(fn.tables)) env[tableEnvName(table)] = physical.tableName(table);
  for (const queue of Object.keys(fn.queues)) {
    env[queueUrlEnvName(queue)] = physical.queueUrl(queue);
    env[deadLetterQueueUrlEnvName(queue)] = physical.deadLetterQueueUrl(queue);
  }
  return env;
}
