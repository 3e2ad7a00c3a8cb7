/**
 * The operations commands: see and fix jobs, dead letters and workflows of a
 * running app, locally (`ferry dev`'s runtime file) or deployed (its stack's
 * outputs), through the same platform code the functions run.
 *
 *   ferry jobs get <jobId>            ferry jobs cancel <jobId> | --tag <tag>
 *   ferry dlq list <queue>            ferry dlq redrive <queue> [--max N]
 *   ferry workflows get <id>          ferry workflows cancel <id>
 *   ferry flights get <key>           ferry flights refresh <key>
 *   ferry heartbeat [<queue>]
 *
 * Output is for people; `--json` prints one JSON document instead.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createJobClient } from '../jobs/enqueue.js';
import { JobNotCancellableError, JobNotFoundError } from '../jobs/errors.js';
import { listDeadLetters, redrive, redriveMessage } from '../jobs/dead-letter.js';
import { NOT_FOUND, type JobRecord } from '../jobs/job-state.js';
import { SingleFlight, type FlightItem } from '../coordination/single-flight.js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { CONSOLE_PATH, startConsoleProxy, type ConsoleProxy } from './console-proxy.js';
import { WorkflowEngine, WorkflowNotFoundError, type NodeView, type WorkflowView } from '../workflows/workflow-engine.js';
import { ConfigError } from './load-config.js';
import { HEARTBEAT_ENV } from '../app/define-app.js';
import { heartbeatSettings, heartbeatState, oldestWaiting, recentHeartbeats } from '../jobs/heartbeat.js';
import type { LocalAlarmStatus } from '../local/local-alarms.js';
import { humanMs } from '../util/log-format.js';
import { deployedTarget, localTarget, type OpsTarget } from './ops-target.js';

const TARGET_USAGE = `Target (where the app runs):
  --runtime-file <file>   the local app's runtime file (default: $FERRY_RUNTIME_FILE or .ferry/runtime.json;
                          the notes service's is .ferry/notes/runtime.json)
  --outputs <file>        a deployed stack's outputs (cdk deploy --outputs-file <file>), with --stack <name>
                          when the file has several
  --json                  print JSON`;

export const JOBS_USAGE = `Usage: ferry jobs get <jobId> [options]
       ferry jobs cancel <jobId> [options]
       ferry jobs cancel --tag <tag> [options]

get: a job's record (status, attempts, timings, last error, result).
cancel: a queued job (it will not run); with --tag, every queued job of the tag, and a stop asked
of the running ones.

${TARGET_USAGE}`;

export const DLQ_USAGE = `Usage: ferry dlq list <queue> [--max N] [options]
       ferry dlq redrive <queue> [--max N | --message <messageId>] [options]

list: the queue's dead letters with the reason each was dead-lettered (left in place; default --max 100).
redrive: moves dead letters back to the queue, attempts counted again (default: all; --message: the one
dead letter with that SQS message id, as list shows it).

${TARGET_USAGE}`;

export const FLIGHTS_USAGE = `Usage: ferry flights get <key> [options]
       ferry flights refresh <key> [options]

get: a single-flight key (a cached computation, such as a report): its phase, when its result was
computed and until when it is fresh, its last error. refresh: the next request refreshes it (a ready
result stops being fresh now and is served stale meanwhile; a failed key's cool-down ends).

${TARGET_USAGE}`;

export const HEARTBEAT_USAGE = `Usage: ferry heartbeat [<queue>] [options]

Each heartbeat queue (or just <queue>): OK, LATE or NO DATA; the last canary's enqueue-to-start latency;
the oldest canary still waiting for a worker; the last 30 latencies; and, for a local app, the state of
the queue's heartbeat alarm as the runtime evaluates it. Exits 1 when a queue is late.

${TARGET_USAGE}`;

export const CONSOLE_USAGE = `Usage: ferry console [options] [--port <port>] [--region <region>]

Opens the operations console of a deployed stack: a local proxy (on 127.0.0.1) that signs each
console request with your AWS credentials (the SDK's default chain) for the stack's API, whose
console routes need IAM authorization. Ctrl-C stops it. For a local app it prints where the console
is (served unsigned at the runtime's own /_ferry/console) and exits.

  --port <port>      where the proxy listens (default 8040; 0: any free port)
  --region <region>  the API's region (default: from its URL, else AWS_REGION)

${TARGET_USAGE}`;

export const WORKFLOWS_USAGE = `Usage: ferry workflows get <workflowId> [options]
       ferry workflows cancel <workflowId> [options]

get: the workflow's status, progress and tree. cancel: cancels its pending members.

${TARGET_USAGE}`;

const TARGET_OPTIONS = {
  'runtime-file': { type: 'string' },
  outputs: { type: 'string' },
  stack: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface Parsed {
  readonly action: string;
  readonly argument: string | undefined;
  readonly json: boolean;
  readonly values: Record<string, string | boolean | undefined>;
}

/** Parses `args`, resolves the target and applies its environment; undefined after printing help. */
function prepare(args: readonly string[], usage: string, extra: Record<string, { type: 'string' }> = {}, actionNeeded = true): (Parsed & { readonly target: OpsTarget }) | undefined {
  const { values, positionals } = parseArgs({ args: [...args], options: { ...TARGET_OPTIONS, ...extra }, allowPositionals: true, strict: true });
  if (values.help === true || (actionNeeded && positionals.length === 0)) {
    console.log(usage);
    return undefined;
  }
  const target = resolveTarget(values);
  // The platform's stores and clients read these at call time: the same code the functions run, pointed at the app.
  Object.assign(process.env, target.environment);
  return { action: positionals[0] ?? '', argument: positionals[1], json: values.json === true, values: values, target };
}

