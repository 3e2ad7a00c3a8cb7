/**
 * The operations commands (`ferry jobs`, `ferry dlq`, `ferry workflows`) as a
 * user runs them: a separate process, pointed at a running local app through
 * its runtime file (as `ferry dev` writes it), printing for people or JSON.
 * And the deployed target: a stack's outputs mapped to the environment the
 * platform reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seconds } from '../../lib/app/duration.js';
import { deployedTarget, localTarget } from '../../lib/cli/ops-target.js';
import { createJobClient } from '../../lib/jobs/enqueue.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { chain, s } from '../../lib/workflows/canvas.js';
import { add, rejects, runs, slowSum, steps } from '../fixtures/job-tasks.js';
import { requestFlight } from '../../lib/coordination/flight-task.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { registry, workflows } from '../fixtures/job-worker.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
const dir = mkdtempSync(join(tmpdir(), 'ferry-ops-'));
const runtimeFile = join(dir, 'runtime.json');

beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
  writeFileSync(runtimeFile, JSON.stringify({ app: jobsApp.name, url: runtime.url, environment: runtime.environment }));
});
afterAll(async () => {
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `ferry <args>` in its own process, as a user types it; its stdout parsed as JSON when asked with --json. */
function ferry(args: readonly string[]) {
  const tsx = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  // Nothing of this process's environment names the app: only the runtime file does.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_') && !k.startsWith('AWS_ENDPOINT_URL')));
  const run = spawnSync(process.execPath, ['--import', tsx, join(PROJECT_ROOT, 'lib', 'cli', 'main.ts'), ...args, '--runtime-file', runtimeFile], { cwd: dir, encoding: 'utf8', timeout: 60_000, env });
  return { ...run, parsed: <T = Record<string, unknown>>() => JSON.parse(run.stdout) as T };
}

const jobs = createJobClient({ registry });

