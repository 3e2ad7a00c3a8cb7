/**
 * What the operations console reads, and the few things it does, through the
 * platform's own code: SQS's queue attributes, dead letters and redrive
 * (dead-letter.ts), job records (the job store, and a bounded Scan of the
 * state table for the jobs list), workflows (the engine), single-flight keys,
 * schedule state (periodic.ts's item) and heartbeats (heartbeat.ts).
 *
 * Nothing here writes to a job's path: the reads add no index and no item,
 * and the actions are the ones the `ferry` operations commands take.
 */
import { GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deadLetterQueueUrlEnvName, queueUrlEnvName } from '../app/resource-env.js';
import { cloudWatchClient, sqsClient } from '../aws/clients.js';
import { StateTable } from '../aws/state-table.js';
import { SingleFlight, type FlightItem } from '../coordination/single-flight.js';
import { listDeadLetters, redrive, redriveMessage, type DeadLetter } from '../jobs/dead-letter.js';
import { DynamoJobStore, JOB_ITEM } from '../jobs/dynamo-job-store.js';
import { createJobClient } from '../jobs/enqueue.js';
import { JobNotCancellableError } from '../jobs/errors.js';
import { heartbeatSettings, heartbeatState, recentHeartbeats, type HeartbeatSample } from '../jobs/heartbeat.js';
import { JobStatus, type JobLookup, type JobRecord } from '../jobs/job-state.js';
import { periodicStatusOf, SCHEDULE_ITEM, type PeriodicStatus } from '../jobs/periodic.js';
import { nextFireTime, type ScheduleExpression } from '../app/schedule-expression.js';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { WorkflowEngine, type WorkflowView } from '../workflows/workflow-engine.js';

// ---------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------

/** A queue the console's function has in its environment (declared under its `uses`). */
export interface ConsoleQueue {
  /** The declared id, as the platform's functions take it (`listDeadLetters(id)`). */
  readonly id: string;
  readonly url: string;
  /** The physical name: the URL's last segment. */
  readonly name: string;
  /** Absent when the environment names no dead-letter queue for it. */
  readonly deadLetterUrl?: string;
}

const QUEUE_URL_VARIABLE = /^FERRY_QUEUE_([A-Z0-9_]+)_URL$/;

/** `PAGE_VIEWS` → `pageViews`: the id whose variable is this one (resource-env.ts derives variables from ids). */
function idOfScreaming(screaming: string): string {
  return screaming.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The queues whose URL variables are set (resource-env.ts names them), sorted
 * by id. A variable only names the id in capitals: the id is the declared one
 * when a declaration this function knows (`known`: the heartbeat queues) has
 * it, else the camelCase one, which names the same variables.
 */
export function consoleQueues(env: NodeJS.ProcessEnv = process.env, known: readonly string[] = heartbeatSettings()?.queues ?? []): ConsoleQueue[] {
  const names = Object.keys(env);
  const queues: ConsoleQueue[] = [];
  for (const variable of names) {
    const match = QUEUE_URL_VARIABLE.exec(variable);
    const url = env[variable];
    if (match === null || url === undefined || url === '') continue;
    const screaming = match[1] as string;
    // FERRY_QUEUE_IO_DLQ_URL is io's dead-letter queue, not a queue of its own.
    if (screaming.endsWith('_DLQ') && env[`FERRY_QUEUE_${screaming.slice(0, -'_DLQ'.length)}_URL`] !== undefined) continue;
    const id = known.find((k) => queueUrlEnvName(k) === variable) ?? idOfScreaming(screaming);
    const deadLetterUrl = env[deadLetterQueueUrlEnvName(id)];
    queues.push({ id, url, name: url.split('/').pop() ?? id, ...(deadLetterUrl !== undefined && deadLetterUrl !== '' && { deadLetterUrl }) });
  }
  return queues.sort((a, b) => a.id.localeCompare(b.id));
}

/** The queue `id` as the environment names it, or undefined when the function has no variable for it. */
export function consoleQueue(id: string): ConsoleQueue | undefined {
  return consoleQueues().find((q) => q.id === id || queueUrlEnvName(q.id) === queueUrlEnvName(id));
}

/** SQS's approximate counts of one queue. */
export interface QueueCounts {
  /** Visible, waiting for a receive (`ApproximateNumberOfMessages`). */
  readonly waiting: number;
  /** Received and not yet deleted (`ApproximateNumberOfMessagesNotVisible`). */
  readonly inFlight: number;
  /** Sent with a delay that has not passed (`ApproximateNumberOfMessagesDelayed`). */
  readonly delayed: number;
}

export interface QueueStats {
  readonly queue: ConsoleQueue;
  readonly counts?: QueueCounts;
  readonly deadLetters?: QueueCounts;
  /** Why a count is missing (the call failed: no permission, no such queue). */
  readonly error?: string;
}

const COUNT_ATTRIBUTES: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'];

async function countsOf(url: string): Promise<QueueCounts> {
  const { Attributes = {} } = await sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: COUNT_ATTRIBUTES }));
  const n = (name: string) => Number(Attributes[name as QueueAttributeName] ?? 0);
  return { waiting: n('ApproximateNumberOfMessages'), inFlight: n('ApproximateNumberOfMessagesNotVisible'), delayed: n('ApproximateNumberOfMessagesDelayed') };
}

