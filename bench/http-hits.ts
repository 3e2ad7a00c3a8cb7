/**
 * `npm run bench:http` (`npx tsx bench/http-hits.ts`): cached report hits
 * through the local HTTP path, as `npm start` serves them, measured with wrk.
 *
 * `lib/cli/main.ts dev` runs as its own process, as `npm start` does (the
 * synthesized bundles in sandboxes, every AWS call checked against the
 * deployed policy), on an empty data folder of its own (so it writes the demo
 * data set first), printing its invocation lines as JSON on a pipe this
 * script reads. Once `GET /reports/slow-blog-views` answers 200, wrk sends
 * that request again and again, at each concurrency:
 *
 * - `cached_hit_p50_ms`, `_p90_ms`, `_p99_ms`, `_max_ms`: wrk's latency
 *   percentiles (the request on the wire until the whole answer is back);
 * - `requests_per_s`: answers per second, every one a 200;
 * - `ddb_reads_per_hit`: the DynamoDB calls the `api` function made during
 *   the run, divided by its invocations (each invocation line carries the
 *   calls its sandbox made);
 * - `failed_requests`: answers that were not 2xx, and wrk's socket errors and
 *   timeouts (0 expected).
 *
 * Baseline in the same run (`system: bare node:http`): the same answer's
 * bytes served by a bare `node:http` server in a process of its own, no API
 * Gateway emulation, no sandbox, no handler: the floor that this machine,
 * Node and wrk set (on a 2-core machine wrk and the server share the cores,
 * so the tail at 200 connections is mostly scheduling).
 *
 * A warm-up run at the same concurrency comes first and is not counted: it
 * starts the sandboxes the load needs (cold starts), so the figures describe
 * warm hits. The seed tutorial's figures, measured on the same machine with
 * the same load script and quoted from issue 13, are printed beside them as
 * reference lines. Needs wrk (Debian: `apt-get install wrk`).
 *
 * Environment: `BENCH_SECONDS` (each measured run, default 10),
 * `BENCH_WARMUP_SECONDS` (default 3), `BENCH_CONCURRENCY` (default `1,200`),
 * `BENCH_WRK` (the wrk executable, default `wrk` on the PATH).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../lib/local/free-port.js';
import { PROJECT_ROOT } from '../test/helpers/repo-root.js';
import { Figures } from './figures.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,200').split(',').map(Number);
const WRK = process.env.BENCH_WRK ?? 'wrk';
const REPORT_PATH = '/reports/slow-blog-views';
const SYSTEM = 'ferry (npm start)';
const BASELINE = 'bare node:http (baseline)';

/** Issue 13's measurement: one load script against both systems on this machine. */
const QUOTED = [
  { system: 'tutorial (quoted from issue 13)', setup: 'Django + Celery + Redis, gunicorn 2 workers x 16 threads', concurrency: 1, p50: 3.1 },
  { system: 'tutorial (quoted from issue 13)', setup: 'Django + Celery + Redis, gunicorn 2 workers x 16 threads', concurrency: 200, p50: 137, p99: 308 },
  { system: 'ferry before issue 13 (quoted from issue 13)', setup: 'npm start', concurrency: 1, p50: 5.4 },
  { system: 'ferry before issue 13 (quoted from issue 13)', setup: 'npm start', concurrency: 200, p50: 473, p99: 715 },
] as const;

/** wrk's summary, written by the Lua script's `done` as one JSON line. */
interface WrkSummary {
  readonly requests: number;
  readonly duration_us: number;
  readonly p50_us: number;
  readonly p90_us: number;
  readonly p99_us: number;
  readonly max_us: number;
  readonly connect_errors: number;
  readonly read_errors: number;
  readonly write_errors: number;
  readonly timeouts: number;
  readonly non_2xx: number;
}

const WRK_SCRIPT = `wrk.headers["accept"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
`;

/** What the `api` function's invocation lines told so far. */
class ApiCalls {
  invocations = 0;
  dynamodbCalls = 0;
  /** Whether any line carried its calls (a runtime that reports none cannot be measured). */
  reported = false;

  read(line: string): void {
    if (!line.includes('"type":"invocation"') || !line.includes('"function":"api"')) return;
    this.invocations++;
    if (!line.includes('"awsCalls"')) return;
    this.reported = true;
    const { awsCalls } = JSON.parse(line) as { awsCalls: Record<string, number> };
    for (const [call, n] of Object.entries(awsCalls)) if (call.startsWith('dynamodb:')) this.dynamodbCalls += n;
  }
}