function resolveTarget(values: Record<string, string | boolean | undefined>): OpsTarget {
  const outputs = values.outputs;
  if (typeof outputs === 'string') return deployedTarget(outputs, typeof values.stack === 'string' ? values.stack : undefined);
  const file = typeof values['runtime-file'] === 'string' ? values['runtime-file'] : process.env.FERRY_RUNTIME_FILE || join(process.cwd(), '.ferry', 'runtime.json');
  return localTarget(file);
}

function needed(value: string | undefined, what: string, usage: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${what} is missing\n\n${usage}`);
  return value;
}

function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

export async function jobsCommand(args: readonly string[]): Promise<void> {
  const parsed = prepare(args, JOBS_USAGE, { tag: { type: 'string' } });
  if (parsed === undefined) return;
  const client = createJobClient();
  const tag = parsed.values.tag;
  switch (parsed.action) {
    case 'get': {
      const job = await client.getJob(needed(parsed.argument, 'the job id', JOBS_USAGE));
      if (job.status === NOT_FOUND) {
        print(parsed.json, job, () => `job ${job.jobId}: not found (an untracked job, or its record expired)`);
        process.exitCode = 1;
        return;
      }
      print(parsed.json, job, () => describeJob(job));
      return;
    }
    case 'cancel': {
      if (typeof tag === 'string') {
        const result = await client.cancelByTag(tag);
        print(parsed.json, result, () =>
          [`tag ${tag}:`, `  cancelled (will not run): ${list(result.cancelled)}`, `  told to stop (running): ${list(result.stopping)}`, `  already ended: ${list(result.finished)}`].join('\n'),
        );
        return;
      }
      const jobId = needed(parsed.argument, 'the job id (or --tag <tag>)', JOBS_USAGE);
      try {
        const job = await client.cancel(jobId);
        print(parsed.json, job, () => `job ${jobId}: CANCELLED (it will not run)`);
      } catch (error) {
        if (!(error instanceof JobNotFoundError || error instanceof JobNotCancellableError)) throw error;
        print(parsed.json, { jobId, error: error.message }, () => `job ${jobId}: ${error.message}`);
        process.exitCode = 1;
      }
      return;
    }
    default:
      throw new ConfigError(`unknown action "jobs ${parsed.action}"\n\n${JOBS_USAGE}`);
  }
}

export async function dlqCommand(args: readonly string[]): Promise<void> {
  const parsed = prepare(args, DLQ_USAGE, { max: { type: 'string' }, message: { type: 'string' } });
  if (parsed === undefined) return;
  const queue = needed(parsed.argument, 'the queue id (as declared, e.g. io)', DLQ_USAGE);
  const max = parsed.values.max === undefined ? undefined : Number(parsed.values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new ConfigError(`--max must be a positive whole number (got ${String(parsed.values.max)})`);
  switch (parsed.action) {
    case 'list': {
      const letters = await listDeadLetters(queue, max ?? 100);
      print(parsed.json, letters, () =>
        letters.length === 0
          ? `queue ${queue}: no dead letters`
          : [
              `queue ${queue}: ${letters.length} dead letter${letters.length === 1 ? '' : 's'}`,
              ...letters.map((d) =>
                d.reason === undefined
                  ? `  ${d.messageId}  ${d.task ?? '(undecodable)'} ${d.jobId ?? ''}  no reason recorded (moved by SQS after maxReceiveCount, or sent by hand)`
                  : `  ${d.messageId}  ${d.reason.task} ${d.reason.jobId ?? ''}  ${d.reason.cause} after ${d.reason.attempts} attempt(s): ${d.reason.errorName}: ${d.reason.errorMessage}  (at ${d.reason.deadAt})`,
              ),
            ].join('\n'),
      );
      return;
    }
    case 'redrive': {
      const messageId = parsed.values.message;
      if (typeof messageId === 'string') {
        const moved = await redriveMessage(queue, messageId);
        print(parsed.json, { queue, messageId, moved: moved ? 1 : 0 }, () =>
          moved ? `queue ${queue}: dead letter ${messageId} moved back` : `queue ${queue}: no dead letter ${messageId} found (moved already, or not in this queue's DLQ)`,
        );
        if (!moved) process.exitCode = 1;
        return;
      }
      const result = await redrive(queue, max === undefined ? {} : { max });
      print(parsed.json, { queue, ...result }, () => `queue ${queue}: ${result.moved} dead letter${result.moved === 1 ? '' : 's'} moved back`);
      return;
    }
    default:
      throw new ConfigError(`unknown action "dlq ${parsed.action}"\n\n${DLQ_USAGE}`);
  }
}