/** A queue's counts and its dead-letter queue's; a failed call is reported in `error`, not thrown (one queue must not hide the others). */
export async function queueStats(queue: ConsoleQueue): Promise<QueueStats> {
  try {
    const [counts, deadLetters] = await Promise.all([countsOf(queue.url), queue.deadLetterUrl === undefined ? undefined : countsOf(queue.deadLetterUrl)]);
    return { queue, counts, ...(deadLetters !== undefined && { deadLetters }) };
  } catch (error) {
    return { queue, error: messageOf(error) };
  }
}

/** Each queue's oldest-message age, by queue name, from CloudWatch; why it is missing when the call failed. */
export interface QueueAges {
  /** Seconds, and the minute CloudWatch's latest datapoint is for; absent for a queue with no datapoint in the last 10 minutes. */
  readonly byName: Readonly<Record<string, { readonly seconds: number; readonly at: string }>>;
  readonly error?: string;
}

/** CloudWatch's most queries in one GetMetricData. */
const MAX_METRIC_QUERIES = 500;

/**
 * How old each queue's oldest message is: SQS's `ApproximateAgeOfOldestMessage`
 * metric (the SQS API has no such attribute; SQS publishes it to CloudWatch
 * once a minute), the latest of the last 10 minutes, all queues in one
 * GetMetricData (one per 500 queues, CloudWatch's most queries per call). A
 * failed call (no `uses.metrics: 'read'`, CloudWatch out of reach) is
 * reported, not thrown: the counts still show.
 */
export async function oldestMessageAges(queues: readonly ConsoleQueue[], now: number): Promise<QueueAges> {
  const byName: Record<string, { seconds: number; at: string }> = {};
  try {
    for (let from = 0; from < queues.length; from += MAX_METRIC_QUERIES) {
      const chunk = queues.slice(from, from + MAX_METRIC_QUERIES);
      const { MetricDataResults = [] } = await cloudWatchClient().send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 10 * 60_000),
          EndTime: new Date(now + 60_000),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: chunk.map((q, i) => ({
            Id: `q${i}`,
            MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: q.name }] }, Period: 60, Stat: 'Maximum' },
          })),
        }),
      );
      chunk.forEach((q, i) => {
        const result = MetricDataResults.find((r) => r.Id === `q${i}`);
        const seconds = result?.Values?.[0];
        const at = result?.Timestamps?.[0];
        if (seconds !== undefined && at !== undefined) byName[q.name] = { seconds, at: at.toISOString() };
      });
    }
    return { byName };
  } catch (error) {
    return { byName: {}, error: messageOf(error) };
  }
}

/** Dead letters of a queue as they are now: every one in its DLQ, visible or held by a listing or redrive. */
export function deadLetterTotal(counts: QueueCounts): number {
  return counts.waiting + counts.inFlight + counts.delayed;
}

export function queueDeadLetters(queueId: string, max: number): Promise<DeadLetter[]> {
  return listDeadLetters(queueId, max);
}

