/**
 * A report: its name, parameters (with defaults and bounds), freshness, and
 * its computation, split in two so it can fan out: `partial` reads one day
 * partition, `combine` folds the partials (in day order) into the result. A
 * refresh runs as a chord (one job per day, then the combination; see
 * report-workflow.ts); `computeInProcess` runs the same two steps in one
 * process, with a bounded number of partitions read at once.
 */
import { days, type Duration } from '../app/duration.js';
import { mapLimit } from '../util/map-limit.js';
import { daysCovering } from './page-views.js';
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

/** Runs a report in this process: every partition (`concurrency` at a time), then the combination. */
export async function computeInProcess<Specs extends ParamSpecs, Result>(
  report: ReportDefinition<Specs, Result>,
  params: ParamValues<Specs>,
  asOf: number,
  concurrency = 8,
): Promise<Result> {
  const window = report.window(params, asOf);
  const days = partitionsOf(window);
  const partials = await mapLimit(days, concurrency, (day) => report.partial(params, day, window));
  return report.combine(partials, params, window, days);
}
