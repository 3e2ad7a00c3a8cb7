/**
 * `npm start` as a user runs it: a separate process that starts its own
 * emulators, writes the demo data set before the API opens, answers /health,
 * and leaves no emulator process behind when it is interrupted, terminated,
 * or killed outright.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import type { DemoDataSet } from '../../app/reports/demo-data.js';
import type { SlowViewsResult } from '../../app/reports/slow-blog-views.js';
import { eventually } from '../helpers/runtime.js';
import { freePort } from '../../lib/local/free-port.js';

interface Started {
  child: ChildProcess;
  url: string;
  dynamodbPort: string;
  output: string[];
  runtimeFile: string;
  /** With `probe`: the first answer to a request sent as early as possible, and what npm start had printed by then. */
  firstAnswer?: { status: number; printedBefore: string[] };
}

/**
 * Starts `lib/cli/main.ts dev` (what `npm start` runs) on a free port and waits
 * for its banner; in memory unless `storage` names a data folder. Its runtime
 * file goes to a folder of its own, not the developer's `.ferry/`.
 */
async function startFerry(storage: string[] = ['--in-memory'], probe?: string): Promise<Started> {
  const port = await freePort();
  const runtimeFile = join(mkdtempSync(join(tmpdir(), 'ferry-start-')), 'runtime.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'dev', ...storage, '--port', String(port), '--runtime-file', runtimeFile], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let dynamodbPort = '';
  lines.on('line', (line) => {
    output.push(line);
    const m = /DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
    if (m) dynamodbPort = m[1] ?? '';
  });
  let firstAnswer: Started['firstAnswer'];
  const probing = probe === undefined ? Promise.resolve() : (async () => {
    // Like a user who opens the report before the banner: ask every 50 ms until something answers.
    while (firstAnswer === undefined && child.exitCode === null) {
      try {
        const response = await fetch(`http://localhost:${port}${probe}`);
        firstAnswer = { status: response.status, printedBefore: [...output] };
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  await eventually('the Ferry banner', async () => (output.some((l) => l.includes('Press Ctrl-C')) ? true : undefined), 60_000).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${output.join('\n')}`);
  });
  await probing;
  return { child, url: `http://localhost:${port}`, dynamodbPort, output, runtimeFile, ...(firstAnswer && { firstAnswer }) };
}

/** Pids of DynamoDB Local JVMs listening on `port`. */
function javaOn(port: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((l) => l.includes('DynamoDBLocal.jar') && l.includes(`-port ${port} `))
    .map((l) => l.trim().split(/\s+/)[0] ?? '');
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm start', () => {
  it('answers GET /health, then stops DynamoDB Local and exits 0 on Ctrl-C (SIGINT)', async () => {
    const ferry = await startFerry();
    const health = await fetch(`${ferry.url}/health`);
    expect(health.status).toBe(200);
    expect(javaOn(ferry.dynamodbPort)).toHaveLength(1);
    ferry.child.kill('SIGINT');
    expect(await exitOf(ferry.child)).toBe(0);
    await eventually('DynamoDB Local to exit', async () => (javaOn(ferry.dynamodbPort).length === 0 ? true : undefined), 15_000);
  }, 90_000);

  it('exits 0 and stops DynamoDB Local on SIGTERM', async () => {
    const ferry = await startFerry();
    ferry.child.kill('SIGTERM');
    expect(await exitOf(ferry.child)).toBe(0);
    await eventually('DynamoDB Local to exit', async () => (javaOn(ferry.dynamodbPort).length === 0 ? true : undefined), 15_000);
  }, 90_000);

  it('leaves no DynamoDB Local behind when the parent is killed outright (SIGKILL)', async () => {
    const ferry = await startFerry();
    expect(javaOn(ferry.dynamodbPort)).toHaveLength(1);
    ferry.child.kill('SIGKILL');
    await exitOf(ferry.child);
    await eventually('the orphaned DynamoDB Local to be stopped by the emulator host', async () =>
      javaOn(ferry.dynamodbPort).length === 0 ? true : undefined, 15_000);
  }, 90_000);

  it('writes the whole demo data set before the API opens, so the first report counts all of it', async () => {
    // An empty data folder on disk, as on a fresh clone (DynamoDB Local's disk store is its slowest).
    const path = '/reports/slow-blog-views';
    const ferry = await startFerry(['--data-dir', mkdtempSync(join(tmpdir(), 'ferry-data-'))], path);
    try {
      const published = JSON.parse(readFileSync(ferry.runtimeFile, 'utf8')) as { demo?: DemoDataSet };
      const demo = published.demo;
      if (demo === undefined) throw new Error(`npm start published no demo data set:\n${ferry.output.join('\n')}`);
      expect(demo.rows).toBeGreaterThan(0);

      // The first request that got an answer at all was sent while npm start was starting; the API
      // answered it only after the whole set was written, and it claimed the refresh.
      expect(ferry.firstAnswer?.status).toBe(202);
      expect(ferry.firstAnswer?.printedBefore.some((line) => line.startsWith(`Ferry: wrote ${demo.rows.toLocaleString('en-US')} page views`))).toBe(true);
      const ready = await eventually('the first report', async () => {
        const response = await fetch(`${ferry.url}${path}`);
        const body = (await response.json()) as { state: string; result?: SlowViewsResult; params: { minResponseMs: number; urlContains: string } };
        return body.state === 'ready' ? body : undefined;
      }, 60_000);
      const result = ready.result as SlowViewsResult;

      // The same rows, generated again from what npm start published, counted in the report's window.
      let expected = 0;
      for (const view of generatePageViews({ rows: demo.rows, days: demo.days, seed: demo.seed, now: demo.now })) {
        const inWindow = view.createdAt >= result.windowStart && view.createdAt <= result.windowEnd;
        if (inWindow && view.responseMs >= ready.params.minResponseMs && view.url.includes(ready.params.urlContains)) expected++;
      }
      expect(expected).toBeGreaterThan(100);
      expect(result.count).toBe(expected);
      // The default window covers the whole set: nothing of it is outside what was counted.
      expect(result.windowStart).toBeLessThanOrEqual(demo.now - demo.days * 86_400_000);
      expect(result.windowEnd).toBeGreaterThanOrEqual(demo.now);
    } finally {
      ferry.child.kill('SIGINT');
      await exitOf(ferry.child);
    }
  }, 120_000);
});
