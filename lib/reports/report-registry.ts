/**
 * The reports Ferry serves, and the single-flight task that computes each.
 * Adding a report: define it (see `slow-blog-views.ts`) and list it here.
 */
import { z } from 'zod';
import { seconds } from '../app/duration.js';
import { defineFlightTask, type FlightTask } from '../coordination/flight-task.js';
import type { ParamSpecs } from './report-params.js';
import type { ReportDefinition } from './report.js';
import { slowBlogViews } from './slow-blog-views.js';
import { slowestUrls } from './slowest-urls.js';

export interface ComputeRequest {
  readonly params: Readonly<Record<string, number | string>>;
  /** The end of the report's window: the moment the refresh was claimed. */
  readonly asOf: number;
}

export interface RegisteredReport {
  readonly definition: ReportDefinition<ParamSpecs, unknown>;
  readonly flight: FlightTask<ComputeRequest, unknown>;
}

function register(definition: ReportDefinition<ParamSpecs, unknown>): RegisteredReport {
  const flight = defineFlightTask({
    name: `report.${definition.name}`,
    queue: 'io',
    params: z.object({ params: z.record(z.string(), z.union([z.number(), z.string()])), asOf: z.number().int() }),
    policy: { freshFor: definition.freshFor, staleFor: definition.staleFor, failureCooldown: seconds(30) },
    retry: { maxAttempts: 3, baseDelay: seconds(1), maxDelay: seconds(10) },
    timeout: seconds(25),
    compute: ({ params, asOf }, { signal }) => definition.compute(params as never, { asOf, signal }),
  });
  return { definition, flight };
}

export const reports: readonly RegisteredReport[] = [
  register(slowBlogViews as unknown as ReportDefinition<ParamSpecs, unknown>),
  register(slowestUrls as unknown as ReportDefinition<ParamSpecs, unknown>),
];

export function findReport(name: string): RegisteredReport | undefined {
  return reports.find((r) => r.definition.name === name);
}
