/**
 * `npm run bench:package`: what adopting Ferry costs a new project, measured
 * on the tarball `npm pack` builds, installed in a project outside the
 * repository (offline; see test/helpers/installed-package.ts):
 *
 * - the package: tarball and unpacked size, file count;
 * - `ferry init` to a running app: the first `ferry dev` (synthesis and
 *   bundling included), a second one (bundles from the cache), the first job
 *   through the API on cold sandboxes, then 50 more jobs one after another
 *   (POST to SUCCEEDED, p50/p99), and `ferry synth`;
 * - what Ferry adds to a function's bundle: the seed app's api and worker
 *   bundles against a baseline handler in the same run that makes the same
 *   AWS calls (DynamoDB PutItem, SQS SendMessage) with the bare SDK, bundled
 *   with the same esbuild settings as `FerryFunction`.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installFerry, OFFLINE_ENV, packFerry, runIn, startFerryDev } from '../test/helpers/installed-package.js';
import { PROJECT_ROOT } from '../test/helpers/repo-root.js';
import { Figures, percentile } from './figures.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 50);
const figures = new Figures('package');

function folderBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stat = statSync(join(dir, entry));
    if (stat.isFile()) {
      bytes += stat.size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** POST /greetings, then polls the job until it succeeded; milliseconds from the POST. */
async function oneJob(url: string, name: string): Promise<number> {
  const started = performance.now();
  const answer = await fetch(`${url}/greetings`, { method: 'POST', body: JSON.stringify({ name }) });
  if (answer.status !== 202) throw new Error(`POST /greetings answered ${answer.status}`);
  const { jobId } = (await answer.json()) as { jobId: string };
  for (;;) {
    const job = (await (await fetch(`${url}/greetings/${jobId}`)).json()) as { status: string };
    if (job.status === 'SUCCEEDED') return performance.now() - started;
    if (job.status === 'FAILED') throw new Error(`job ${jobId} failed`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The baseline handler: the same two AWS calls as the seed app's enqueue, with the bare SDK. */
async function baselineBundleBytes(work: string): Promise<number> {
  const dir = join(work, 'baseline');
  mkdirSync(dir);
  const entry = join(dir, 'handler.ts');
  writeFileSync(
    entry,
    `import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
export const handler = async (event: { body: string }) => {
  const id = crypto.randomUUID();
  await dynamodb.send(new PutItemCommand({ TableName: process.env.TABLE, Item: { pk: { S: id }, sk: { S: 'job' } } }));
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: event.body }));
  return { statusCode: 202, body: JSON.stringify({ id }) };
};
`,
  );
  const { build } = await import('esbuild');
  // FerryFunction's settings (cdk/constructs/ferry-function.ts): ESM, node22, minified, the SDK inside.
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    nodePaths: [join(PROJECT_ROOT, 'node_modules')],
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-package-'));
  const project = join(work, 'greeter');
  try {
    let started = performance.now();
    const tarball = packFerry(work);
    figures.report('pack_ms', performance.now() - started, 'ms', { what: 'npm pack (tsc build included)' });
    figures.report('tarball_bytes', statSync(tarball).size, 'bytes');
    installFerry(project, tarball);
    const unpacked = folderBytes(join(project, 'node_modules', 'ferry'));
    figures.report('unpacked_bytes', unpacked.bytes, 'bytes');
    figures.report('package_files', unpacked.files, 'files');

    started = performance.now();
    if (runIn(project, join(project, 'node_modules', '.bin', 'ferry'), ['init']).status !== 0) throw new Error('ferry init failed');
    figures.report('init_ms', performance.now() - started, 'ms');

    // Bundles of this project are not in the cache yet: its first start synthesizes and bundles.
    const first = await startFerryDev(project, { ...OFFLINE_ENV, FERRY_LOG_LEVEL: 'warn' });
    figures.report('dev_ready_ms', first.readyMs, 'ms', { start: 'first (synth and bundling)' });
    try {
      figures.report('first_job_ms', await oneJob(first.url, 'first'), 'ms', { sandboxes: 'cold' });
    } finally {
      await first.stop();
    }
    const second = await startFerryDev(project, { ...OFFLINE_ENV, FERRY_LOG_LEVEL: 'warn' });
    figures.report('dev_ready_ms', second.readyMs, 'ms', { start: 'again (bundles cached)' });
    try {
      await oneJob(second.url, 'warm-up');
      const times: number[] = [];
      for (let i = 0; i < JOBS; i++) times.push(await oneJob(second.url, `user-${i}`));
      times.sort((a, b) => a - b);
      figures.report('job_p50_ms', percentile(times, 50), 'ms', { jobs: JOBS, from: 'POST to SUCCEEDED, one at a time, warm' });
      figures.report('job_p99_ms', percentile(times, 99), 'ms', { jobs: JOBS });
    } finally {
      await second.stop();
    }

    started = performance.now();
    const synth = runIn(project, join(project, 'node_modules', '.bin', 'ferry'), ['synth']);
    if (synth.status !== 0) throw new Error(`ferry synth failed: ${synth.stderr}`);
    figures.report('synth_ms', performance.now() - started, 'ms', { what: 'ferry synth, two functions bundled, cdk-nag' });

    const out = join(project, 'cdk.out');
    const template = JSON.parse(readFileSync(join(out, 'Greeter.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const baseline = await baselineBundleBytes(work);
    figures.report('baseline_bundle_bytes', baseline, 'bytes', { what: 'bare SDK: PutItem + SendMessage' });
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const asset = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || asset === undefined) continue;
      const bytes = statSync(join(out, asset, 'index.mjs')).size;
      figures.report('function_bundle_bytes', bytes, 'bytes', { function: logicalId.startsWith('Api') ? 'api' : 'worker', over_baseline_bytes: bytes - baseline });
    }
    figures.table();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
