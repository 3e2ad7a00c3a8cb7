/**
 * `ferry dev` (this repository's `npm start`): the project's app running on this
 * machine. Starts the emulators, creates the declared resources, runs the
 * config's `dev.prepare`, serves the API, runs the workers, and stops
 * everything (no emulator process left behind) on Ctrl-C or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.js';
import { checkPrerequisites } from '../local/preflight.js';
import type { LoadedConfig } from './load-config.js';

export const DEV_USAGE = `Usage: ferry dev [options]

Runs the app of ferry.config.ts locally: DynamoDB Local + fauxqs (SQS), the
REST API and the workers, each function from the bundle cdk synth writes.

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
                       tools that run beside it              (env FERRY_RUNTIME_FILE, default .ferry/runtime.json)
  --config <file>      the project's config                   (default ./ferry.config.ts)
  -h, --help           show this help`;

function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number 0-65535 (got "${value}")`);
  }
  return port;
}

/** Runs `ferry dev` with `args` (after the command name) until a signal stops it. */
export async function dev(args: readonly string[], load: (explicit?: string) => Promise<LoadedConfig>): Promise<void> {
  // Lambda runs nodejs22.x; the local runtime runs on the machine's Node (20
  // here), and the lock file pins SDK versions that support it. The SDK's
  // warning about its future Node 22 requirement is noise in this tool.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    args: [...args],
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
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(DEV_USAGE);
    return;
  }
  const env = process.env;
  // Java 17 and Node's range are checked before anything starts: a missing one is one line, not a stack trace.
  checkPrerequisites();
  const { config, projectRoot, file } = await load(values.config);
  const { app } = config;
  // The project's app keeps `.ferry/`; an app whose config lives in a subfolder (a second app of the package) gets
  // `.ferry/<app>/`, so the two can run side by side without sharing a DynamoDB Local data folder.
  const stateDir = dirname(file) === projectRoot ? join(projectRoot, '.ferry') : join(projectRoot, '.ferry', app.name);
  const dataDir = values['in-memory'] ? undefined : (values['data-dir'] ?? env.FERRY_DATA_DIR ?? join(stateDir, 'dynamodb'));
  const dynamodbPort = portOption(values['dynamodb-port'] ?? env.FERRY_DYNAMODB_PORT, '--dynamodb-port');
  const sqsPort = portOption(values['sqs-port'] ?? env.FERRY_SQS_PORT, '--sqs-port');
  const started = Date.now();
  let prepared: Readonly<Record<string, unknown>> | undefined;
  console.log(`Ferry: starting ${app.name}: DynamoDB Local and fauxqs${dataDir ? ` (data in ${dataDir}${values.clean ? ', cleaned' : ''})` : ' (in memory)'}...`);

  const prepare = config.dev?.prepare;
  const runtime: LocalRuntime = await startLocalRuntime({
    app,
    projectRoot,
    httpPort: portOption(values.port ?? env.FERRY_PORT, '--port') ?? 3000,
    httpHost: values.host ?? env.FERRY_HOST ?? '127.0.0.1',
    clean: values.clean,
    ...(dataDir !== undefined && { dataDir }),
    ...(dynamodbPort !== undefined && { dynamodbPort }),
    ...(sqsPort !== undefined && { sqsPort }),
    // What deploys: the bundles `cdk synth` writes, each function in sandboxes of its own.
    code: values.sources ? 'sources' : 'bundles',
    ...(prepare && {
      prepare: async (context) => {
        prepared = (await prepare(context)) ?? undefined;
      },
    }),
  });

  // Tools that run beside the runtime (the report service's npm run seed) find its endpoints and resource names here.
  const runtimeFile = values['runtime-file'] ?? (env.FERRY_RUNTIME_FILE || join(stateDir, 'runtime.json'));
  mkdirSync(dirname(runtimeFile), { recursive: true });
  writeFileSync(runtimeFile, `${JSON.stringify({ ...prepared, app: app.name, url: runtime.url, environment: runtime.environment }, null, 2)}\n`);

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
  const hints = config.dev?.hints?.(url) ?? [];
  const routes = app.routes.map((r) => `${r.method} ${r.path}`);
  console.log(`Ferry is running ${app.name} (${((Date.now() - started) / 1000).toFixed(1)} s):

  API          ${url}   (and ${url}/${app.api.stageName}, the deployed stage's paths)
  routes       ${routes.length > 0 ? routes.join(', ') : 'none declared'}
${hints.map((line) => `  ${line}\n`).join('')}  stats        curl ${url}/_ferry/stats

  DynamoDB     ${runtime.endpoints.dynamodbEndpoint}
  SQS          ${runtime.endpoints.sqsEndpoint}
  tables       ${Object.values(runtime.resources.tables).map((t) => t.name).join(', ') || 'none'}
  queues       ${Object.values(runtime.resources.queues).map((q) => `${q.name} (DLQ ${q.deadLetter.name})`).join(', ') || 'none'}

Press Ctrl-C to stop. One line per invocation follows.`);
}
