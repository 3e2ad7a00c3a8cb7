/**
 * The reliability suite: the chaos app on the local runtime under injected
 * faults, driven with jobs of every kind, workflows of every shape and report
 * bursts, then left to go quiet and checked item by item. `npm run
 * bench:chaos` runs it at full size; `npm test` runs a short version
 * (test/reliability/chaos.test.ts).
 *
 * Every count a guarantee makes zero is checked against evidence the system
 * under test does not produce itself: the witness of effects, the queues and
 * dead-letter queues as the emulator shows them, and a scan of the state table.
 */
import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { millis } from '../../lib/app/duration.js';
import { tableName } from '../../lib/app/resource-env.js';
import { documentClient } from '../../lib/aws/clients.js';
import { deadLetterReasonOf } from '../../lib/jobs/dead-letter.js';
import { createJobClient } from '../../lib/jobs/enqueue.js';
import type { JobLookup } from '../../lib/jobs/job-state.js';
import type { Task } from '../../lib/jobs/task.js';
import type { EmulatorEndpoints } from '../../lib/local/emulator-protocol.js';
import type { FaultKind } from '../../lib/local/fault-injection.js';
import { startLocalRuntime, type LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import type { PageView } from '../../app/reports/page-views.js';
import { seedPageViews } from '../../app/reports/seed-page-views.js';
import { mapLimit } from '../../lib/util/map-limit.js';
import { chain, chord, group, s, si, type Canvas } from '../../lib/workflows/canvas.js';
import { workflows } from '../../lib/workflows/default-engine.js';
import { DEADLINE_TASK } from '../../lib/workflows/workflow-engine.js';
import { chaosApp } from './chaos-app.js';
import {
  add,
  broken,
  childKey,
  CHILDREN,
  exactlyOnce,
  exactlyOnceCount,
  failing,
  flaky,
  nap,
  onWorkflowError,
  spawner,
  trackedEffect,
  untrackedEffect,
  witness,
  xsum,
  outboxChildJobId,
  outboxWriter,
  signupUser,
} from './chaos-tasks.js';
import { mailbox } from '../../notes/providers.js';

export interface ChaosRates {
  /** Share of AWS calls inside invocations that fail, are throttled or lose their response. */
  readonly calls: number;
  /** Share of DynamoDB writes inside invocations that meet another transaction (TransactionConflict). */
  readonly conflicts: number;
  /** Share of invocations whose environment is killed. */
  readonly kills: number;
  /** Share of SQS messages delivered twice. */
  readonly duplicates: number;
  /** Share of SQS batches delivered late. */
  readonly delays: number;
  /** Largest clock skew of an environment, either way. */
  readonly skewMs: number;
}

/** The rates the issue sets: 5% of AWS calls, 2% of invocations killed, 5% duplicate deliveries; and 5% of DynamoDB writes meeting a transaction. */
export const STATED_RATES: ChaosRates = { calls: 0.05, conflicts: 0.05, kills: 0.02, duplicates: 0.05, delays: 0.05, skewMs: 3_000 };

export interface ChaosOptions {
  readonly seed: number;
  /** Jobs in all, spawned children included. */
  readonly jobs: number;
  readonly workflows: number;
  readonly reportBursts: number;
  /** Concurrent requests per burst. */
  readonly burstSize: number;
  readonly rates?: ChaosRates;
  /** Running emulators (a test run's); the runtime starts its own otherwise. */
  readonly emulators?: EmulatorEndpoints;
  /** Entity rows written with their job through the outbox (`enqueueWith`), from inside workers. @default 5% of `jobs` */
  readonly outboxWrites?: number;
  /** Users signed up through the notes service's signup (outbox) and onboarded, each with a duplicate onboarding job. @default 1% of `jobs`, at least 5 */
  readonly signups?: number;
  readonly log?: (line: string) => void;
  /** Longest wait for the system to go quiet. @default 10 minutes */
  readonly quiescenceTimeoutMs?: number;
}

/** What a run found: the counts that must be zero, and what explains the others. */
export interface ChaosFigures {
  readonly seed: number;
  readonly jobs_enqueued: number;
  readonly jobs_terminal: number;
  readonly effects_duplicated: number;
  readonly effects_lost: number;
  readonly workflows_started: number;
  readonly workflows_terminal: number;
  readonly workflows_wrong_result: number;
  readonly messages_lost: number;
  readonly dead_letters_without_reason: number;
  readonly items_stuck: number;
  readonly faults_injected: number;
  readonly faults_by_kind: Readonly<Record<FaultKind, number>>;
  /** At-least-once effects (outside AWS) that ran more than once: allowed, counted. */
  readonly effects_repeated_at_least_once: number;
  readonly report_bursts: number;
  readonly report_wrong_result: number;
  /** Rows committed with their job through the outbox, and jobs of theirs that ran before their row was readable (must be 0). */
  readonly outbox_writes: number;
  readonly outbox_jobs_before_commit: number;
  /** Users onboarded; messages (email, SMS) that reached them; provider calls beyond one per message and the injected SMS failure (allowed: the provider's idempotency key absorbs them). */
  readonly signups: number;
  readonly onboarding_deliveries: number;
  readonly provider_calls_repeated: number;
  readonly wall_ms: number;
  /** What was found wrong, one line each (empty when every zero-count is zero). */
  readonly problems: readonly string[];
}

type Kind = 'tracked' | 'untracked' | 'exactly-once' | 'failing' | 'flaky' | 'spawner';

interface PlannedJob {
  readonly kind: Kind;
  readonly key: string;
  jobId?: string;
}

interface PlannedWorkflow {
  readonly canvas: Canvas;
  readonly expect: { readonly status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'; readonly result?: unknown; readonly errorName?: string };
  readonly deadlineMs?: number;
  readonly onErrorKey?: string;
  readonly cancelAfterMs?: number;
  /** An exactly-once effect that must not happen (a cancelled workflow's later step). */
  readonly neverKey?: string;
  workflowId?: string;
}

/** The share of each kind in the job mix; a spawner stands for itself and its children. */
const MIX: readonly [Kind, number][] = [
  ['tracked', 0.25],
  ['untracked', 0.2],
  ['exactly-once', 0.2],
  ['failing', 0.05],
  ['flaky', 0.05],
  ['spawner', 0.25 / (CHILDREN + 1)],
];

function planJobs(total: number, run: string): PlannedJob[] {
  const planned: PlannedJob[] = [];
  const spawners = Math.floor((total * (MIX.find(([k]) => k === 'spawner')?.[1] ?? 0)));
  let left = total - spawners * (CHILDREN + 1);
  for (const [kind, share] of MIX) {
    if (kind === 'spawner') continue;
    const count = kind === 'tracked' ? 0 : Math.floor(total * share);
    for (let i = 0; i < count; i++) planned.push({ kind, key: `${run}-${kind}-${i}` });
    left -= count;
  }
  for (let i = 0; i < left; i++) planned.push({ kind: 'tracked', key: `${run}-tracked-${i}` });
  for (let i = 0; i < spawners; i++) planned.push({ kind: 'spawner', key: `${run}-spawner-${i}` });
  return planned;
}

function planWorkflows(count: number, run: string): PlannedWorkflow[] {
  const planned: PlannedWorkflow[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 8) {
      case 0:
        planned.push({ canvas: chain(s(add, [i, i]), s(add, [1]), s(add, [2])), expect: { status: 'SUCCEEDED', result: 2 * i + 3 } });
        break;
      case 1:
        planned.push({ canvas: group(...[0, 1, 2, 3, 4].map((j) => s(add, [i, j]))), expect: { status: 'SUCCEEDED', result: [0, 1, 2, 3, 4].map((j) => i + j) } });
        break;
      case 2:
        planned.push({ canvas: chord([...Array(10).keys()].map((k) => s(add, [i, k])), s(xsum)), expect: { status: 'SUCCEEDED', result: 10 * i + 45 } });
        break;
      case 3:
        // Nested: a step, a group fed its result, and a sum: (i+1+2) + (i+1+3).
        planned.push({ canvas: chain(s(add, [i, 1]), group(s(add, [2]), s(add, [3])), s(xsum)), expect: { status: 'SUCCEEDED', result: 2 * i + 7 } });
        break;
      case 4: {
        const onErrorKey = `${run}-wf-${i}-on-error`;
        planned.push({ canvas: chord([s(add, [i, 1]), si(broken, {}), s(add, [i, 2])], s(xsum)), expect: { status: 'FAILED', errorName: 'NonRetryableError' }, onErrorKey });
        break;
      }
      case 5:
        // Its first step outlasts the deadline by more than clocks can differ (±3 s).
        planned.push({ canvas: chain(si(nap, { ms: 5_500 }), s(add, [1])), expect: { status: 'FAILED', errorName: 'WorkflowDeadlineError' }, deadlineMs: 1_000 });
        break;
      case 6: {
        const neverKey = `${run}-wf-${i}-never`;
        planned.push({ canvas: chain(si(nap, { ms: 3_000 }), si(exactlyOnce, { key: neverKey })), expect: { status: 'CANCELLED' }, cancelAfterMs: 500, neverKey });
        break;
      }
      default:
        planned.push({ canvas: chord([chord([s(add, [i, 0]), s(add, [i, 1])], s(xsum)), s(add, [i, 2])], s(xsum)), expect: { status: 'SUCCEEDED', result: 3 * i + 3 } });
    }
  }
  return planned;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const rates = options.rates ?? STATED_RATES;
  const log = options.log ?? (() => undefined);
  const run = `c${options.seed}-${randomBytes(3).toString('hex')}`;
  const dataNow = Date.now() - 3_600_000;
  const views: PageView[] = [...generatePageViews({ rows: 1_500, days: 10, seed: options.seed, now: dataNow })];
  const runtime = await startLocalRuntime({
    app: chaosApp,
    prefix: `chaos-${randomBytes(4).toString('hex')}`,
    httpPort: 0,
    log,
    ...(options.emulators !== undefined && { emulators: options.emulators }),
    faults: { seed: options.seed, calls: rates.calls, conflicts: rates.conflicts, kills: rates.kills, duplicates: rates.duplicates, delays: rates.delays, skewMs: rates.skewMs },
    prepare: async () => void (await seedPageViews({ rows: 1_500, days: 10, seed: options.seed, now: dataNow, concurrency: 8 })),
  });
  const started = performance.now();
  try {
    const client = createJobClient();
    const jobs = planJobs(options.jobs, run);
    const flows = planWorkflows(options.workflows, run);
    const byTask: Readonly<Record<Kind, Task<{ key: string }, unknown, { key: string }>>> = { tracked: trackedEffect, untracked: untrackedEffect, 'exactly-once': exactlyOnce, failing, flaky, spawner };

    // Everything at once: jobs in batches, workflows, report bursts.
    const enqueueing = mapLimit(chunk(jobs, 10), 8, async (batch) => {
      const same = batch.every((j) => j.kind === batch[0]?.kind);
      const parts = same ? [batch] : batch.map((j) => [j]);
      for (const part of parts) {
        const sent = await client.enqueueMany(byTask[part[0]?.kind ?? 'tracked'], part.map((j) => ({ key: j.key })));
        sent.forEach((job, i) => {
          const planned = part[i];
          if (planned !== undefined) planned.jobId = job.jobId;
        });
      }
    });
    const starting = mapLimit(flows, 8, async (flow) => {
      const { workflowId } = await workflows.start(flow.canvas, {
        ...(flow.deadlineMs !== undefined && { deadline: millis(flow.deadlineMs) }),
        ...(flow.onErrorKey !== undefined && { onError: si(onWorkflowError, { key: flow.onErrorKey }) }),
      });
      flow.workflowId = workflowId;
      if (flow.cancelAfterMs !== undefined) {
        await new Promise((r) => setTimeout(r, flow.cancelAfterMs));
        await workflows.cancel(workflowId);
      }
    });
    const outboxKeys = Array.from({ length: options.outboxWrites ?? Math.round(options.jobs * 0.05) }, (_, i) => `${run}-outbox-${i}`);
    const users = Array.from({ length: options.signups ?? Math.max(5, Math.round(options.jobs * 0.01)) }, (_, i) => `${run}-user-${i}`);
    const writing = Promise.all([
      mapLimit(chunk(outboxKeys, 10), 4, (batch) => client.enqueueMany(outboxWriter, batch.map((key) => ({ key })))),
      mapLimit(chunk(users, 10), 4, (batch) => client.enqueueMany(signupUser, batch.map((id) => ({ id })))),
    ]).then(([writers, signups]) => ({ writers: writers.flat(), signups: signups.flat() }));
    const bursting = reportBursts(runtime, options, views);
    await Promise.all([enqueueing, starting, writing]);
    const reports = await bursting;
    const enqueuedAt = performance.now();
    log(`chaos: ${jobs.length} jobs and ${flows.length} workflows started in ${Math.round(enqueuedAt - started)} ms; waiting for quiet`);

    await quiescence(runtime, flows, options.quiescenceTimeoutMs ?? 600_000);
    const wallMs = performance.now() - started;
    const problems: string[] = [];

    // Jobs, each against its evidence.
    let effectsDuplicated = 0;
    let effectsLost = 0;
    let repeated = 0;
    let lost = 0;
    let enqueued = 0;
    const deadLetters = await deadLetterBodies(runtime);
    const dead = (jobId: string | undefined) => jobId !== undefined && deadLetters.some((d) => d.body.includes(jobId) && d.reason !== undefined);
    await mapLimit(jobs, 32, async (job) => {
      enqueued += job.kind === 'spawner' ? 1 + CHILDREN : 1;
      const record = job.jobId === undefined || job.kind === 'untracked' ? undefined : await client.getJob(job.jobId);
      const seen = witness().get(job.key) ?? 0;
      const problem = (what: string) => problems.push(`${job.kind} job ${job.key} (${job.jobId ?? 'not sent'}): ${what}`);
      const exactly = async (key: string, what: string) => {
        const count = await exactlyOnceCount(key);
        if (count === 0) {
          effectsLost++;
          problem(`${what} never happened`);
        } else if (count > 1) {
          effectsDuplicated += count - 1;
          problem(`${what} happened ${count} times`);
        }
        return count;
      };
      const notSucceeded = () => {
        if (succeeded(record)) return false;
        lost++;
        problem(`ended ${record?.status}`);
        return true;
      };
      switch (job.kind) {
        case 'tracked':
        case 'flaky':
          if (notSucceeded()) break;
          if (seen === 0) {
            effectsLost++;
            problem('succeeded without its effect');
          }
          repeated += Math.max(0, seen - 1);
          break;
        case 'untracked':
          if (seen === 0) {
            lost++;
            effectsLost++;
            problem('its effect never happened');
          }
          repeated += Math.max(0, seen - 1);
          break;
        case 'exactly-once':
          notSucceeded();
          await exactly(job.key, 'its effect');
          break;
        case 'failing':
          if (record?.status !== 'FAILED' || !dead(job.jobId)) {
            lost++;
            problem(record?.status !== 'FAILED' ? `ended ${record?.status}, not FAILED` : 'failed without a dead letter naming it');
          }
          break;
        case 'spawner':
          notSucceeded();
          for (let i = 0; i < CHILDREN; i++) if ((await exactly(childKey(job.key, i), `child ${i}'s effect`)) === 0) lost++;
          break;
      }
    });

    // Outbox writes: the writer succeeded, its job ran after its row's commit, and its effect happened once.
    const written = await writing;
    let beforeCommit = 0;
    await mapLimit(outboxKeys, 16, async (key, i) => {
      const writer = await client.getJob(written.writers[i]?.jobId ?? '');
      const child = await client.getJob(outboxChildJobId(key));
      const problem = (what: string) => problems.push(`outbox write ${key}: ${what}`);
      if (!succeeded(writer) || !succeeded(child)) {
        lost++;
        if (child.status === 'FAILED' && child.lastError?.message.includes('before its commit')) beforeCommit++;
        problem(`writer ${writer.status}, its job ${child.status} ${child.status === 'FAILED' ? (child.lastError?.message ?? '') : ''}`);
      }
      const count = await exactlyOnceCount(key);
      if (count === 0) effectsLost++;
      if (count > 1) effectsDuplicated += count - 1;
      if (count !== 1) problem(`its effect happened ${count} times`);
    });

    // Onboarding: each user's email and SMS reached them once, whatever the provider was called.
    let deliveries = 0;
    let callsRepeated = 0;
    await mapLimit(users, 16, async (id, i) => {
      const signup = await client.getJob(written.signups[i]?.jobId ?? '');
      const onboarding = await client.getJob(`onboard-${id}`);
      const problem = (what: string) => problems.push(`user ${id}: ${what}`);
      if (!succeeded(signup) || !succeeded(onboarding)) {
        lost++;
        problem(`signup ${signup.status}, onboarding ${onboarding.status}`);
      }
      for (const [channel, injectedFailures] of [['email', 0], ['sms', 1]] as const) {
        const box = await mailbox(channel, id);
        deliveries += box.delivered;
        callsRepeated += Math.max(0, box.calls - 1 - injectedFailures);
        if (box.delivered === 0) effectsLost++;
        if (box.delivered > 1) effectsDuplicated += box.delivered - 1;
        if (box.delivered !== 1) problem(`${channel} delivered ${box.delivered} times`);
      }
    });

    // Workflows, each against its expected outcome.
    let terminal = 0;
    let wrong = 0;
    await mapLimit(flows, 16, async (flow) => {
      const view = await workflows.get(flow.workflowId ?? '');
      if (view.status !== 'RUNNING') terminal++;
      const expected = flow.expect;
      const ok =
        view.status === expected.status &&
        (expected.result === undefined || JSON.stringify(view.result) === JSON.stringify(expected.result)) &&
        (expected.errorName === undefined || view.error?.name === expected.errorName);
      if (!ok) {
        wrong++;
        problems.push(`workflow ${flow.workflowId}: ${view.status} ${JSON.stringify(view.result ?? view.error)}, expected ${JSON.stringify(expected)}`);
      }
      if (flow.onErrorKey !== undefined) {
        const count = await exactlyOnceCount(flow.onErrorKey);
        if (count === 0) effectsLost++;
        if (count > 1) effectsDuplicated += count - 1;
        if (count !== 1) problems.push(`workflow ${flow.workflowId}: error callback ran ${count} times`);
      }
      if (flow.neverKey !== undefined && (await exactlyOnceCount(flow.neverKey)) > 0) {
        wrong++;
        problems.push(`workflow ${flow.workflowId}: a step after the cancel ran`);
      }
    });

    const withoutReason = deadLetters.filter((d) => d.reason === undefined);
    for (const d of withoutReason) problems.push(`dead letter without a reason: ${d.body.slice(0, 160)}`);
    const stuck = await stuckItems();
    for (const item of stuck) problems.push(`stuck: ${item}`);
    problems.push(...reports.problems);
    const faults = runtime.faults();
    return {
      seed: options.seed,
      jobs_enqueued: enqueued,
      jobs_terminal: enqueued - lost,
      effects_duplicated: effectsDuplicated,
      effects_lost: effectsLost,
      workflows_started: flows.length,
      workflows_terminal: terminal,
      workflows_wrong_result: wrong,
      messages_lost: lost,
      dead_letters_without_reason: withoutReason.length,
      items_stuck: stuck.length,
      faults_injected: faults?.total ?? 0,
      faults_by_kind: faults?.injected ?? { throttle: 0, fail: 0, conflict: 0, 'lose-response': 0, kill: 0, duplicate: 0, delay: 0 },
      effects_repeated_at_least_once: repeated,
      report_bursts: reports.bursts,
      report_wrong_result: reports.wrong,
      outbox_writes: outboxKeys.length,
      outbox_jobs_before_commit: beforeCommit,
      signups: users.length,
      onboarding_deliveries: deliveries,
      provider_calls_repeated: callsRepeated,
      wall_ms: Math.round(wallMs),
      problems,
    };
  } finally {
    await runtime.stop();
  }
}

function succeeded(record: JobLookup | undefined): boolean {
  return record?.status === 'SUCCEEDED';
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Bursts of concurrent requests for a cold report, through the API, each then followed until ready and checked against an independent count. */
async function reportBursts(runtime: LocalRuntime, options: ChaosOptions, views: readonly PageView[]): Promise<{ bursts: number; wrong: number; problems: string[] }> {
  const problems: string[] = [];
  let wrong = 0;
  for (let b = 0; b < options.reportBursts; b++) {
    const minResponseMs = 500 + 250 * b;
    const path = `/reports/slow-blog-views?days=${3 + (b % 5)}&minResponseMs=${minResponseMs}&urlContains=`;
    const answer = async (): Promise<{ count: number; windowStart: number; windowEnd: number } | undefined> => {
      for (let tries = 0; tries < 600; tries++) {
        const response = await fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json' } });
        const body = (await response.json().catch(() => ({}))) as { state?: string; result?: { count: number; windowStart: number; windowEnd: number } };
        if (response.status === 200 && body.state === 'ready') return body.result;
        // 202 pending; a 5xx from a killed environment or a failed refresh: ask again, as a polling page does.
        await new Promise((r) => setTimeout(r, 250));
      }
      return undefined;
    };
    const results = await Promise.all(Array.from({ length: options.burstSize }, answer));
    for (const result of results) {
      const expected = result && views.filter((v) => v.createdAt >= result.windowStart && v.createdAt <= result.windowEnd && v.responseMs >= minResponseMs).length;
      if (result === undefined || result.count !== expected) {
        wrong++;
        problems.push(`report ${path}: ${result === undefined ? 'never ready' : `counted ${result.count}, expected ${expected}`}`);
      }
    }
  }
  return { bursts: options.reportBursts, wrong, problems };
}

/**
 * Messages still to be handled in queue `name`. A delayed deadline check is
 * not counted: it is due minutes later (a refresh's chord has a 5-minute
 * deadline) and, its workflow having ended, will change nothing.
 */
async function depth(runtime: LocalRuntime, name: string): Promise<number> {
  const response = await fetch(`${runtime.endpoints.sqsEndpoint}/_fauxqs/queues/${name}`);
  type Listed = { body?: string; message?: { body?: string } };
  const { messages } = (await response.json()) as { messages: { ready: Listed[]; delayed: Listed[]; inflight: Listed[] } };
  const pending = messages.delayed.filter((m) => !(m.body ?? m.message?.body ?? '').includes(DEADLINE_TASK));
  return messages.ready.length + messages.inflight.length + pending.length;
}

/** Waits until the queues are empty and every workflow has ended, three checks in a row a second apart. */
async function quiescence(runtime: LocalRuntime, flows: readonly PlannedWorkflow[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 3) {
    if (Date.now() > deadline) throw new Error(`the system did not go quiet within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
    const depths = await Promise.all(Object.values(runtime.resources.queues).map((q) => depth(runtime, q.name)));
    const busy = depths.some((d) => d > 0) || (await outboxIntents()).length > 0;
    const running = busy ? true : (await Promise.all(flows.map(async (f) => (await workflows.get(f.workflowId ?? '')).status === 'RUNNING'))).some(Boolean);
    quiet = busy || running ? 0 : quiet + 1;
  }
}

/** Intents still in the outbox: jobs committed and not yet known sent. */
async function outboxIntents(): Promise<string[]> {
  const page = await documentClient().send(new ScanCommand({ TableName: tableName('outbox'), ConsistentRead: true, ProjectionExpression: 'jobId' }));
  return (page.Items ?? []).map((item) => String(item.jobId));
}

/** Every dead letter in the app's DLQs: its body and the reason the worker recorded (absent when SQS moved it itself). */
async function deadLetterBodies(runtime: LocalRuntime): Promise<{ body: string; reason: unknown }[]> {
  const out: { body: string; reason: unknown }[] = [];
  for (const queue of Object.values(runtime.resources.queues)) {
    const response = await fetch(`${runtime.endpoints.sqsEndpoint}/_fauxqs/queues/${queue.deadLetter.name}`);
    const { messages } = (await response.json()) as { messages: { ready: { body: string; messageAttributes: Record<string, { StringValue?: string }> }[] } };
    for (const m of messages.ready) out.push({ body: m.body, reason: deadLetterReasonOf(m.messageAttributes) });
  }
  return out;
}

/**
 * Items that should have reached a final state and did not: jobs queued or
 * running, workflows running, task nodes of ended workflows still pending or
 * queued, flights queued or running, locks held, in-progress idempotency
 * records, dedup markers of unfinished jobs.
 */
async function stuckItems(): Promise<string[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(new ScanCommand({ TableName: tableName('state'), ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  const workflowStatus = new Map<string, string>();
  for (const item of items) if (String(item.pk).startsWith('WF#') && item.sk === 'META') workflowStatus.set(String(item.pk), String(item.status));
  const stuck: string[] = (await outboxIntents()).map((jobId) => `outbox intent of job ${jobId}`);
  for (const item of items) {
    const pk = String(item.pk);
    const sk = String(item.sk);
    if (pk.startsWith('JOB#') && (item.status === 'QUEUED' || item.status === 'RUNNING')) stuck.push(`${pk} ${String(item.task)} ${String(item.status)}`);
    if (pk.startsWith('WF#') && sk === 'META' && item.status === 'RUNNING') stuck.push(`${pk} RUNNING`);
    if (pk.startsWith('WF#') && sk.startsWith('NODE#') && item.kind === 'task') {
      const status = workflowStatus.get(pk);
      const open = item.status === 'PENDING' || item.status === 'QUEUED';
      if ((status === 'SUCCEEDED' && item.status !== 'SUCCEEDED') || (status !== 'RUNNING' && open)) stuck.push(`${pk} ${sk} ${String(item.status)} in a ${status} workflow`);
    }
    if (pk.startsWith('FLIGHT#') && (item.phase === 'queued' || item.phase === 'running')) stuck.push(`${pk} ${String(item.phase)}`);
    if (pk.startsWith('LOCK#') && typeof item.owner === 'string') stuck.push(`${pk} held by ${item.owner}`);
    if (pk.startsWith('ONCE#') && item.status === 'IN_PROGRESS') stuck.push(`${pk} IN_PROGRESS`);
  }
  return stuck;
}
