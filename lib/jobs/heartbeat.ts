/**
 * Queue heartbeats: is each worker pool actually taking work?
 *
 * A scheduled function (`heartbeatHandler`) sends a canary message to each
 * declared queue every tick, after recording the send in the state table
 * (`HEARTBEAT#<queue>` / the tick's time). The worker that receives a canary
 * runs no task: it records when the canary started and its enqueue-to-start
 * latency, and writes the latency as the `HeartbeatLatency` metric (EMF,
 * dimension `Queue`: the queue's physical name, unique in the account).
 *
 * A canary that has not started is late too: each tick, before sending, the
 * sender looks at the queue's recent canaries and, if the oldest one still
 * waiting has waited longer than a tick, writes how long as the same metric.
 * So a stuck, starved or throttled pool shows up as a growing latency even
 * though no worker reports anything; and when the sender itself stops, the
 * alarm sees no data at all, which it counts as late (see define-app.ts).
 *
 * Re-drivable: the record is written first (its key is the tick's time, so
 * EventBridge delivering a tick twice writes one record), then the canary is
 * sent on every delivery of the tick until the record says it started; a
 * canary delivered twice is recorded once (a conditional write that
 * recognises its own earlier answer).
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { HEARTBEAT_ENV, type HeartbeatEnv } from '../app/define-app.js';
import { queueUrl } from '../app/resource-env.js';
import { isConditionRefusal } from '../aws/conditional-write.js';
import { sqsClient } from '../aws/clients.js';
import { StateTable } from '../aws/state-table.js';
import { log as defaultLog, logContext, type LogSink } from '../util/log.js';
import { HEARTBEAT_METRIC, publishMetrics, type MetricsSink } from '../util/metrics.js';
import { encodeEnvelope, newEnvelope } from './envelope.js';

/** The task name a canary carries; no task is registered under it. */
export const HEARTBEAT_TASK = 'ferry.heartbeat';
/** How long a canary's record is kept. */
const KEEP_SECONDS = 86_400;
/** How many recent canaries the sender reads to find the oldest one still waiting. */
const LOOK_BACK = 60;

export interface HeartbeatSample {
  readonly queue: string;
  /** The canary's id (`<queue>:<tick time>`). */
  readonly id: string;
  /** When it was sent (ISO-8601). */
  readonly sentAt: string;
  /** When a worker started it; absent while it waits. */
  readonly startedAt?: string;
  /** `startedAt - sentAt`, in milliseconds. */
  readonly latencyMs?: number;
}

/** The app's heartbeat settings (every function of an app that declares heartbeats has them); undefined without. */
export function heartbeatSettings(): HeartbeatEnv | undefined {
  const raw = process.env[HEARTBEAT_ENV];
  if (raw === undefined || raw === '') return undefined;
  return JSON.parse(raw) as HeartbeatEnv;
}

function table(settings: HeartbeatEnv | undefined): StateTable {
  return new StateTable({ tableId: settings?.table ?? 'state' });
}

const partition = (queue: string) => `HEARTBEAT#${queue}`;

/** The physical name of a queue (the last segment of its URL): the metric's `Queue` dimension. */
export function physicalQueueName(queueId: string): string {
  return queueUrl(queueId).split('/').pop() ?? queueId;
}

