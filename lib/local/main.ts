/**
 * `npm start`: Ferry running on this machine. Starts the emulators, creates the
 * declared resources, serves the API, runs the workers, and stops everything
 * (no emulator process left behind) on Ctrl-C or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, startLocalRuntime, type LocalRuntime } from './runtime.js';
import { PageViewStore } from '../reports/page-views.js';
import { seedPageViews } from '../reports/seed-page-views.js';

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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  const dataDir = values['in-memory'] ? undefined : (values['data-dir'] ?? env.FERRY_DATA_DIR ?? join(PROJECT_ROOT, '.ferry', 'dynamodb'));
  const dynamodbPort = portOption(values['dynamodb-port'] ?? env.FERRY_DYNAMODB_PORT, '--dynamodb-port');
  const sqsPort = portOption(values['sqs-port'] ?? env.FERRY_SQS_PORT, '--sqs-port');
  const started = Date.now();
  console.log(`Ferry: starting DynamoDB Local and fauxqs${dataDir ? ` (data in ${dataDir}${values.clean ? ', cleaned' : ''})` : ' (in memory)'}...`);

  const runtime: LocalRuntime = await startLocalRuntime({
    httpPort: portOption(values.port ?? env.FERRY_PORT, '--port') ?? 3000,
    httpHost: values.host ?? env.FERRY_HOST ?? '127.0.0.1',
    clean: values.clean,
    ...(dataDir !== undefined && { dataDir }),
    ...(dynamodbPort !== undefined && { dynamodbPort }),
    ...(sqsPort !== undefined && { sqsPort }),
  });

  await seedDemoData();

  // Tools run beside the runtime (npm run seed) find its endpoints and resource names here.
  const runtimeFile = join(PROJECT_ROOT, '.ferry', 'runtime.json');
  mkdirSync(join(PROJECT_ROOT, '.ferry'), { recursive: true });
  writeFileSync(runtimeFile, `${JSON.stringify({ url: runtime.url, environment: runtime.environment }, null, 2)}\n`);

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
  console.log(`Ferry is running (${((Date.now() - started) / 1000).toFixed(1)} s):

  API          ${url}
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

/** The demo data set, written on the first start (when the page-view table is empty). */
const DEMO_ROWS = 20_000;
const DEMO_DAYS = 60;

async function seedDemoData(): Promise<void> {
  if (!(await new PageViewStore().isEmpty())) return;
  console.log(`Ferry: the page-view table is empty; writing a demo data set of ${DEMO_ROWS.toLocaleString('en-US')} page views over ${DEMO_DAYS} days...`);
  const { rows, elapsedMs } = await seedPageViews({ rows: DEMO_ROWS, days: DEMO_DAYS });
  console.log(`Ferry: wrote ${rows.toLocaleString('en-US')} page views in ${(elapsedMs / 1000).toFixed(1)} s (more: npm run seed -- --rows 100000 --days 60).`);
}

main().catch((error: unknown) => {
  console.error(`Ferry failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
