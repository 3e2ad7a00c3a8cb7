/**
 * `npm start`: Ferry running on this machine. Starts the emulators, creates the
 * declared resources, serves the API, runs the workers, and stops everything
 * (no emulator process left behind) on Ctrl-C or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT, startLocalRuntime, type LocalRuntime } from './runtime.js';
import { resources } from '../resources.js';
import { checkPrerequisites, PrerequisiteError } from './preflight.js';
import { DEMO_DATA, seedDemoDataIfEmpty, type DemoDataSet } from '../reports/demo-data.js';
import { progressBar } from '../util/progress-bar.js';

const USAGE = `Usage: npm start -- [options]

Runs Ferry locally: DynamoDB Local + fauxqs (SQS), the REST API and the workers.

Options:
  --port <n>           HTTP port of the local API            (env FERRY_PORT, default 3000)
  --host <addr>        address the API listens on            (env FERRY_HOST, default 127.0.0.1)
  --data-dir <path>    DynamoDB Local data folder            (env FERRY_DATA_DIR, default .ferry/dynamodb)
  --in-memory          keep no data between runs
  --clean              delete the data folder before starting
  --dynamodb-port <n>  DynamoDB Local port                    (env FERRY_DYNAMODB_PORT, default: a free port)
  --sqs-port <n>       fauxqs (SQS) port                      (env FERRY_SQS_PORT, default: a free port)
  --sources            run the TypeScript sources in this process (no bundling, no sandboxes;
                       functions share one environment) instead of the bundles cdk synth
                       writes, each function in sandboxes of its own
  --runtime-file <p>   where the endpoints and resource names are published for
                       tools such as npm run seed             (env FERRY_RUNTIME_FILE, default .ferry/runtime.json)
  -h, --help           show this help`;

function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number 0-65535 (got "${value}")`);
  }
  return port;
}

async function main(): Promise<void> {
  // Lambda runs nodejs22.x; the local runtime runs on the machine's Node (20
  // here), and the lock file pins SDK versions that support it. The SDK's
  // warning about its future Node 22 requirement is noise in this tool.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
      'dynamodb-port': { type: 'string' },
      'sqs-port': { type: 'string' },
      'runtime-file': { type: 'string' },
      sources: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  // Java 17 and Node's range are checked before anything starts: a missing one is one line, not a stack trace.
  checkPrerequisites();
  const dataDir = values['in-memory'] ? undefined : (values['data-dir'] ?? env.FERRY_DATA_DIR ?? join(PROJECT_ROOT, '.ferry', 'dynamodb'));
  const dynamodbPort = portOption(values['dynamodb-port'] ?? env.FERRY_DYNAMODB_PORT, '--dynamodb-port');
  const sqsPort = portOption(values['sqs-port'] ?? env.FERRY_SQS_PORT, '--sqs-port');
  const started = Date.now();
  let demo: DemoDataSet | undefined;
  console.log(`Ferry: starting DynamoDB Local and fauxqs${dataDir ? ` (data in ${dataDir}${values.clean ? ', cleaned' : ''})` : ' (in memory)'}...`);

  const runtime: LocalRuntime = await startLocalRuntime({
    httpPort: portOption(values.port ?? env.FERRY_PORT, '--port') ?? 3000,
    httpHost: values.host ?? env.FERRY_HOST ?? '127.0.0.1',
    clean: values.clean,
    ...(dataDir !== undefined && { dataDir }),
    ...(dynamodbPort !== undefined && { dynamodbPort }),
    ...(sqsPort !== undefined && { sqsPort }),
    // What deploys: the bundles `cdk synth` writes, each function in sandboxes of its own.
    code: values.sources ? 'sources' : 'bundles',
    // The API does not listen until the demo data set is whole: no report is ever computed over half of it.
    prepare: async () => {
      demo = await seedDemoData();
    },
  });

  // Tools run beside the runtime (npm run seed) find its endpoints and resource names here.
  const runtimeFile = values['runtime-file'] ?? (env.FERRY_RUNTIME_FILE || join(PROJECT_ROOT, '.ferry', 'runtime.json'));
  mkdirSync(dirname(runtimeFile), { recursive: true });
  writeFileSync(runtimeFile, `${JSON.stringify({ url: runtime.url, environment: runtime.environment, ...(demo && { demo }) }, null, 2)}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nFerry: ${signal}, stopping (letting running invocations finish)...`);
    rmSync(runtimeFile, { force: true });
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const url = runtime.url;
  const data = demo
    ? `demo data set written: ${demo.rows.toLocaleString('en-US')} page views over ${demo.days} days, in ${(demo.elapsedMs / 1000).toFixed(1)} s`
    : 'page views already in the table kept (npm start -- --clean starts over)';
  console.log(`Ferry is running (${((Date.now() - started) / 1000).toFixed(1)} s; ${data}):

  API          ${url}   (and ${url}/${resources.api.stageName}, the deployed stage's paths)
  health       curl ${url}/health
  report       ${url}/reports/slow-blog-views   (open in a browser; JSON with curl)
  reports      curl ${url}/reports
  demo job     curl -X POST ${url}/pings -d '{"message":"hello"}'
  its state    curl ${url}/pings/<id from the answer>
  stats        curl ${url}/_ferry/stats

  DynamoDB     ${runtime.endpoints.dynamodbEndpoint}
  SQS          ${runtime.endpoints.sqsEndpoint}
  tables       ${Object.values(runtime.resources.tables).map((t) => t.name).join(', ')}
  queues       ${Object.values(runtime.resources.queues).map((q) => `${q.name} (DLQ ${q.deadLetter.name})`).join(', ')}

Press Ctrl-C to stop. One line per invocation follows.`);
}

/** Writes the demo data set when the page-view table is empty, with a progress bar on a terminal. */
async function seedDemoData(): Promise<DemoDataSet | undefined> {
  const bar = process.stdout.isTTY ? progressBar(DEMO_DATA.rows, performance.now(), 'page views') : undefined;
  let announced = false;
  const demo = await seedDemoDataIfEmpty((written) => {
    if (!announced) {
      announced = true;
      console.log(`Ferry: the page-view table is empty; writing the demo data set (${DEMO_DATA.rows.toLocaleString('en-US')} page views over ${DEMO_DATA.days} days) before the API opens...`);
    }
    bar?.update(written);
  });
  bar?.finish();
  if (demo) console.log(`Ferry: wrote ${demo.rows.toLocaleString('en-US')} page views in ${(demo.elapsedMs / 1000).toFixed(1)} s (more: npm run seed -- --rows 100000 --days 60).`);
  return demo;
}

main().catch((error: unknown) => {
  const prerequisite = error instanceof PrerequisiteError;
  console.error(`Ferry ${prerequisite ? 'cannot' : 'failed to'} start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