/** What a redrive did, in words for the page. */
export async function redriveFromConsole(queueId: string, messageId: string | undefined, max: number): Promise<{ readonly moved: number; readonly notice: string }> {
  if (messageId !== undefined) {
    const moved = await redriveMessage(queueId, messageId);
    return moved
      ? { moved: 1, notice: `Dead letter ${messageId} moved back to queue ${queueId}.` }
      : { moved: 0, notice: `No dead letter ${messageId} found in queue ${queueId}'s DLQ (moved already, or not there).` };
  }
  const { moved } = await redrive(queueId, { max });
  const more = moved >= max ? ` At most ${max} move per click: press again for the rest.` : '';
  return { moved, notice: `${moved} dead letter${moved === 1 ? '' : 's'} moved back to queue ${queueId}.${more}` };
}

// ---------------------------------------------------------------------------
// Heartbeats
// ---------------------------------------------------------------------------

export interface HeartbeatView {
  readonly queue: string;
  /** Newest first. */
  readonly samples: readonly HeartbeatSample[];
  /** heartbeat.ts's verdict: late when the last start took, or a canary has waited, longer than `lateAfterMs`. */
  readonly state: 'ok' | 'late' | 'no-data';
  readonly latencyMs?: number;
  readonly error?: string;
}

export type Heartbeats =
  | { readonly declared: false }
  | { readonly declared: true; readonly lateAfterMs: number; readonly views: readonly HeartbeatView[] };

/** Each heartbeat queue's recent canaries and its state now; `declared: false` when the app declares no heartbeats. */
export async function heartbeats(now: number, limit: number): Promise<Heartbeats> {
  const settings = heartbeatSettings();
  if (settings === undefined) return { declared: false };
  const views = await Promise.all(
    settings.queues.map(async (queue): Promise<HeartbeatView> => {
      try {
        const samples = await recentHeartbeats(queue, { limit });
        return { queue, samples, ...heartbeatState(samples, settings.lateAfterMs, now) };
      } catch (error) {
        return { queue, samples: [], state: 'no-data', error: messageOf(error) };
      }
    }),
  );
  return { declared: true, lateAfterMs: settings.lateAfterMs, views };
}

// ---------------------------------------------------------------------------
// Schedules (periodic.ts keeps one item per schedule)
// ---------------------------------------------------------------------------

/** A schedule the console was told of: its name, and its expression when declared. */
export interface ScheduleSpec {
  readonly name: string;
  readonly expression?: ScheduleExpression;
}

export interface ScheduleView {
  readonly name: string;
  /** Undefined when the schedule has no state item (it never ticked, or the name is wrong). */
  readonly status?: PeriodicStatus;
  /** The EventBridge expression, when the console was given it. */
  readonly expression?: string;
  /** When EventBridge fires next; `approximate` for a rate, whose grid starts when the rule was created (the last tick stands in for it). */
  readonly nextRun?: { readonly at: string; readonly approximate: boolean };
}

/**
 * The next run of a schedule: a cron expression's next matching minute; a
 * rate's next step from the last tick (EventBridge counts a rate from the
 * rule's creation, which the console does not know), or none before a tick.
 */
export function nextRunOf(expression: ScheduleExpression, lastTick: string | undefined, now: number): ScheduleView['nextRun'] {
  if (expression.kind === 'cron') {
    const at = nextFireTime(expression, new Date(now), new Date(now));
    return at === undefined ? undefined : { at: at.toISOString(), approximate: false };
  }
  if (lastTick === undefined || Number.isNaN(Date.parse(lastTick))) return undefined;
  const at = nextFireTime(expression, new Date(now), new Date(lastTick));
  return at === undefined ? undefined : { at: at.toISOString(), approximate: true };
}

/** The state of each schedule (one consistent read each), with its next run when its expression is known. */
export async function schedules(specs: readonly ScheduleSpec[], now: number): Promise<ScheduleView[]> {
  const state = new StateTable();
  return Promise.all(
    specs.map(async ({ name, expression }): Promise<ScheduleView> => {
      const { Item } = await state.db.send(new GetCommand({ TableName: state.name, Key: { pk: SCHEDULE_ITEM.pkOf(name), sk: SCHEDULE_ITEM.sk }, ConsistentRead: true }));
      const status = Item === undefined ? undefined : periodicStatusOf(name, Item);
      const nextRun = expression === undefined ? undefined : nextRunOf(expression, status?.lastTick, now);
      return { name, ...(status !== undefined && { status }), ...(expression !== undefined && { expression: expression.source }), ...(nextRun !== undefined && { nextRun }) };
    }),
  );
}

