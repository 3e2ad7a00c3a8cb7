/**
 * `npm start` as a user runs it: a separate process that starts its own
 * emulators, answers /health, and leaves no emulator process behind when it is
 * interrupted, terminated, or killed outright.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/local/runtime.js';
import { eventually } from '../helpers/runtime.js';
import { freePort } from '../../lib/local/free-port.js';

interface Started {
  child: ChildProcess;
  url: string;
  dynamodbPort: string;
  output: string[];
}

/** Starts `lib/local/main.ts` (what `npm start` runs) in memory on a free port and waits for its banner. */
async function startFerry(): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts', '--in-memory', '--port', String(port)], {
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
  await eventually('the Ferry banner', async () => (output.some((l) => l.includes('Press Ctrl-C')) ? true : undefined), 60_000).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${output.join('\n')}`);
  });
  return { child, url: `http://localhost:${port}`, dynamodbPort, output };
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
});
