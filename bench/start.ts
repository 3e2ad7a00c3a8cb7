/**
 * `npm run bench:start`: how long a first `npm start` takes, as a new user
 * sees it: `lib/cli/main.ts dev` as its own process, on an empty data folder on
 * disk (DynamoDB Local's disk store, as `npm start` uses by default), until
 * the banner, then until the first report is ready. Baseline in the same run:
 * a restart on the same folder, which has its data already and writes none.
 *
 * - `banner_ms` (`data=empty`): start to banner, the demo set written (run 1
 *   with the caches cleared, as on a fresh machine: the stack is synthesized
 *   and bundled once, beside the demo data);
 * - `banner_ms` (`data=kept`): the same on the second start;
 * - `first_report_ms`: the first `GET /reports/slow-blog-views` after the
 *   banner until its answer is ready (one refresh over the demo set);
 * - `demo_rows_per_s`: how fast the demo set was written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../lib/local/free-port.js';
import { PROJECT_ROOT } from '../test/helpers/repo-root.js';
import { POLICY_CACHE_DIR } from '../lib/local/deployed-policies.js';
import { BUNDLE_CACHE_DIR } from '../lib/local/deployed-bundles.js';
import type { DemoDataSet } from '../app/reports/demo-data.js';
import { Figures } from './figures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const figures = new Figures('start');

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly bannerMs: number;
  readonly demo?: DemoDataSet;
}

async function start(dataDir: string): Promise<Started> {
  const port = await freePort();
  const runtimeFile = join(mkdtempSync(join(tmpdir(), 'ferry-bench-start-')), 'runtime.json');
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'dev', '--data-dir', dataDir, '--port', String(port), '--runtime-file', runtimeFile], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FERRY_LOG_FORMAT: 'json', FERRY_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line.startsWith('Press Ctrl-C') && resolve());
    child.once('exit', (code) => reject(new Error(`npm start exited with ${String(code)} before its banner`)));
  });
  const bannerMs = performance.now() - started;
  const { demo } = JSON.parse(readFileSync(runtimeFile, 'utf8')) as { demo?: DemoDataSet };
  return { child, url: `http://localhost:${port}`, bannerMs, ...(demo && { demo }) };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  await exited;
}

async function firstReportMs(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${url}/reports/slow-blog-views`, { headers: { accept: 'application/json' } });
    if (response.status === 200) return performance.now() - started;
    if (response.status !== 202) throw new Error(`the report answered ${response.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// A fresh machine: no synthesized policies and no bundles cached yet.
rmSync(POLICY_CACHE_DIR, { recursive: true, force: true });
rmSync(BUNDLE_CACHE_DIR, { recursive: true, force: true });
for (let run = 1; run <= RUNS; run++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-data-'));
  const fresh = await start(dataDir);
  if (fresh.demo === undefined) throw new Error('the first start wrote no demo data set');
  figures.report('banner_ms', fresh.bannerMs, 'ms', { data: 'empty', run, rows: fresh.demo.rows, caches: run === 1 ? 'cold' : 'warm' });
  figures.report('demo_rows_per_s', fresh.demo.rows / (fresh.demo.elapsedMs / 1000), 'rows/s', { run });
  figures.report('first_report_ms', await firstReportMs(fresh.url), 'ms', { run, rows: fresh.demo.rows });
  await stop(fresh.child);

  const again = await start(dataDir);
  figures.report('banner_ms', again.bannerMs, 'ms', { data: 'kept', run });
  await stop(again.child);
}
figures.table();
