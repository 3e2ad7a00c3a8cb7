/**
 * A report: its name, parameters (with defaults and bounds), freshness, and
 * its computation, split in two so it can fan out: `partial` reads one day
 * partition, `combine` folds the partials (in day order) into the result.
 * `estimate` says how much a window reads, so a refresh can choose how to run
 * (report-workflow.ts, refresh-plan.ts): in one job that reads a bounded number
 * of partitions at once (`computeWindow`), or as a chord (one job per day,
 * then the combination).
 */
import { days, type Duration, mapLimit } from 'ferry';
import { daysCovering, PageViewStore } from './page-views.js';
import type { ParamSpecs, ParamValues } from './report-params.js';

const DAY_MS = days(1).milliseconds;

/** The time window a refresh covers: `days` back from when it was claimed, so every partition and retry sees the same one. */
export interface ReportWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

export function windowOf(days: number, asOf: number): ReportWindow {
  return { fromMs: asOf - days * DAY_MS, toMs: asOf };
}

/** The day partitions a window reads. */
export function partitionsOf(window: ReportWindow): string[] {
  return daysCovering(window.fromMs, window.toMs);
}

/** How much a refresh reads: what decides whether it runs in one job or fans out. */
export interface WorkEstimate {
  /** Day partitions the window reads (one query each, at least). */
  readonly partitions: number;
  /** Rows the queries read (DynamoDB reads every row of a key range, before filters), at most. */
  readonly rows: number;
}

/**
 * The work of reading page views over `window`: its day partitions, exactly,
 * and at most every row of the table (its approximate count: a window never
 * reads more than the table holds). On a table much larger than the window
 * the row count overshoots, which errs towards fanning out: the path that
 * scales, at a second or so more for a small window.
 */
export async function pageViewWork(window: ReportWindow): Promise<WorkEstimate> {
  return { partitions: partitionsOf(window).length, rows: await new PageViewStore().approximateCount() };
}

export interface ReportDefinition<Specs extends ParamSpecs = ParamSpecs, Result = unknown> {
  /** URL name: `GET /reports/<name>`. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly params: Specs;
  /** A result is served as fresh this long… */
  readonly freshFor: Duration;
  /** …and then as stale, while one refresh runs, this much longer. */
  readonly staleFor: Duration;
  /** The window a refresh claimed at `asOf` covers. */
  readonly window: (params: ParamValues<Specs>, asOf: number) => ReportWindow;
  /** What one day partition contributes (JSON: it travels between jobs). */
  readonly partial: (params: ParamValues<Specs>, day: string, window: ReportWindow) => Promise<unknown>;
  /** How much a refresh of `window` reads (see {@link pageViewWork}); it may read the table's metadata, never its rows. */
  readonly estimate: (params: ParamValues<Specs>, window: ReportWindow) => Promise<WorkEstimate>;
  /** Folds the partials, in day order, into the result. */
  readonly combine: (partials: readonly unknown[], params: ParamValues<Specs>, window: ReportWindow, days: readonly string[]) => Result;
  /** The result as an HTML fragment (escaped). */
  readonly renderHtml: (result: Result, params: ParamValues<Specs>) => string;
}

export function defineReport<Specs extends ParamSpecs, Result>(definition: ReportDefinition<Specs, Result>): ReportDefinition<Specs, Result> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(definition.name)) {
    throw new RangeError(`report name "${definition.name}" must be lower-case letters, digits and dashes`);
  }
  return Object.freeze(definition);
}

export const COMPUTE_DEFAULTS = { concurrency: 8 } as const;

export interface ComputeWindowOptions {
  /** Day partitions read at once, 1-64. @default 8 */
  readonly concurrency?: number;
  /** Once aborted, no further partition is read and the computation rejects with the signal's reason. @default never aborted */
  readonly signal?: AbortSignal;
}

/** Computes a report over `window` in this process: every partition (`concurrency` at a time), then the combination. */
export async function computeWindow<Specs extends ParamSpecs, Result>(
  report: ReportDefinition<Specs, Result>,
  params: ParamValues<Specs>,
  window: ReportWindow,
  options: ComputeWindowOptions = {},
): Promise<Result> {
  const concurrency = options.concurrency ?? COMPUTE_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new RangeError(`computeWindow: concurrency must be a whole number 1-64 (got ${concurrency})`);
  }
  const days = partitionsOf(window);
  const partials = await mapLimit(days, concurrency, (day) => {
    options.signal?.throwIfAborted();
    return report.partial(params, day, window);
  });
  options.signal?.throwIfAborted();
  return report.combine(partials, params, window, days);
}

/** Computes a report in this process for a refresh claimed at `asOf` (see {@link computeWindow}). */
export function computeInProcess<Specs extends ParamSpecs, Result>(
  report: ReportDefinition<Specs, Result>,
  params: ParamValues<Specs>,
  asOf: number,
  options: ComputeWindowOptions = {},
): Promise<Result> {
  return computeWindow(report, params, report.window(params, asOf), options);
}
