/**
 * A report: its name, parameters (with defaults and bounds), freshness, and
 * its computation. Reports are computed by a single-flight task and served by
 * the polling report endpoint.
 */
import type { Duration } from '../app/duration.js';
import type { ParamSpecs, ParamValues } from './report-params.js';

export interface ReportContext {
  /** The end of the report's time window: when the refresh was claimed, so retries compute the same window. */
  readonly asOf: number;
  readonly signal: AbortSignal;
  /** Day partitions read at once. @default 8 */
  readonly partitionConcurrency?: number;
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
  readonly compute: (params: ParamValues<Specs>, context: ReportContext) => Promise<Result>;
  /** The result as an HTML fragment (escaped). */
  readonly renderHtml: (result: Result, params: ParamValues<Specs>) => string;
}

export function defineReport<Specs extends ParamSpecs, Result>(definition: ReportDefinition<Specs, Result>): ReportDefinition<Specs, Result> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(definition.name)) {
    throw new RangeError(`report name "${definition.name}" must be lower-case letters, digits and dashes`);
  }
  return Object.freeze(definition);
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