/** The queue's most recent canaries, newest first (strongly consistent). */
export async function recentHeartbeats(queueId: string, options: { readonly limit?: number } = {}): Promise<HeartbeatSample[]> {
  const state = table(heartbeatSettings());
  const out = await state.db.send(
    new QueryCommand({
      TableName: state.name,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partition(queueId) },
      ScanIndexForward: false,
      Limit: options.limit ?? LOOK_BACK,
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => ({
    queue: queueId,
    id: String(item.id),
    sentAt: String(item.sentAt),
    ...(typeof item.startedAt === 'string' && { startedAt: item.startedAt }),
    ...(typeof item.latencyMs === 'number' && { latencyMs: item.latencyMs }),
  }));
}

/**
 * The oldest canary still waiting (sent after the newest one that started),
 * from samples newest first; undefined when none waits.
 */
export function oldestWaiting(samples: readonly HeartbeatSample[]): HeartbeatSample | undefined {
  let oldest: HeartbeatSample | undefined;
  for (const sample of samples) {
    if (sample.startedAt !== undefined) break;
    oldest = sample;
  }
  return oldest;
}

/** A queue's heartbeat now: `late` when the last start took, or a canary has waited, longer than `lateAfterMs`. */
export function heartbeatState(samples: readonly HeartbeatSample[], lateAfterMs: number, now = Date.now()): { readonly state: 'ok' | 'late' | 'no-data'; readonly latencyMs?: number } {
  const waiting = oldestWaiting(samples);
  const waitedMs = waiting === undefined ? 0 : now - Date.parse(waiting.sentAt);
  const started = samples.find((s) => s.latencyMs !== undefined);
  if (started === undefined && waiting === undefined) return { state: 'no-data' };
  if (waitedMs > lateAfterMs) return { state: 'late', latencyMs: waitedMs };
  const latencyMs = started?.latencyMs ?? waitedMs;
  return { state: latencyMs > lateAfterMs ? 'late' : 'ok', latencyMs };
}

/** What one tick did for one queue. */
export interface HeartbeatTick {
  readonly queue: string;
  readonly id: string;
  /** Whether the canary was sent on this delivery (false: the tick's canary had already started). */
  readonly sent: boolean;
  /** How long the oldest canary still waiting had waited, if one was. */
  readonly waitingMs?: number;
}

export interface HeartbeatHandlerOptions {
  /** @default Powertools Logger's JSON lines (lib/util/log.ts) */
  readonly log?: LogSink;
  /** @default Powertools Metrics' EMF lines on stdout (lib/util/metrics.ts) */
  readonly metrics?: MetricsSink;
}

/**
 * The sender: the handler of the function declared as `heartbeats.sender`,
 * invoked by its schedule. Its queues, table and threshold come from the
 * declaration (the `FERRY_HEARTBEAT` variable every function of the app gets).
 */
export function heartbeatHandler(options: HeartbeatHandlerOptions = {}): (event: ScheduledEvent, context?: Context) => Promise<HeartbeatTick[]> {
  const log = options.log ?? defaultLog;
  const metrics = options.metrics ?? publishMetrics;
  return async (event, context) => {
    if (context !== undefined && options.log === undefined) logContext(context);
    const settings = heartbeatSettings();
    if (settings === undefined) throw new Error(`${HEARTBEAT_ENV} is not set: declare "heartbeats" in the app (defineApp) with this function as its sender`);
    const tick = typeof event?.time === 'string' && !Number.isNaN(Date.parse(event.time)) ? new Date(event.time).toISOString() : new Date().toISOString();
    return Promise.all(settings.queues.map((queue) => beat(queue, tick, settings, log, metrics)));
  };
}

async function beat(queue: string, tick: string, settings: HeartbeatEnv, log: LogSink, metrics: MetricsSink): Promise<HeartbeatTick> {
  const state = table(settings);
  const id = `${queue}:${tick}`;
  const now = Date.now();
  const waiting = oldestWaiting((await recentHeartbeats(queue)).filter((s) => s.id !== id));
  const waitingMs = waiting === undefined ? undefined : Math.max(0, now - Date.parse(waiting.sentAt));
  if (waitingMs !== undefined) {
    log({
      level: waitingMs > settings.lateAfterMs ? 'warn' : 'info',
      msg: 'heartbeat waiting',
      queue,
      canary: waiting?.id,
      waitingMs,
    });
    metrics(...heartbeatMetric(queue, waitingMs, settings));
  }

  const sentAt = new Date(now).toISOString();
  let recorded: Record<string, unknown> | undefined;
  try {
    await state.db.send(
      new PutCommand({
        TableName: state.name,
        Item: { pk: partition(queue), sk: tick, id, queue, sentAt, expiresAt: Math.floor(now / 1000) + KEEP_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!isConditionRefusal(error)) throw error;
    // The tick delivered again (or this put's answer lost and the SDK's retry refused): the record stands.
    recorded = (error as { Item?: Record<string, unknown> }).Item;
  }
  if (typeof recorded?.startedAt === 'string') return { queue, id, sent: false, ...(waitingMs !== undefined && { waitingMs }) };

  const canarySentAt = typeof recorded?.sentAt === 'string' ? recorded.sentAt : sentAt;
  const envelope = newEnvelope(HEARTBEAT_TASK, { queue, sk: tick, sentAt: canarySentAt }, { tracked: false, jobId: `heartbeat:${id}` });
  await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl(queue), MessageBody: encodeEnvelope(envelope) }));
  return { queue, id, sent: true, ...(waitingMs !== undefined && { waitingMs }) };
}

/** A heartbeat latency as the metric sink takes it. */
function heartbeatMetric(queue: string, latencyMs: number, settings: HeartbeatEnv): Parameters<MetricsSink> {
  return [{ Queue: physicalQueueName(queue) }, { [HEARTBEAT_METRIC]: { value: latencyMs, unit: 'Milliseconds', ...(settings.highResolution === true && { storageResolution: 1 as const }) } }];
}

const canaryInput = z.object({ queue: z.string().min(1).max(128), sk: z.string().min(1).max(64), sentAt: z.iso.datetime() });

/** A canary's input that is not what the sender writes: the worker dead-letters it with this reason. */
export class BadHeartbeatError extends Error {
  override readonly name = 'BadHeartbeatError';
}

/**
 * The worker's side: records that a canary started (once, whatever the
 * deliveries), and writes its latency as the metric. Returns the latency, or
 * undefined when an earlier delivery recorded it or its record is gone.
 */
export async function recordHeartbeatStart(input: unknown, log: LogSink = defaultLog, metrics: MetricsSink = publishMetrics): Promise<number | undefined> {
  const parsed = canaryInput.safeParse(input);
  if (!parsed.success) throw new BadHeartbeatError(`not a heartbeat canary: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  const { queue, sk, sentAt } = parsed.data;
  const settings = heartbeatSettings();
  if (settings === undefined) {
    log({ level: 'warn', msg: `heartbeat canary dropped: ${HEARTBEAT_ENV} is not set (heartbeats no longer declared?)`, queue });
    return undefined;
  }
  const state = table(settings);
  const startedAt = new Date().toISOString();
  const latencyMs = Math.max(0, Date.parse(startedAt) - Date.parse(sentAt));
  try {
    await state.db.send(
      new UpdateCommand({
        TableName: state.name,
        Key: { pk: partition(queue), sk },
        UpdateExpression: 'SET startedAt = :startedAt, latencyMs = :latency',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(startedAt)',
        ExpressionAttributeValues: { ':startedAt': startedAt, ':latency': latencyMs },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!isConditionRefusal(error)) throw error;
    const old = (error as { Item?: Record<string, unknown> }).Item;
    // Our own write, applied with its answer lost and refused on the SDK's retry: it counts.
    if (old?.startedAt !== startedAt) return undefined;
  }
  log({ level: 'info', msg: 'heartbeat', queue, latencyMs });
  metrics(...heartbeatMetric(queue, latencyMs, settings));
  return latencyMs;
}
