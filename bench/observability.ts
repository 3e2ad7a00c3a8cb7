/**
 * `npm run bench:observability`: what Powertools logging, metrics and tracing
 * cost per job, on Ferry's app as deployed (the synthesized bundles in
 * sandboxes, functions logging at info), against a baseline in the same run.
 *
 * - **Log output per job** (CloudWatch Logs ingests and bills bytes): the
 *   worker's Powertools Logger entry for the job's outcome and Powertools
 *   Metrics' EMF document, beside the baseline of the same job's fields and
 *   metrics written as one hand-written line (Ferry's format before
 *   Powertools: the entry with the EMF block merged into it).
 * - **X-Ray per job**: the documents the worker sends to the daemon for one
 *   job (its `## <task>` subsegment and one per AWS call under it), and
 *   their bytes. X-Ray bills traces recorded, not subsegments; a trace
 *   document is capped at 500 KB (a segment document at 64 KB).
 * - **Cold start**: the bundles' sizes, and the import of Powertools' three
 *   utilities (bundled as the functions are, constructed as Ferry does) in a
 *   fresh Node process, beside the import of an empty bundle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { resources } from '../app/resources.js';
import { ESM_REQUIRE_SHIM } from '../cdk/constructs/ferry-function.js';
import { startEmulators } from '../lib/local/emulators.js';
import { startLocalRuntime } from '../lib/local/runtime.js';
import type { XrayDocument } from '../lib/local/local-xray.js';
import { Figures, percentile } from './figures.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const IMPORTS = Number(process.env.BENCH_IMPORTS ?? 15);
const figures = new Figures('observability');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Runs JOBS pings with the functions logging at `level`; the X-Ray and bundle figures once (`full`). */
async function perJob(level: 'info' | 'warn', full: boolean): Promise<void> {
  const emulators = await startEmulators();
  const output: string[] = [];
  const runtime = await startLocalRuntime({
    app: resources,
    emulators,
    code: 'bundles',
    httpPort: 0,
    prefix: `bench-obs-${process.pid}`,
    log: () => undefined,
    functionLogLevel: level,
    functionOutput: (line) => void output.push(line),
  });
  try {
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const response = await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `bench ${i}` }) });
      jobIds.push(((await response.json()) as { jobId: string }).jobId);
    }
    const wanted = new Set(jobIds);
    type Entry = Record<string, unknown> & { message?: string; jobId?: string };
    const entries = () => output.flatMap((line) => (line.startsWith('{"level"') ? [JSON.parse(line) as Entry] : []));
    const emfLines = () => output.filter((line) => line.startsWith('{"_aws"') && line.includes('"Task":"demo.ping"') && line.includes('"JobsSucceeded"'));
    // Every job done: its outcome metric written (and, at info, its entry).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (emfLines().length < JOBS || runtime.xray().filter((d) => wanted.has(String(d.annotations?.ferry_job_id))).length < JOBS)) await sleep(100);
    if (emfLines().length < JOBS) throw new Error(`only ${emfLines().length} of ${JOBS} jobs wrote their outcome metric`);
    await sleep(500); // the last subsegments
    const jobLines = entries().filter((e) => e.message === 'job' && wanted.has(String(e.jobId)));
    if (level === 'info' && jobLines.length !== JOBS) throw new Error(`only ${jobLines.length} of ${JOBS} jobs logged their outcome at info`);
    const emf = emfLines();
    const logBytes = jobLines.map((e) => JSON.stringify(e).length + 1);
    const emfBytes = emf.map((line) => line.length + 1);
    // The baseline: the same job's fields and metrics in one line, as Ferry wrote it by hand before (whatever the level: it carried the metrics).
    const baseline = jobLines.map((e, i) => {
      const metrics = JSON.parse(emf[i] ?? emf[0] ?? '{}') as Record<string, unknown>;
      const { level: _level, message: _message, timestamp, service: _s, sampling_rate: _r, xray_trace_id: _x, cold_start: _c, function_arn: _a, function_memory_size: _m, function_name: _n, function_request_id: _q, ...fields } = e;
      return JSON.stringify({ time: timestamp, level: 'info', msg: 'job', ...fields, ...metrics }).length + 1;
    });
    const labels = { jobs: JOBS, task: 'demo.ping', level };
    figures.report('log_lines_per_job', (jobLines.length + emf.length) / JOBS, 'lines', labels);
    figures.report('log_bytes_per_job', (logBytes.reduce((a, b) => a + b, 0) + emfBytes.reduce((a, b) => a + b, 0)) / JOBS, 'bytes', { ...labels, entry: Math.round(mean(logBytes)), emf: Math.round(mean(emfBytes)) });
    if (!full) return;
    figures.report('baseline_log_lines_per_job', 1, 'lines', { jobs: JOBS, task: 'demo.ping', baseline: 'one hand-written line with the EMF block, at any level' });
    figures.report('baseline_log_bytes_per_job', mean(baseline), 'bytes', { jobs: JOBS, task: 'demo.ping', baseline: 'one hand-written line with the EMF block, at any level' });

    const documents = runtime.xray();
    const jobSegments = documents.filter((d) => wanted.has(String(d.annotations?.ferry_job_id)) && d.metadata?.ferry?.outcome === 'succeeded');
    const under = (segment: XrayDocument) => documents.filter((d) => d.trace_id === segment.trace_id && d.parent_id === segment.id);
    const perJobDocs = jobSegments.map((s) => [s, ...under(s)]);
    figures.report('xray_documents_per_job', mean(perJobDocs.map((docs) => docs.length)), 'documents', { jobs: jobSegments.length, task: 'demo.ping' });
    figures.report('xray_bytes_per_job', mean(perJobDocs.map((docs) => docs.reduce((n, d) => n + JSON.stringify(d).length + 31, 0))), 'bytes', { jobs: jobSegments.length, task: 'demo.ping' });
    const durations = jobSegments.map((s) => ((s.end_time ?? s.start_time) - s.start_time) * 1000).sort((a, b) => a - b);
    figures.report('job_subsegment_p50_ms', percentile(durations, 50), 'ms', { jobs: jobSegments.length, task: 'demo.ping' });

    for (const [id, settings] of Object.entries(runtime.functions)) {
      figures.report('bundle_kb', statSync(settings.codeFile).size / 1024, 'KB', { function: id });
    }
  } finally {
    await runtime.stop();
    await emulators.stop();
  }
}

