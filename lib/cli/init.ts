/**
 * `ferry init [folder]`: the seed of a new app, the smallest one that shows
 * the whole path: one queue, one task, one route that enqueues it and one
 * that reads the job, a test, and a config `ferry dev`, `ferry synth` and
 * `ferry deploy` read. Refuses to overwrite a file that exists.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ferryPackageJson } from '../util/module-file.js';
import { ConfigError } from './load-config.js';

export const INIT_USAGE = `Usage: ferry init [folder] [--name <app-name>]

Writes a minimal Ferry app into <folder> (default: the working directory):
ferry.config.ts, src/app.ts (the declaration), src/tasks.ts, functions/api.ts,
functions/worker.ts, test/app.test.ts and tsconfig.json, and adds to
package.json (written when there is none) "type": "module", the scripts
start, test, synth and deploy, and the dev dependencies the app runs with.
No file that exists is overwritten.`;

/** A folder name as an app name: lower-case letters, digits and dashes, starting with a letter. */
export function appNameOf(folder: string): string {
  const name = basename(folder).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 31);
  return name === '' ? 'my-app' : name;
}

export function templateFiles(name: string): Record<string, string> {
  return {
    'ferry.config.ts': `/** The app \`ferry dev\` runs and \`ferry synth\` / \`ferry deploy\` deploy. */
import { defineConfig } from 'ferry';
import { app } from './src/app.js';

export default defineConfig({ app });
`,
    'src/app.ts': `/**
 * The app's resources, declared once: the CDK stack and the local runtime are
 * both built from this value. A function learns a resource's name only from
 * its \`uses\` (tableName('state'), queueUrl('io')), and may call only what they grant.
 */
import { defineApp, seconds } from 'ferry';

export const app = defineApp({
  name: '${name}',
  tables: {
    /** Ferry's own: job records, locks, dedup markers, idempotency records, cached results. */
    state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' },
  },
  queues: {
    /** The worker pool's queue; its dead-letter queue comes with it. */
    io: { maxReceiveCount: 5 },
  },
  functions: {
    api: {
      entry: 'functions/api.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send' } },
      events: [
        { type: 'http', method: 'POST', path: '/greetings' },
        { type: 'http', method: 'GET', path: '/greetings/{id}' },
      ],
    },
    worker: {
      entry: 'functions/worker.ts',
      timeout: seconds(30),
      // A job can send itself again (a retry whose delay is past SQS's 15 minutes).
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'sqs', queue: 'io', batchSize: 10, maxConcurrency: 5 }],
    },
  },
});
`,
    'src/tasks.ts': `/** The app's tasks, checked against its declared queues. */
import { createTaskRegistry, defineTask, z } from 'ferry';
import { app } from './app.js';

/** Runs on the \`io\` pool; retried with backoff when it throws (NonRetryableError fails it at once). */
export const greet = defineTask({
  name: 'greet',
  queue: 'io',
  input: z.object({ name: z.string().min(1).max(100) }),
  run: async ({ name }) => ({ greeting: \`Hello, \${name}!\` }),
});

export const registry = createTaskRegistry([greet], app);
`,
    'functions/api.ts': `/** Lambda entry of the REST API: one route enqueues a job, one reads it. */
import { apiPath, createRestApi, HttpError, InvalidTaskInputError, jobs, json, jsonBody } from 'ferry';
import { greet } from '../src/tasks.js';

export const handler = createRestApi({
  'POST /greetings': async (event) => {
    const body = jsonBody(event);
    try {
      const { jobId } = await jobs.enqueue(greet, { name: body.name });
      return json(202, { jobId }, { location: apiPath(event, \`/greetings/\${jobId}\`) });
    } catch (error) {
      if (error instanceof InvalidTaskInputError) throw new HttpError(400, error.message);
      throw error;
    }
  },
  'GET /greetings/{id}': async (event) => {
    const job = await jobs.getJob(event.pathParameters?.id ?? '');
    if (job.status === 'NOT_FOUND') throw new HttpError(404, 'no such job');
    return json(200, job);
  },
});
`,
    'functions/worker.ts': `/** Lambda entry of the worker pool: runs the jobs SQS delivers. */
import { createWorker } from 'ferry';
import { registry } from '../src/tasks.js';

export const handler = createWorker({ registry });
`,
    'test/app.test.ts': `/** The app on the local runtime (DynamoDB Local, fauxqs, the deployed bundles): node --import tsx --test */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from 'ferry/testing';
import config from '../ferry.config.js';

let app: TestApp;
before(async () => {
  app = await startTestApp(config);
});
after(() => app?.stop());

test('a greeting is enqueued by the API and run by the worker', async () => {
  const answer = await fetch(\`\${app.url}/greetings\`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
  assert.equal(answer.status, 202);
  const { jobId } = (await answer.json()) as { jobId: string };
  const job = await app.waitForJob(jobId);
  assert.equal(job.status, 'SUCCEEDED');
  assert.deepEqual(job.result, { greeting: 'Hello, Ada!' });
});

test('a bad request is refused with a 400 and enqueues nothing', async () => {
  const sent = async () => (await app.stats()).queues.io?.sent ?? 0;
  const before = await sent();
  const answer = await fetch(\`\${app.url}/greetings\`, { method: 'POST', body: JSON.stringify({ name: '' }) });
  assert.equal(answer.status, 400);
  assert.equal(await sent(), before);
});
`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['src', 'functions', 'test', 'ferry.config.ts'],
      },
      null,
      2,
    )}\n`,
    '.gitignore': 'node_modules/\n.ferry/\ncdk.out/\n',
  };
}

const SCRIPTS = {
  start: 'ferry dev',
  test: 'node --import tsx --test test/*.test.ts',
  synth: 'ferry synth',
  deploy: 'ferry deploy',
};

interface OwnPackage {
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

interface ProjectPackage {
  name?: string;
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * What the seed app runs with besides Ferry, at the versions Ferry is built
 * with: tsx (its test script), esbuild (bundling, which runs the project's own
 * `esbuild`), TypeScript and Node's types (its tsconfig.json). A package
 * manager that does not hoist Ferry's dependencies (pnpm) needs them declared.
 */
export function seedDevDependencies(own: OwnPackage): Record<string, string> {
  const pick = (dep: string): [string, string] => [dep, own.dependencies[dep] ?? own.devDependencies?.[dep] ?? '*'];
  return Object.fromEntries(['@types/node', 'esbuild', 'tsx', 'typescript'].map(pick));
}

export async function init(args: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void console.log(INIT_USAGE);
  const folder = resolve(positionals[0] ?? '.');
  const name = values.name ?? appNameOf(folder);
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) throw new ConfigError(`--name "${name}" must be lower-case letters, digits and dashes, starting with a letter (at most 31)`);
  const files = templateFiles(name);
  const existing = Object.keys(files).filter((f) => f !== '.gitignore' && existsSync(join(folder, f)));
  if (existing.length > 0) throw new ConfigError(`ferry init writes no file that exists; in ${folder} these do: ${existing.join(', ')}`);
  for (const [file, text] of Object.entries(files)) {
    const path = join(folder, file);
    if (existsSync(path)) continue;
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  const pkgFile = join(folder, 'package.json');
  const devDependencies = seedDevDependencies(JSON.parse(readFileSync(ferryPackageJson(import.meta.url), 'utf8')) as OwnPackage);
  // Ferry itself is not added: it is installed already (npx ferry init ran it), from a registry or a tarball only the project knows.
  const pkg = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as ProjectPackage) : { name, private: true };
  if (pkg.type !== undefined && pkg.type !== 'module') console.log(`Ferry: package.json said "type": "${pkg.type}"; the app is ESM, so it is "module" now.`);
  pkg.type = 'module';
  // Scripts the project has are kept, except npm init's placeholder test ("Error: no test specified").
  const kept = Object.fromEntries(Object.entries(pkg.scripts ?? {}).filter(([, script]) => !/no test specified/.test(script)));
  pkg.scripts = { ...SCRIPTS, ...kept };
  const missing = Object.entries(devDependencies).filter(([dep]) => pkg.dependencies?.[dep] === undefined && pkg.devDependencies?.[dep] === undefined);
  pkg.devDependencies = { ...pkg.devDependencies, ...Object.fromEntries(missing) };
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  const where = relative(process.cwd(), folder) || '.';
  console.log(`Ferry: wrote the app "${name}" in ${where}:
  ${Object.keys(files).join('\n  ')}

Next:${where === '.' ? '' : `\n  cd ${where}`}
  npm install        ${missing.length > 0 ? `the dev dependencies added to package.json: ${missing.map(([dep]) => dep).join(', ')}` : '(nothing new to install)'}
  npx ferry dev      the app on this machine: curl -X POST localhost:3000/greetings -d '{"name":"Ada"}'
  npm test           its test, on the local runtime
  npx ferry synth    its CloudFormation stack, in cdk.out
  npx ferry deploy   to AWS (needs aws-cdk and credentials)`);
}
