/**
 * Queue heartbeats (lib/jobs/heartbeat.ts) on the local runtime, with the
 * deployed bundles in sandboxes: the sender's canary, the worker's record of
 * its start, and the declared alarm, evaluated locally on the metric the
 * functions' EMF lines carry, going to ALARM when the worker pool stops and
 * back to OK when it resumes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_ENV } from '../../lib/app/define-app.js';
import { deployedTarget } from '../../lib/cli/ops-target.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { heartbeatState, recentHeartbeats } from '../../lib/jobs/heartbeat.js';
import type { LocalAlarmStatus } from '../../lib/local/local-alarms.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { heartbeatApp } from '../fixtures/heartbeat-app.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
const logged: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  runtime = await startTestRuntime(heartbeatApp, { code: 'bundles', log: (line) => void logged.push(line) });
  // The test reads the records as the console does: with a function's environment.
  Object.assign(process.env, runtime.functions.heartbeat?.environment, runtime.environment);
}, 180_000);
afterAll(() => runtime?.stop());

const alarm = (): LocalAlarmStatus => {
  const found = runtime.alarms().find((a) => a.queue === 'io');
  if (found === undefined) throw new Error('no heartbeat alarm for queue io');
  return found;
};

/** Fires ticks a second and a bit apart (a tick's time has whole seconds) until `state`. */
async function tickUntil(state: LocalAlarmStatus['state']): Promise<LocalAlarmStatus> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (alarm().state === state) return alarm();
    if (Date.now() > deadline) throw new Error(`alarm still ${alarm().state} (${alarm().reason}), waiting for ${state}`);
    await runtime.fireSchedule('beats-heartbeat');
    await sleep(1_100);
  }
}

describe('queue heartbeats', () => {
  it('records each canary\'s start and latency once, even for a tick delivered twice', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await runtime.fireSchedule('beats-heartbeat', at);
    const started = await eventually('the canary to start', async () => {
      const samples = await recentHeartbeats('io');
      return samples.find((s) => s.id === `io:${at.toISOString()}` && s.startedAt !== undefined);
    });
    expect(started.latencyMs).toBeGreaterThanOrEqual(0);
    expect(started.latencyMs).toBeLessThan(5_000);
    expect(Date.parse(started.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(started.sentAt));

    // EventBridge delivers the tick again: the record stands, already started, and no second canary goes.
    await runtime.fireSchedule('beats-heartbeat', at);
    await sleep(500);
    const again = (await recentHeartbeats('io')).filter((s) => s.id === started.id);
    expect(again).toEqual([started]);
    expect(heartbeatState(await recentHeartbeats('io'), 2_000).state).toBe('ok');
  });

  it('goes to ALARM when the worker pool stops, and back to OK when it resumes', async () => {
    const healthy = await tickUntil('OK');
    expect(healthy.reason).toMatch(/0 of the last 1 period/);

    let alarmedSince = '';
    runtime.setEventSourceEnabled('worker', 'io', false);
    try {
      await runtime.fireSchedule('beats-heartbeat');
      await sleep(2_500);
      // The next tick finds the first canary still waiting, past lateAfter (2 s): a late datapoint with no worker reporting.
      const late = await tickUntil('ALARM');
      alarmedSince = late.since;
      expect(late.reason).toMatch(/1 of the last 1 period\(s\) \[\d+\] greater than the threshold \(2000\)/);
      expect(logged.some((line) => /alarm t-[0-9a-f]+-io-heartbeat: OK -> ALARM/.test(line))).toBe(true);
      expect(heartbeatState(await recentHeartbeats('io'), 2_000).state).toBe('late');
    } finally {
      runtime.setEventSourceEnabled('worker', 'io', true);
    }

    // The waiting canaries start (late), then fresh ones start at once: the next period is fine.
    const recovered = await tickUntil('OK');
    expect(recovered.since > alarmedSince).toBe(true);
    expect(logged.some((line) => /-io-heartbeat: ALARM -> OK/.test(line))).toBe(true);
    const samples = await recentHeartbeats('io');
    expect(samples.every((s) => s.startedAt !== undefined)).toBe(true);
    expect(heartbeatState(samples, 2_000).state).toBe('ok');
  });

  it('ferry heartbeat: each queue\'s state, latencies and local alarm, for people or as JSON; an unknown queue is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-beat-'));
    try {
      const runtimeFile = join(dir, 'runtime.json');
      writeFileSync(runtimeFile, JSON.stringify({ app: heartbeatApp.name, url: runtime.url, environment: runtime.environment }));
      const tsx = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_') && !k.startsWith('AWS_ENDPOINT_URL')));
      // Not spawnSync: the command asks this process's runtime for the alarm's state.
      const ferry = async (args: readonly string[]) => {
        try {
          const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', tsx, join(PROJECT_ROOT, 'lib', 'cli', 'main.ts'), 'heartbeat', ...args, '--runtime-file', runtimeFile], { cwd: dir, encoding: 'utf8', timeout: 60_000, env });
          return { status: 0, stdout, stderr };
        } catch (error) {
          const failed = error as { code?: number; stdout: string; stderr: string };
          return { status: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
        }
      };

      const json = await ferry(['--json']);
      expect(json.status, json.stderr).toBe(0);
      const [io] = JSON.parse(json.stdout) as { queue: string; state: string; latencyMs: number; latencies: (number | null)[]; alarm: { state: string } }[];
      expect(io).toMatchObject({ queue: 'io', state: 'ok', lateAfterMs: 2_000, alarm: { state: 'OK' } });
      expect(io?.latencies.length).toBeGreaterThan(3);
      expect(io?.latencies.every((ms) => typeof ms === 'number')).toBe(true);

      const human = await ferry(['io']);
      expect(human.stdout).toMatch(/^queue io: OK, latency \d+ ms \(late after 2\.0 s\)$/m);
      expect(human.stdout).toMatch(/^ {2}last \d+: [▁▂▃▄▅▆▇█]+ {2}\(oldest to newest/m);
      expect(human.stdout).toMatch(/^ {2}alarm: OK since /m);

      const unknown = await ferry(['cpu']);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('queue "cpu" has no heartbeat (heartbeat queues: io)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a deployed stack\'s heartbeat settings from its outputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-beat-'));
    try {
      const file = join(dir, 'outputs.json');
      const settings = JSON.stringify({ queues: ['io'], table: 'state', lateAfterMs: 120_000, highResolution: false });
      writeFileSync(file, JSON.stringify({ Beats: { StateTableName: 'beats-state', IoQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/beats-io', HeartbeatSettings: settings } }));
      expect(deployedTarget(file).environment[HEARTBEAT_ENV]).toBe(settings);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