// ---------------------------------------------------------------------------
// Bounded scans of the state table
// ---------------------------------------------------------------------------

/** How much of the table a bounded scan read. */
export interface ScanExtent {
  /** Items DynamoDB read (`ScannedCount`), whatever the filter kept. */
  readonly itemsRead: number;
  readonly pages: number;
  /** False when the page budget ended the scan before the table did. */
  readonly complete: boolean;
}

interface Scanned<T> extends ScanExtent {
  readonly items: T[];
}

/** A Scan of at most `maxPages` pages (DynamoDB returns at most 1 MB per page), keeping the items `filter` admits. */
async function boundedScan(maxPages: number, filter: { expression: string; names: Record<string, string>; values: Record<string, unknown> }, projection?: readonly string[]): Promise<Scanned<Record<string, unknown>>> {
  const state = new StateTable();
  const items: Record<string, unknown>[] = [];
  const names: Record<string, string> = { ...filter.names };
  const projected = projection?.map((attribute, i) => {
    names[`#p${i}`] = attribute;
    return `#p${i}`;
  });
  let start: Record<string, unknown> | undefined;
  let itemsRead = 0;
  let pages = 0;
  do {
    const page = await state.db.send(
      new ScanCommand({
        TableName: state.name,
        FilterExpression: filter.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: filter.values,
        ...(projected !== undefined && { ProjectionExpression: projected.join(', ') }),
        ...(start !== undefined && { ExclusiveStartKey: start }),
      }),
    );
    pages += 1;
    itemsRead += page.ScannedCount ?? 0;
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && pages < maxPages);
  return { items, itemsRead, pages, complete: start === undefined };
}

/** A job as the jobs list shows it. */
export type JobSummary = Pick<JobRecord, 'jobId' | 'task' | 'queue' | 'status' | 'attempts' | 'maxAttempts' | 'enqueuedAt' | 'startedAt' | 'finishedAt' | 'lastError' | 'tag'>;

export interface JobScan extends ScanExtent {
  /** The matching jobs found, most recently enqueued first, at most `maxRows`. */
  readonly jobs: readonly JobSummary[];
  /** Jobs found that match the filter. */
  readonly matched: number;
  /** Per status, the jobs found of the task asked for (all tasks without one). */
  readonly counts: Readonly<Record<JobStatus, number>>;
}

const JOB_ATTRIBUTES = ['jobId', 'task', 'queue', 'status', 'attempts', 'maxAttempts', 'enqueuedAt', 'startedAt', 'finishedAt', 'lastError', 'tag', JOB_ITEM.ttl] as const;

/**
 * Recent jobs, from a bounded Scan of the state table's job items: the table
 * has no index by time, and the console adds no write to a job's path to make
 * one. The jobs found are sorted most recently enqueued first; with a table
 * larger than the budget they are a sample, not the newest.
 */
export async function scanJobs(options: { readonly task?: string; readonly status?: JobStatus; readonly maxPages: number; readonly maxRows: number; readonly now: number }): Promise<JobScan> {
  const values: Record<string, unknown> = { ':jobPrefix': JOB_ITEM.pkOf(''), ':jobSk': JOB_ITEM.skValue };
  let expression = 'begins_with(#pk, :jobPrefix) AND #sk = :jobSk';
  if (options.task !== undefined) {
    expression += ' AND #task = :task';
    values[':task'] = options.task;
  }
  const scanned = await boundedScan(options.maxPages, { expression, names: { '#pk': JOB_ITEM.pk, '#sk': JOB_ITEM.sk, ...(options.task !== undefined && { '#task': 'task' }) }, values }, JOB_ATTRIBUTES);
  const counts: Record<JobStatus, number> = { QUEUED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 };
  const found: JobSummary[] = [];
  for (const item of scanned.items) {
    // TTL deletion is lazy: an expired record is gone, as the job store reads it.
    const ttl = item[JOB_ITEM.ttl];
    if (typeof ttl === 'number' && ttl * 1000 < options.now) continue;
    const job = item as unknown as JobSummary;
    if (job.status in counts) counts[job.status] += 1;
    if (options.status === undefined || job.status === options.status) found.push(job);
  }
  found.sort((a, b) => String(b.enqueuedAt).localeCompare(String(a.enqueuedAt)));
  return { jobs: found.slice(0, options.maxRows), matched: found.length, counts, itemsRead: scanned.itemsRead, pages: scanned.pages, complete: scanned.complete };
}