export async function flightsCommand(args: readonly string[]): Promise<void> {
  const parsed = prepare(args, FLIGHTS_USAGE);
  if (parsed === undefined) return;
  const flights = new SingleFlight();
  const key = needed(parsed.argument, 'the key', FLIGHTS_USAGE);
  switch (parsed.action) {
    case 'get': {
      const item = await flights.read(key);
      if (item === undefined) {
        print(parsed.json, { key, phase: NOT_FOUND }, () => `key ${key}: not found (never computed, or expired)`);
        process.exitCode = 1;
        return;
      }
      const { result, ...rest } = item;
      const view = { ...rest, ...timesOf(item), hasResult: result !== undefined };
      print(parsed.json, view, () => describeFlight(item));
      return;
    }
    case 'refresh': {
      const done = await flights.forceRefresh(key);
      const said = { expired: 'its result is stale now: the next request refreshes it', 'retry-allowed': 'its failure cool-down ended: the next request refreshes it', nothing: 'nothing to do (no such key, or a refresh is already queued or running)' }[done];
      print(parsed.json, { key, done }, () => `key ${key}: ${said}`);
      if (done === 'nothing') process.exitCode = 1;
      return;
    }
    default:
      throw new ConfigError(`unknown action "flights ${parsed.action}"\n\n${FLIGHTS_USAGE}`);
  }
}

/** A flight's epoch-millisecond times as ISO text. */
function timesOf(item: FlightItem): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['computedAt', 'freshUntil', 'staleUntil', 'failedAt', 'retryAt', 'leaseUntil', 'claimedAt'] as const) {
    const value = item[name];
    if (typeof value === 'number') out[name] = new Date(value).toISOString();
  }
  return out;
}

function describeFlight(item: FlightItem): string {
  const t = timesOf(item);
  const now = Date.now();
  const lines = [`key ${item.key}: ${item.phase}${item.jobId ? ` (job ${item.jobId})` : ''}`];
  if (t.computedAt) lines.push(`  computed ${t.computedAt}; ${(item.freshUntil ?? 0) > now ? `fresh until ${t.freshUntil}` : `stale since ${t.freshUntil}`}${t.staleUntil ? `, served until ${t.staleUntil}` : ''}`);
  if (item.lastError) lines.push(`  last error: ${item.lastError.name}: ${item.lastError.message}${t.failedAt ? ` (at ${t.failedAt})` : ''}${t.retryAt ? `; no refresh before ${t.retryAt}` : ''}`);
  if (item.runRef) lines.push(`  run ${item.runRef}`);
  return lines.join('\n');
}

