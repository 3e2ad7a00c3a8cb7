/**
 * The reports Ferry serves, each with the single-flight refresh that computes
 * it, in one job or fanned out over its day partitions as its estimate decides
 * (report-workflow.ts, refresh-plan.ts). Adding a report: define it (see
 * `slow-blog-views.ts`) and list it here.
 */
import { type FlightTask } from 'ferry';
import type { ParamSpecs } from './report-params.js';
import type { ReportDefinition } from './report.js';
import { reportFlight, type ComputeRequest } from './report-workflow.js';
import { slowBlogViews } from './slow-blog-views.js';
import { slowestUrls } from './slowest-urls.js';

export type { ComputeRequest };

export interface RegisteredReport {
  readonly definition: ReportDefinition<ParamSpecs, unknown>;
  readonly flight: FlightTask<ComputeRequest, unknown>;
}

function register(definition: ReportDefinition<ParamSpecs, unknown>): RegisteredReport {
  return { definition, flight: reportFlight(definition) };
}

export const reports: readonly RegisteredReport[] = [
  register(slowBlogViews as unknown as ReportDefinition<ParamSpecs, unknown>),
  register(slowestUrls as unknown as ReportDefinition<ParamSpecs, unknown>),
];

export function findReport(name: string): RegisteredReport | undefined {
  return reports.find((r) => r.definition.name === name);
}