async function startFerry(dataDir: string, calls: ApiCalls): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const runtimeFile = join(dataDir, 'runtime.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'dev', '--data-dir', join(dataDir, 'dynamodb'), '--port', String(port), '--runtime-file', runtimeFile], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FERRY_LOG_FORMAT: 'json', FERRY_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('Press Ctrl-C')) resolve();
      calls.read(line);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${String(code)} before its banner`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    await response.arrayBuffer();
    if (response.status === 200) return;
    if (response.status !== 202) throw new Error(`${REPORT_PATH} answered ${response.status} before it was ready`);
    if (Date.now() > deadline) throw new Error(`${REPORT_PATH} was not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function wrk(url: string, connections: number, seconds: number, script: string): Promise<WrkSummary> {
  const threads = Math.min(2, connections);
  const child = spawn(WRK, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const summary = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (code !== 0 || summary === undefined) throw new Error(`wrk exited with ${String(code)}:\n${out}`);
  return JSON.parse(summary) as WrkSummary;
}

/** A bare node:http server answering `body` as JSON to every request, in a process of its own. */
async function startBaseline(body: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const source = `const body = Buffer.from(process.env.BODY);
require('node:http').createServer((req, res) => { res.writeHead(200, ['content-type', 'application/json; charset=utf-8']); res.end(body); })
  .listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BODY: body } });
  await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line');
  return { child, url: `http://127.0.0.1:${port}/` };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** Reports one wrk run's figures under `labels`. */
function report(figures: Figures, run: WrkSummary, labels: Record<string, string | number>): void {
  const all = { ...labels, requests: run.requests };
  figures.report('cached_hit_p50_ms', run.p50_us / 1000, 'ms', all);
  figures.report('cached_hit_p90_ms', run.p90_us / 1000, 'ms', all);
  figures.report('cached_hit_p99_ms', run.p99_us / 1000, 'ms', all);
  figures.report('cached_hit_max_ms', run.max_us / 1000, 'ms', all);
  figures.report('requests_per_s', run.requests / (run.duration_us / 1e6), 'requests/s', all);
  figures.report('failed_requests', run.connect_errors + run.read_errors + run.write_errors + run.timeouts + run.non_2xx, 'requests', all);
}

/** Ferry's runs, at each concurrency; returns the report's answer (its JSON body). */
async function measureFerry(figures: Figures, script: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-http-'));
  const calls = new ApiCalls();
  const ferry = await startFerry(dataDir, calls);
  try {
    const target = `${ferry.url}${REPORT_PATH}`;
    await untilReady(target);
    for (const concurrency of CONCURRENCY) {
      await wrk(target, concurrency, WARMUP_SECONDS, script);
      const before = { invocations: calls.invocations, dynamodbCalls: calls.dynamodbCalls };
      const run = await wrk(target, concurrency, SECONDS, script);
      // The lines of the run's last answers are on their way through the pipe.
      await new Promise((r) => setTimeout(r, 500));
      report(figures, run, { system: SYSTEM, concurrency });
      const invocations = calls.invocations - before.invocations;
      if (calls.reported) {
        figures.report('ddb_reads_per_hit', (calls.dynamodbCalls - before.dynamodbCalls) / invocations, 'calls', { system: SYSTEM, concurrency, invocations });
      } else {
        console.log(`(ddb_reads_per_hit not measured: this runtime's invocation lines do not carry their AWS calls)`);
      }
    }
    return await (await fetch(target, { headers: { accept: 'application/json' } })).text();
  } finally {
    await stop(ferry.child, 'SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync(WRK, ['--version']).error !== undefined) throw new Error(`${WRK} not found: install wrk (Debian: apt-get install wrk) or set BENCH_WRK`);
  const figures = new Figures('http');
  const scriptDir = mkdtempSync(join(tmpdir(), 'ferry-bench-wrk-'));
  const script = join(scriptDir, 'summary.lua');
  writeFileSync(script, WRK_SCRIPT);
  try {
    const body = await measureFerry(figures, script);
    // The floor: the same bytes from a bare server, with Ferry stopped.
    const baseline = await startBaseline(body);
    try {
      for (const concurrency of CONCURRENCY) {
        await wrk(baseline.url, concurrency, WARMUP_SECONDS, script);
        report(figures, await wrk(baseline.url, concurrency, SECONDS, script), { system: BASELINE, concurrency });
      }
    } finally {
      await stop(baseline.child, 'SIGTERM');
    }
  } finally {
    rmSync(scriptDir, { recursive: true, force: true });
  }
  for (const quoted of QUOTED) {
    const labels = { system: quoted.system, setup: quoted.setup, concurrency: quoted.concurrency };
    figures.report('cached_hit_p50_ms', quoted.p50, 'ms', labels);
    if ('p99' in quoted) figures.report('cached_hit_p99_ms', quoted.p99, 'ms', labels);
  }
  figures.table();
}

await main();
