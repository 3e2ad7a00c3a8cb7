/**
 * How a report refresh runs, chosen from the report's own estimate of its
 * work (`ReportDefinition.estimate`):
 *
 * - **one job** (`one-job`), the default: the refresh's job queries the day
 *   partitions itself, a bounded number at once, and stores the result. Over
 *   100,000 page views a 30-day window (31 partitions, about 50,000 rows read)
 *   takes well under a second this way; a chord adds an SQS hop and about five
 *   DynamoDB writes per partition before the first one is read.
 * - **fan out** (`fan-out`): a chord of one job per partition and a callback
 *   that combines them. It pays for itself when the work is large: the
 *   partitions are read by many invocations at once (each with its own
 *   timeout, memory and retries), and the page can show how many are read.
 *
 * A refresh fans out when its window reads more than `oneJobMaxPartitions`
 * partitions or its estimate reads more than `oneJobMaxRows` rows. At the
 * defaults one job reads at most 250,000 rows (about five times the 30-day
 * report over 100,000 rows: a few seconds on DynamoDB Local, far inside the
 * job's 25-second timeout) and at most 100 partitions (about three months, 13
 * rounds of 8 queries); a year's window always fans out. An estimate that
 * cannot be made fans out: the path that scales to any size.
 *
 * The io worker reads the limits from its environment at each refresh, so a
 * deployment can move them without new code (`0` for a limit: every refresh
 * fans out).
 */
import { NonRetryableError } from 'ferry';
import { COMPUTE_DEFAULTS, type WorkEstimate } from './report.js';

export type RefreshPath = 'one-job' | 'fan-out';

export interface RefreshPlanOptions {
  /**
   * A window reading more day partitions than this fans out, 0-100,000 (0:
   * every refresh fans out). Environment: `FERRY_REPORT_ONE_JOB_MAX_PARTITIONS`.
   * @default 100
   */
  readonly oneJobMaxPartitions?: number;
  /**
   * An estimate of more rows read than this fans out, 0-1,000,000,000 (0:
   * every refresh fans out). Environment: `FERRY_REPORT_ONE_JOB_MAX_ROWS`.
   * @default 250000
   */
  readonly oneJobMaxRows?: number;
  /** Day partitions the one job queries at once, 1-64. @default 8 */
  readonly queryConcurrency?: number;
}

export const REFRESH_PLAN_DEFAULTS = {
  oneJobMaxPartitions: 100,
  oneJobMaxRows: 250_000,
  queryConcurrency: COMPUTE_DEFAULTS.concurrency,
} as const;

/** The environment variables the io worker reads the limits from. */
export const REFRESH_PLAN_ENV = {
  oneJobMaxPartitions: 'FERRY_REPORT_ONE_JOB_MAX_PARTITIONS',
  oneJobMaxRows: 'FERRY_REPORT_ONE_JOB_MAX_ROWS',
} as const;

const BOUNDS = {
  oneJobMaxPartitions: { min: 0, max: 100_000 },
  oneJobMaxRows: { min: 0, max: 1_000_000_000 },
  queryConcurrency: { min: 1, max: 64 },
} as const;

/** A limit set to a value outside its range: no refresh can be planned until it is fixed. */
export class RefreshPlanConfigError extends NonRetryableError {
  override readonly name = 'RefreshPlanConfigError';
  constructor(
    readonly option: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`${option} must be ${allowed} (got "${value}")`);
  }
}

export interface RefreshPlan {
  readonly path: RefreshPath;
  /** What the choice was made from; undefined when the estimate could not be made. */
  readonly estimate?: WorkEstimate;
  /** The choice in words, for the log. */
  readonly reason: string;
  /** Partitions the one job queries at once. */
  readonly queryConcurrency: number;
}

const n = (value: number) => value.toLocaleString('en-US');
const allowed = (bounds: { readonly min: number; readonly max: number }) => `a whole number from ${n(bounds.min)} to ${n(bounds.max)}`;

function checked(option: string, value: number, bounds: { readonly min: number; readonly max: number }): number {
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) throw new RefreshPlanConfigError(option, String(value), allowed(bounds));
  return value;
}

/** The options with every default applied and every value checked. */
export function resolveRefreshPlanOptions(options: RefreshPlanOptions = {}): Required<RefreshPlanOptions> {
  return {
    oneJobMaxPartitions: checked('oneJobMaxPartitions', options.oneJobMaxPartitions ?? REFRESH_PLAN_DEFAULTS.oneJobMaxPartitions, BOUNDS.oneJobMaxPartitions),
    oneJobMaxRows: checked('oneJobMaxRows', options.oneJobMaxRows ?? REFRESH_PLAN_DEFAULTS.oneJobMaxRows, BOUNDS.oneJobMaxRows),
    queryConcurrency: checked('queryConcurrency', options.queryConcurrency ?? REFRESH_PLAN_DEFAULTS.queryConcurrency, BOUNDS.queryConcurrency),
  };
}

/** The limits the environment sets (unset or empty variables leave the defaults); throws {@link RefreshPlanConfigError} for a bad value. */
export function refreshPlanOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): RefreshPlanOptions {
  const read = (key: keyof typeof REFRESH_PLAN_ENV): number | undefined => {
    const name = REFRESH_PLAN_ENV[key];
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const bounds = BOUNDS[key];
    if (!/^\d+$/.test(raw)) throw new RefreshPlanConfigError(name, raw, allowed(bounds));
    return checked(name, Number(raw), bounds);
  };
  const oneJobMaxPartitions = read('oneJobMaxPartitions');
  const oneJobMaxRows = read('oneJobMaxRows');
  return { ...(oneJobMaxPartitions !== undefined && { oneJobMaxPartitions }), ...(oneJobMaxRows !== undefined && { oneJobMaxRows }) };
}

/** Chooses the path of a refresh whose work is `estimate` (undefined: it could not be estimated). */
export function planRefresh(estimate: WorkEstimate | undefined, options: RefreshPlanOptions = {}): RefreshPlan {
  const limits = resolveRefreshPlanOptions(options);
  const { queryConcurrency } = limits;
  if (estimate === undefined) return { path: 'fan-out', reason: 'the work could not be estimated', queryConcurrency };
  const work = `${n(estimate.partitions)} partitions, at most ${n(estimate.rows)} rows`;
  const over = [
    ...(estimate.partitions > limits.oneJobMaxPartitions ? [`more than ${n(limits.oneJobMaxPartitions)} partitions`] : []),
    ...(estimate.rows > limits.oneJobMaxRows ? [`more than ${n(limits.oneJobMaxRows)} rows`] : []),
  ];
  return over.length > 0
    ? { path: 'fan-out', estimate, reason: `${work}: ${over.join(' and ')}`, queryConcurrency }
    : { path: 'one-job', estimate, reason: `${work}: within one job's limits`, queryConcurrency };
}