/** Median milliseconds to import `file` in a fresh Node process. */
function importMs(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < IMPORTS; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`], {
      encoding: 'utf8',
      env: { ...process.env, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', LAMBDA_TASK_ROOT: tmpdir(), POWERTOOLS_SERVICE_NAME: 'bench' },
    });
    if (run.status !== 0) throw new Error(`import of ${file} failed: ${run.stderr}`);
    times.push(Number(run.stdout.trim()));
  }
  return percentile([...times].sort((a, b) => a - b), 50);
}

async function coldStart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-obs-'));
  try {
    const entries = {
      powertools: [
        "import { Logger } from '@aws-lambda-powertools/logger';",
        "import { Metrics } from '@aws-lambda-powertools/metrics';",
        "import { Tracer } from '@aws-lambda-powertools/tracer';",
        "export const logger = new Logger(); export const metrics = new Metrics({ namespace: 'Ferry' }); export const tracer = new Tracer({ captureHTTPsRequests: false });",
      ].join('\n'),
      empty: 'export const nothing = 0;',
    };
    const sizes: Record<string, number> = {};
    const times: Record<string, number> = {};
    for (const [name, source] of Object.entries(entries)) {
      const entry = join(process.cwd(), `.bench-obs-${name}-${process.pid}.ts`);
      writeFileSync(entry, source);
      try {
        const outfile = join(dir, `${name}.mjs`);
        // As FerryFunction bundles: ESM for Node 22, minified, with the require shim.
        await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: true, mainFields: ['module', 'main'], banner: { js: ESM_REQUIRE_SHIM }, outfile, logLevel: 'error' });
        sizes[name] = statSync(outfile).size / 1024;
        times[name] = importMs(outfile);
      } finally {
        rmSync(entry, { force: true });
      }
    }
    figures.report('powertools_bundle_kb', sizes.powertools ?? Number.NaN, 'KB', { utilities: 'Logger, Metrics, Tracer' });
    figures.report('powertools_import_ms', times.powertools ?? Number.NaN, 'ms', { utilities: 'Logger, Metrics, Tracer', runs: IMPORTS });
    figures.report('baseline_empty_import_ms', times.empty ?? Number.NaN, 'ms', { runs: IMPORTS });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  await perJob('info', true);
  await perJob('warn', false);
  await coldStart();
  figures.table();
}

await main();
