/**
 * `npm run seed -- --rows 100000 --days 60 [--seed 42]`: fills the
 * `pageViews` table with generated page views.
 *
 * Writes to the table named by FERRY_TABLE_PAGE_VIEWS; when that is unset, to
 * the local runtime that `npm start` is running, whose endpoints and table
 * names it publishes in `.ferry/runtime.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { tableEnvName } from 'ferry';
import { GENERATOR_DEFAULTS, GENERATOR_LIMITS } from './page-view-generator.js';
import { PageViewStore } from './page-views.js';
import { seedPageViews } from './seed-page-views.js';
import { progressBar } from 'ferry/local';

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What `npm start` writes (its `--runtime-file`), read here to find the running runtime. */
const RUNTIME_FILE = process.env.FERRY_RUNTIME_FILE || join(PROJECT_ROOT, '.ferry', 'runtime.json');
const TABLE_VARIABLE = tableEnvName('pageViews');

const USAGE = `Usage: npm run seed -- --rows <n> --days <n> [--seed <n>]

Writes generated page views into the pageViews table: into the local runtime
of a running \`npm start\`, or into the table named by ${TABLE_VARIABLE}.

Options:
  --rows <n>   page views to write, ${GENERATOR_LIMITS.rows.min}-${GENERATOR_LIMITS.rows.max.toLocaleString('en-US')}
  --days <n>   days they are spread over, ending now, ${GENERATOR_LIMITS.days.min}-${GENERATOR_LIMITS.days.max}
  --seed <n>   PRNG seed, 0-4294967295 (default ${GENERATOR_DEFAULTS.seed}): the same seed gives the same URLs and timings
  -h, --help   show this help`;

/** Bad command line: exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Nothing to write to, or it cannot be reached: exit code 1. */
class SetupError extends Error {
  override readonly name = 'SetupError';
}

const runtimeFileSchema = z.object({
  url: z.string().optional(),
  environment: z.record(z.string(), z.string()),
});

function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replaceAll('_', ''));
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number ${min}-${max.toLocaleString('en-US')} (got "${value}")`);
  }
  return n;
}

function required<T>(flag: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${flag} is required\n\n${USAGE}`);
  return value;
}

/**
 * Makes sure the table name and endpoint are in process.env: if the table
 * variable is unset, copies the environment of a running `npm start` (keys
 * already set win). Returns where the settings came from.
 */
function resolveTarget(): 'environment' | 'runtime' {
  if (process.env[TABLE_VARIABLE]) return 'environment';
  if (!existsSync(RUNTIME_FILE)) {
    throw new SetupError(
      `${TABLE_VARIABLE} is not set and no local runtime is running (${relative(process.cwd(), RUNTIME_FILE) || RUNTIME_FILE} not found).\n` +
        'Run `npm start` in another terminal first, then run this again.\n' +
        `For a table in AWS, set ${TABLE_VARIABLE} (its physical name) and AWS_REGION, with credentials as usual (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).`,
    );
  }
  let parsed: z.infer<typeof runtimeFileSchema>;
  try {
    parsed = runtimeFileSchema.parse(JSON.parse(readFileSync(RUNTIME_FILE, 'utf8')));
  } catch (error) {
    throw new SetupError(`${RUNTIME_FILE} is not what \`npm start\` writes (${error instanceof Error ? error.message : String(error)}); restart \`npm start\``, {
      cause: error,
    });
  }
  for (const [key, value] of Object.entries(parsed.environment)) process.env[key] ??= value;
  if (!process.env[TABLE_VARIABLE]) throw new SetupError(`${RUNTIME_FILE} names no ${TABLE_VARIABLE}: restart \`npm start\` (its resources declare the pageViews table)`);
  return 'runtime';
}

function describeFailure(error: unknown, source: 'environment' | 'runtime'): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const name = error instanceof Error ? error.name : '';
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  if (name === 'ResourceNotFoundException') {
    return `table "${process.env[TABLE_VARIABLE]}" does not exist${endpoint ? ` at ${endpoint}` : ''} (${message})`;
  }
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
  const unreachable = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|socket hang up/i.test(`${message} ${code}`);
  if (unreachable && source === 'runtime') {
    return `cannot reach DynamoDB at ${endpoint}: is \`npm start\` still running? (${RUNTIME_FILE} may be left over from a run that was killed) (${message})`;
  }
  return message;
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        rows: { type: 'string' },
        days: { type: 'string' },
        seed: { type: 'string' },
        clear: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
}

async function main(): Promise<number> {
  // The machine's Node (20) is supported by the pinned SDK; its Node 22 notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const values = parseFlags();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.clear) {
    throw new UsageError('--clear is not supported: start the runtime on a fresh table instead (`npm start -- --clean`, or `--in-memory`)');
  }
  const rows = required('rows', wholeNumber('rows', values.rows, GENERATOR_LIMITS.rows.min, GENERATOR_LIMITS.rows.max));
  const days = required('days', wholeNumber('days', values.days, GENERATOR_LIMITS.days.min, GENERATOR_LIMITS.days.max));
  const seed = wholeNumber('seed', values.seed, 0, 4_294_967_295) ?? GENERATOR_DEFAULTS.seed;

  const source = resolveTarget();
  const store = new PageViewStore();
  try {
    if (!(await store.isEmpty())) {
      console.log(`Note: table "${store.table}" already holds page views; these are added to them (\`npm start -- --clean\` starts from an empty table).`);
    }
    const started = performance.now();
    const bar = process.stdout.isTTY ? progressBar(rows, started, 'rows') : undefined;
    const result = await seedPageViews({ rows, days, seed, ...(bar && { onProgress: (written: number) => bar.update(written) }) }).finally(() => bar?.finish());
    const secondsTaken = result.elapsedMs / 1000;
    console.log(
      `Seeded ${result.rows.toLocaleString('en-US')} page views over ${days} days (seed ${seed}) into "${result.table}" ` +
        `in ${secondsTaken.toFixed(1)} s (${Math.round(result.rows / Math.max(secondsTaken, 0.001)).toLocaleString('en-US')} rows/s).`,
    );
    return 0;
  } catch (error) {
    throw new SetupError(`seed failed: ${describeFailure(error, source)}`, { cause: error });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