export async function workflowsCommand(args: readonly string[]): Promise<void> {
  const parsed = prepare(args, WORKFLOWS_USAGE);
  if (parsed === undefined) return;
  const engine = new WorkflowEngine();
  const workflowId = needed(parsed.argument, 'the workflow id', WORKFLOWS_USAGE);
  const find = () =>
    engine.get(workflowId).catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  const unknown = () => {
    print(parsed.json, { workflowId, status: NOT_FOUND }, () => `workflow ${workflowId}: not found (never started, or expired)`);
    process.exitCode = 1;
  };
  switch (parsed.action) {
    case 'get': {
      const view = await find();
      if (view === undefined) return unknown();
      print(parsed.json, view, () => describeWorkflow(view));
      return;
    }
    case 'cancel': {
      if ((await find()) === undefined) return unknown();
      const cancelled = await engine.cancel(workflowId);
      const view = await engine.get(workflowId);
      print(parsed.json, { workflowId, cancelled, status: view.status }, () => `workflow ${workflowId}: ${cancelled ? 'cancelled' : `not cancelled (it is ${view.status})`}`);
      if (!cancelled) process.exitCode = 1;
      return;
    }
    default:
      throw new ConfigError(`unknown action "workflows ${parsed.action}"\n\n${WORKFLOWS_USAGE}`);
  }
}