describe('ferry jobs, dlq and workflows on a running local app', () => {
  it('shows a failed job, lists its dead letter with the reason, and redrives it', async () => {
    const key = randomUUID();
    const { jobId } = await jobs.enqueue(rejects, { key });
    await eventually('the job to fail', async () => ((await jobs.getJob(jobId)).status === 'FAILED' ? true : undefined), 30_000);

    const got = ferry(['jobs', 'get', jobId, '--json']);
    expect(got.status, got.stderr).toBe(0);
    expect(got.parsed()).toMatchObject({ jobId, status: 'FAILED', task: rejects.name, failCause: 'non-retryable', lastError: { name: 'NonRetryableError', message: 'the account is closed' } });
    const human = ferry(['jobs', 'get', jobId]);
    expect(human.stdout).toContain(`job ${jobId}: FAILED`);
    expect(human.stdout).toContain('last error: NonRetryableError: the account is closed (non-retryable)');

    const letters = await eventually('its dead letter listed', async () => {
      const listed = ferry(['dlq', 'list', 'jobs', '--json']).parsed<{ jobId?: string; reason?: { cause: string; errorMessage: string } }[]>();
      return listed.find((d) => d.jobId === jobId) ? listed : undefined;
    }, 20_000);
    expect(letters.find((d) => d.jobId === jobId)?.reason).toMatchObject({ cause: 'non-retryable', errorMessage: 'the account is closed' });
    // Listing leaves them in place: listed again, the same letter is there.
    expect(ferry(['dlq', 'list', 'jobs']).stdout).toContain(`${rejects.name} ${jobId}  non-retryable after 1 attempt(s): NonRetryableError: the account is closed`);

    const moved = ferry(['dlq', 'redrive', 'jobs', '--json']);
    expect(moved.status, moved.stderr).toBe(0);
    expect(moved.parsed()).toMatchObject({ queue: 'jobs', moved: letters.length });
    // Back on its queue, attempts counted again: it runs (and, still closed, fails) once more.
    await eventually('the redriven job to run again', async () => {
      const job = await jobs.getJob(jobId);
      return job.status === 'FAILED' && (job as { deadLetteredAt?: string }).deadLetteredAt !== undefined && job.attempts === 1 ? job : undefined;
    }, 30_000);
  });

  it('redrives one dead letter by its message id and leaves the others where they are', async () => {
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const sent = await Promise.all(keys.map((key) => jobs.enqueue(rejects, { key })));
    type Letter = { messageId: string; jobId?: string };
    const letters = await eventually('three dead letters', async () => {
      const listed = ferry(['dlq', 'list', 'jobs', '--json']).parsed<Letter[]>().filter((d) => sent.some((j) => j.jobId === d.jobId));
      return listed.length === 3 ? listed : undefined;
    }, 30_000);
    const chosen = letters[1] as Letter;
    const moved = ferry(['dlq', 'redrive', 'jobs', '--message', chosen.messageId, '--json']);
    expect(moved.status, moved.stderr).toBe(0);
    expect(moved.parsed()).toMatchObject({ moved: 1, messageId: chosen.messageId });
    // The other two are still there, visible (listed at once), and the chosen one is not.
    const after = ferry(['dlq', 'list', 'jobs', '--json']).parsed<Letter[]>().map((d) => d.messageId);
    expect(after).not.toContain(chosen.messageId);
    for (const other of letters.filter((d) => d !== chosen)) expect(after).toContain(other.messageId);
    const again = ferry(['dlq', 'redrive', 'jobs', '--message', chosen.messageId]);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain('no dead letter');
  });

  it('cancels a queued job by id and the jobs of a tag, and says why a job cannot be cancelled', async () => {
    const { jobId } = await jobs.enqueue(steps, { key: randomUUID(), steps: 1, stepMs: 0 }, { delay: seconds(30) });
    const cancelled = ferry(['jobs', 'cancel', jobId]);
    expect(cancelled.status, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`job ${jobId}: CANCELLED (it will not run)`);
    expect((await jobs.getJob(jobId)).status).toBe('CANCELLED');

    const tag = `order:${randomUUID()}`;
    const tagged = await Promise.all([1, 2].map(() => jobs.enqueue(steps, { key: randomUUID(), steps: 1, stepMs: 0 }, { tag, delay: seconds(30) })));
    const byTag = ferry(['jobs', 'cancel', '--tag', tag, '--json']);
    expect(byTag.status, byTag.stderr).toBe(0);
    expect(new Set(byTag.parsed<{ cancelled: string[] }>().cancelled)).toEqual(new Set(tagged.map((j) => j.jobId)));

    const unknown = ferry(['jobs', 'get', 'no-such-job']);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain('not found');
    const done = await jobs.enqueue(add, [1, 2]);
    await eventually('a job to succeed', async () => ((await jobs.getJob(done.jobId)).status === 'SUCCEEDED' ? true : undefined), 20_000);
    const refused = ferry(['jobs', 'cancel', done.jobId]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('only a QUEUED job can be cancelled');
  });

  it('shows a workflow\'s progress and tree', async () => {
    const { workflowId } = await workflows.start(chain(s(add, [1, 2]), s(add, [3])));
    await eventually('the workflow to end', async () => ((await workflows.get(workflowId)).status === 'SUCCEEDED' ? true : undefined), 30_000);
    const got = ferry(['workflows', 'get', workflowId, '--json']);
    expect(got.status, got.stderr).toBe(0);
    expect(got.parsed()).toMatchObject({ workflowId, status: 'SUCCEEDED', result: 6, progress: { total: 2, succeeded: 2 } });
    const human = ferry(['workflows', 'get', workflowId]).stdout;
    expect(human).toContain(`workflow ${workflowId}: SUCCEEDED`);
    expect(human).toContain('members: 2; succeeded 2, failed 0, cancelled 0');
    expect(human).toMatch(/task test\.add SUCCEEDED \(job /);
    for (const action of ['get', 'cancel']) {
      const unknown = ferry(['workflows', action, `no-such-workflow-${action}`]);
      expect(unknown.status).toBe(1);
      expect(unknown.stdout.trim()).toBe(`workflow no-such-workflow-${action}: not found (never started, or expired)`);
      expect(unknown.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
  });

  it('shows a cached computation and forces its refresh: the next request refreshes it, serving the stale result meanwhile', async () => {
    const key = `sum-${randomUUID()}`;
    const params = { values: [1, 2, 3] };
    await requestFlight(slowSum, key, params);
    const first = await eventually('the key to be ready', async () => {
      const answer = await requestFlight(slowSum, key, params);
      return answer.state === 'ready' ? answer : undefined;
    }, 30_000);
    expect(first.stale).toBe(false);

    const got = ferry(['flights', 'get', key, '--json']);
    expect(got.status, got.stderr).toBe(0);
    expect(got.parsed()).toMatchObject({ key, phase: 'ready', hasResult: true, computedAt: new Date(first.computedAt).toISOString() });
    expect(ferry(['flights', 'get', key]).stdout).toContain(`key ${key}: ready`);

    const refreshed = ferry(['flights', 'refresh', key]);
    expect(refreshed.status, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toContain('its result is stale now: the next request refreshes it');
    // The next request gets the stale result and claims the refresh; the refresh then stores a newer result.
    const next = await requestFlight(slowSum, key, params);
    expect(next).toMatchObject({ state: 'ready', result: 6, stale: true, refreshing: true });
    await eventually('a newer result', async () => {
      const answer = await requestFlight(slowSum, key, params);
      return answer.state === 'ready' && answer.computedAt > first.computedAt ? answer : undefined;
    }, 30_000);
    expect(runs().byKey[`flight:${key}`]).toHaveLength(2);

    const missing = ferry(['flights', 'get', `none-${key}`]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('not found');
  });

  it('answers a wrong call with one line and exit code 2', () => {
    const missing = spawnSync(process.execPath, ['--import', join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(PROJECT_ROOT, 'lib', 'cli', 'main.ts'), 'jobs', 'get', 'x', '--runtime-file', join(dir, 'none.json')], { cwd: dir, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('start the app with "ferry dev" first');
    const action = ferry(['dlq', 'empty', 'jobs']);
    expect(action.status).toBe(2);
    expect(action.stderr).toContain('unknown action "dlq empty"');
    expect(ferry(['dlq', 'list', 'jobs', '--max', '0']).stderr).toContain('--max must be a positive whole number');
  });
});

describe('the target of an operations command', () => {
  it('maps a deployed stack\'s outputs to the environment the platform reads', () => {
    const file = join(dir, 'cdk-outputs.json');
    writeFileSync(file, JSON.stringify({
      FerryNotes: {
        StateTableName: 'FerryNotes-StateTable-1',
        PageViewsTableName: 'FerryNotes-PageViews-1',
        IoQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/io',
        IoDeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/io-dlq',
        ApiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/prod/',
      },
    }));
    expect(deployedTarget(file)).toEqual({
      kind: 'deployed',
      source: file,
      stack: 'FerryNotes',
      // For ferry console: the API it signs requests for.
      apiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/prod/',
      environment: {
        FERRY_TABLE_STATE: 'FerryNotes-StateTable-1',
        FERRY_TABLE_PAGE_VIEWS: 'FerryNotes-PageViews-1',
        FERRY_QUEUE_IO_URL: 'https://sqs.eu-west-1.amazonaws.com/1/io',
        FERRY_QUEUE_IO_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/io-dlq',
      },
    });
    writeFileSync(file, JSON.stringify({ A: { StateTableName: 'a' }, B: { StateTableName: 'b' } }));
    expect(() => deployedTarget(file)).toThrow('has 2 stacks (A, B): pass --stack <name>');
    expect(deployedTarget(file, 'B').environment).toEqual({ FERRY_TABLE_STATE: 'b' });
    expect(() => deployedTarget(file, 'C')).toThrow('no stack "C"');
    expect(() => localTarget(join(dir, 'absent.json'))).toThrow('start the app with "ferry dev" first');
  });
});