export interface ScheduleScan extends ScanExtent {
  readonly schedules: readonly ScheduleView[];
}

/** The schedules with a state item, from a bounded Scan (their names are configuration the console does not otherwise have). */
export async function scanSchedules(maxPages: number): Promise<ScheduleScan> {
  const prefix = SCHEDULE_ITEM.pkOf('');
  const scanned = await boundedScan(maxPages, { expression: 'begins_with(#pk, :prefix) AND #sk = :sk', names: { '#pk': 'pk', '#sk': 'sk' }, values: { ':prefix': prefix, ':sk': SCHEDULE_ITEM.sk } });
  const found = scanned.items.map((item) => {
    const name = String(item.pk).slice(prefix.length);
    return { name, status: periodicStatusOf(name, item) };
  });
  return { schedules: found.sort((a, b) => a.name.localeCompare(b.name)), itemsRead: scanned.itemsRead, pages: scanned.pages, complete: scanned.complete };
}

// ---------------------------------------------------------------------------
// One job, one workflow, one single-flight key
// ---------------------------------------------------------------------------

export function job(jobId: string): Promise<JobLookup> {
  return createJobClient().getJob(jobId);
}

/**
 * Cancels a job: a QUEUED one will not run (`cancel`); a RUNNING one is asked
 * to stop (`requestStop`, as `cancelByTag` does: the task stops where it
 * checks `stopIfRequested`, or finishes). Anything else is refused with the
 * store's own reason.
 */
export async function cancelJob(jobId: string): Promise<{ readonly done: boolean; readonly notice: string }> {
  try {
    await createJobClient().cancel(jobId);
    return { done: true, notice: `Job ${jobId} cancelled: it will not run.` };
  } catch (error) {
    if (!(error instanceof JobNotCancellableError) || error.status !== JobStatus.RUNNING) throw error;
  }
  const asked = await new DynamoJobStore().requestStop(jobId);
  switch (asked) {
    case 'stopping':
      return { done: true, notice: `Job ${jobId} is running: it was asked to stop (it stops where it checks stopIfRequested, or finishes).` };
    case 'cancelled':
      return { done: true, notice: `Job ${jobId} cancelled: it will not run.` };
    default: {
      const now = await job(jobId);
      return { done: false, notice: `Job ${jobId} is ${now.status}; it can no longer be cancelled.` };
    }
  }
}

export function workflow(workflowId: string): Promise<WorkflowView> {
  return new WorkflowEngine().get(workflowId);
}

/** Cancels a running workflow's pending members; refused (with its status) when it has ended. Throws WorkflowNotFoundError for an unknown id. */
export async function cancelWorkflow(workflowId: string): Promise<{ readonly done: boolean; readonly notice: string }> {
  const engine = new WorkflowEngine();
  const before = await engine.status(workflowId);
  if (before.status !== 'RUNNING' && before.status !== 'CANCELLED') return { done: false, notice: `Workflow ${workflowId} is ${before.status}; it can no longer be cancelled.` };
  const cancelled = await engine.cancel(workflowId);
  if (cancelled) return { done: true, notice: `Workflow ${workflowId} cancelled: its pending members will not run.` };
  const after = await engine.status(workflowId);
  return { done: false, notice: `Workflow ${workflowId} is ${after.status}; it can no longer be cancelled.` };
}

export function flight(key: string): Promise<FlightItem | undefined> {
  return new SingleFlight().read(key);
}

/** Forces a refresh of a single-flight key, in words for the page (the same as `ferry flights refresh`). */
export async function refreshFlight(key: string): Promise<{ readonly done: boolean; readonly notice: string }> {
  const done = await new SingleFlight().forceRefresh(key);
  switch (done) {
    case 'expired':
      return { done: true, notice: `Key ${key}: its result is stale now; the next request refreshes it (serving the stale result meanwhile).` };
    case 'retry-allowed':
      return { done: true, notice: `Key ${key}: its failure cool-down ended; the next request refreshes it.` };
    default:
      return { done: false, notice: `Key ${key}: nothing to do (no such key, or a refresh is already queued or running).` };
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