export async function consoleCommand(args: readonly string[], started?: (proxy: ConsoleProxy) => void): Promise<void> {
  const parsed = prepare(args, CONSOLE_USAGE, { port: { type: 'string' }, region: { type: 'string' } }, false);
  if (parsed === undefined) return;
  const target = parsed.target;
  if (target.kind === 'local') {
    if (target.url === undefined) throw new ConfigError(`${target.source} names no URL: start the app with "ferry dev" again`);
    console.log(`The local app's console: ${target.url}${CONSOLE_PATH} (served unsigned there; ferry console signs for a deployed stack, --outputs)`);
    return;
  }
  if (target.apiUrl === undefined) throw new ConfigError(`stack "${target.stack}" in ${target.source} has no ApiUrl output: is its API deployed?`);
  const portText = typeof parsed.values.port === 'string' ? parsed.values.port : '8040';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) throw new ConfigError(`--port must be a port number, 0-65535 (got ${JSON.stringify(portText)})`);
  const proxy = await startConsoleProxy({
    apiUrl: target.apiUrl,
    credentials: defaultProvider(),
    port,
    ...(typeof parsed.values.region === 'string' && { region: parsed.values.region }),
  });
  console.log(`Ferry's console for stack ${target.stack}: ${proxy.url}\n(requests signed with your AWS credentials for ${target.apiUrl}; Ctrl-C stops)`);
  started?.(proxy);
  await new Promise<void>((resolve) => {
    const stop = () => void proxy.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function heartbeatCommand(args: readonly string[]): Promise<void> {
  const parsed = prepare(args, HEARTBEAT_USAGE, {}, false);
  if (parsed === undefined) return;
  const settings = heartbeatSettings();
  if (settings === undefined) throw new ConfigError(`the app declares no heartbeats (${parsed.target.source} has no ${HEARTBEAT_ENV}): declare "heartbeats" in defineApp`);
  const wanted = parsed.action === '' ? settings.queues : [parsed.action];
  for (const queue of wanted) {
    if (!settings.queues.includes(queue)) throw new ConfigError(`queue "${queue}" has no heartbeat (heartbeat queues: ${settings.queues.join(', ')})`);
  }
  const alarms = parsed.target.kind === 'local' && parsed.target.url !== undefined ? await localAlarms(parsed.target.url) : undefined;
  const now = Date.now();
  const report = await Promise.all(
    wanted.map(async (queue) => {
      const samples = await recentHeartbeats(queue, { limit: 30 });
      const waiting = oldestWaiting(samples);
      const alarm = alarms?.find((a) => a.queue === queue);
      return {
        queue,
        ...heartbeatState(samples, settings.lateAfterMs, now),
        lateAfterMs: settings.lateAfterMs,
        ...(samples[0] !== undefined && { lastSentAt: samples[0].sentAt }),
        ...(waiting !== undefined && { waiting: { id: waiting.id, sentAt: waiting.sentAt, waitedMs: now - Date.parse(waiting.sentAt) } }),
        latencies: samples.map((s) => s.latencyMs ?? null).reverse(),
        ...(alarm !== undefined && { alarm: { state: alarm.state, reason: alarm.reason, since: alarm.since } }),
      };
    }),
  );
  print(parsed.json, report, () =>
    report
      .map((r) =>
        [
          `queue ${r.queue}: ${r.state === 'no-data' ? 'NO DATA (no canary recorded yet)' : r.state.toUpperCase()}${r.latencyMs === undefined ? '' : `, latency ${humanMs(r.latencyMs)}`} (late after ${humanMs(r.lateAfterMs)})`,
          ...(r.waiting === undefined ? [] : [`  waiting: canary ${r.waiting.id}, ${humanMs(r.waiting.waitedMs)} so far`]),
          ...(r.latencies.length === 0 ? [] : [`  last ${r.latencies.length}: ${sparkline(r.latencies, r.lateAfterMs)}  (oldest to newest; ! = still waiting)`]),
          ...(r.alarm === undefined ? [] : [`  alarm: ${r.alarm.state} since ${r.alarm.since} (${r.alarm.reason})`]),
        ].join('\n'),
      )
      .join('\n'),
  );
  if (report.some((r) => r.state === 'late')) process.exitCode = 1;
}

async function localAlarms(url: string): Promise<LocalAlarmStatus[] | undefined> {
  try {
    const response = await fetch(`${url}/_ferry/alarms`);
    return response.ok ? ((await response.json()) as { alarms: LocalAlarmStatus[] }).alarms : undefined;
  } catch {
    return undefined; // The runtime is not answering: the records still tell the heartbeat's state.
  }
}

/** Latencies as bars, scaled to the late threshold (a full bar is late); `!` a canary still waiting. */
function sparkline(latencies: readonly (number | null)[], lateAfterMs: number): string {
  const bars = '▁▂▃▄▅▆▇█';
  return latencies.map((ms) => (ms === null ? '!' : bars[Math.min(bars.length - 1, Math.floor((ms / lateAfterMs) * (bars.length - 1)))])).join('');
}

function list(ids: readonly string[]): string {
  return ids.length === 0 ? 'none' : ids.join(', ');
}

function describeJob(job: JobRecord): string {
  const lines = [
    `job ${job.jobId}: ${job.status}`,
    `  task ${job.task} on queue ${job.queue}, attempt ${job.attempts} of ${job.maxAttempts}${job.tag === undefined ? '' : `, tag ${job.tag}`}`,
    `  enqueued ${job.enqueuedAt}${job.startedAt ? `, started ${job.startedAt}` : ''}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}`,
  ];
  if (job.nextAttemptAt) lines.push(`  next attempt at ${job.nextAttemptAt}`);
  if (job.stopRequestedAt) lines.push(`  stop asked at ${job.stopRequestedAt}`);
  if (job.lastError) lines.push(`  last error: ${job.lastError.name}: ${job.lastError.message}${job.failCause ? ` (${job.failCause})` : ''}`);
  if (job.deadLetteredAt) lines.push(`  dead-lettered at ${job.deadLetteredAt}`);
  if (job.result !== undefined) lines.push(`  result: ${cut(JSON.stringify(job.result))}`);
  lines.push(`  trace ${job.traceId}`);
  return lines.join('\n');
}

function describeWorkflow(view: WorkflowView): string {
  const p = view.progress;
  const lines = [`workflow ${view.workflowId}: ${view.status}`, `  members: ${p.total}; succeeded ${p.succeeded}, failed ${p.failed}, cancelled ${p.cancelled}`];
  if (view.deadline) lines.push(`  deadline ${view.deadline}`);
  if (view.error) lines.push(`  error: ${view.error.name}: ${view.error.message}`);
  if (view.result !== undefined) lines.push(`  result: ${cut(JSON.stringify(view.result))}`);
  lines.push('  tree:', ...treeLines(view.tree, '    '));
  return lines.join('\n');
}

function treeLines(node: NodeView, indent: string): string[] {
  const label = `${node.kind}${node.task ? ` ${node.task}` : ''} ${node.status}${node.jobId ? ` (job ${node.jobId})` : ''}${node.error ? `: ${node.error.name}: ${node.error.message}` : ''}`;
  return [`${indent}${label}`, ...node.children.flatMap((child) => treeLines(child, `${indent}  `))];
}

function cut(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
