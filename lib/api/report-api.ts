/**
 * The polling report endpoint: `GET /reports/{name}?params`.
 *
 * | state   | JSON status | headers                                   | HTML                              |
 * |---------|-------------|-------------------------------------------|-----------------------------------|
 * | ready   | 200 (304 on a matching If-None-Match) | `Cache-Control: private, max-age=<fresh seconds>`, `ETag` | the result |
 * | pending | 202         | `Retry-After`, `Cache-Control: no-store`  | "calculating", refreshes itself   |
 * | failed  | 500         | `Retry-After` (cool-down), `no-store`     | the error and a retry button      |
 * | unknown report | 404 | | the reports there are             |
 * | bad parameters | 400, naming each parameter and its allowed range; nothing is enqueued | | each problem, the parameter table, a link with the defaults |
 *
 * A pending answer carries the refresh's `progress` (day partitions read, of
 * all) once its chord runs. `GET /reports` lists the reports (an HTML index
 * for browsers).
 *
 * `POST /reports/{name}/retry?params` ends a failure's cool-down and claims a
 * new computation (303 back to the report for browsers, 202 for clients).
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { requestFlight } from '../coordination/flight-task.js';
import type { FlightAnswer } from '../coordination/single-flight.js';
import { headerOf, htmlResponse, wantsHtml } from '../http/html.js';
import { apiPath, HttpError, json } from '../http/rest-api.js';
import { canonicalKey, parseParams, type ParamProblem } from '../reports/report-params.js';
import { POLL_SECONDS, renderParamsError, renderReportIndex, renderReportPage, renderUnknownReport } from '../reports/report-page.js';
import { findReport, reports, type RegisteredReport } from '../reports/report-registry.js';
import { refreshProgress, type RefreshProgress } from '../reports/report-workflow.js';

type Params = Readonly<Record<string, number | string>>;

const definitions = () => reports.map((r) => r.definition);

/** A request for a report that does not exist (404) or with bad parameters (400); carries what its HTML page shows. */
export class ReportRequestError extends HttpError {
  constructor(
    status: 404 | 400,
    message: string,
    details: Readonly<Record<string, unknown>>,
    readonly reportName: string,
    readonly problems: readonly ParamProblem[] = [],
  ) {
    super(status, message, details);
  }
}

/** The HTML page of a report request's error, for the REST API's `errorPage` option; undefined for other errors. */
export function reportErrorPage(error: HttpError): string | undefined {
  if (!(error instanceof ReportRequestError)) return undefined;
  const report = findReport(error.reportName);
  if (report === undefined) return renderUnknownReport(error.reportName, definitions());
  return renderParamsError(report.definition, error.problems, definitions());
}

export async function listReports(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (wantsHtml(event)) return htmlResponse(200, renderReportIndex(definitions()));
  return json(200, {
    reports: reports.map(({ definition: d }) => ({
      name: d.name,
      title: d.title,
      description: d.description,
      href: apiPath(event, `/reports/${d.name}`),
      params: Object.fromEntries(Object.entries(d.params).map(([k, spec]) => [k, spec])),
    })),
  });
}

export async function getReport(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { report, params, key } = resolve(event);
  const answer = await requestFlight(report.flight, key, { params, asOf: Date.now() });
  const progress = answer.state === 'pending' && answer.runRef !== undefined ? await refreshProgress(answer.runRef) : undefined;
  return respond(event, report, params, key, answer, progress);
}

export async function retryReport(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { report, params, key } = resolve(event);
  await report.flight.flight.allowRetry(key);
  const answer = await requestFlight(report.flight, key, { params, asOf: Date.now() });
  if (wantsHtml(event)) {
    return { statusCode: 303, headers: { location: `../${report.definition.name}${queryOf(params)}`, 'cache-control': 'no-store' }, body: '' };
  }
  return respond(event, report, params, key, answer);
}

/** The report and its canonical parameters, or a 404 / 400 naming what is wrong (before anything is enqueued). */
function resolve(event: APIGatewayProxyEvent): { report: RegisteredReport; params: Params; key: string } {
  const name = event.pathParameters?.name ?? '';
  const report = findReport(name);
  if (report === undefined) {
    throw new ReportRequestError(404, `no report "${name}"`, { code: 'REPORT_NOT_FOUND', reports: reports.map((r) => r.definition.name) }, name);
  }
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(([, values]) => (values?.length ?? 0) > 1);
  const parsed = parseParams(report.definition.params, event.queryStringParameters ?? {});
  const problems = [
    ...repeated.map(([name]) => ({ name, message: `"${name}" is given more than once`, allowed: 'one value' })),
    ...(parsed.ok ? [] : parsed.problems),
  ];
  if (problems.length > 0 || !parsed.ok) {
    throw new ReportRequestError(400, problems.map((p) => p.message).join('; '), { code: 'INVALID_PARAMS', params: problems }, name, problems);
  }
  return { report, params: parsed.params, key: canonicalKey(name, parsed.params) };
}

function respond(
  event: APIGatewayProxyEvent,
  report: RegisteredReport,
  params: Params,
  key: string,
  answer: FlightAnswer,
  progress?: RefreshProgress,
): APIGatewayProxyResult {
  const now = Date.now();
  const html = wantsHtml(event);
  const base = { report: report.definition.name, params };
  let status: number;
  let headers: Record<string, string>;
  let body: unknown;
  switch (answer.state) {
    case 'ready': {
      const etag = `"${createHash('sha256').update(`${key}@${answer.computedAt}`).digest('base64url').slice(0, 27)}"`;
      const maxAge = answer.stale ? 0 : Math.max(0, Math.floor((answer.freshUntil - now) / 1000));
      headers = { 'cache-control': `private, max-age=${maxAge}`, etag };
      if (headerOf(event, 'if-none-match') === etag) {
        return { statusCode: 304, headers: { ...headers, vary: 'Accept' }, body: '' };
      }
      status = 200;
      body = {
        ...base,
        state: 'ready',
        result: answer.result,
        jobId: answer.jobId,
        computedAt: new Date(answer.computedAt).toISOString(),
        freshUntil: new Date(answer.freshUntil).toISOString(),
        stale: answer.stale,
        refreshing: answer.refreshing,
        ...(answer.refreshError && { refreshError: { message: answer.refreshError.message, code: answer.refreshError.code ?? answer.refreshError.name } }),
      };
      break;
    }
    case 'pending':
      status = 202;
      headers = { 'retry-after': String(POLL_SECONDS), 'cache-control': 'no-store' };
      body = {
        ...base,
        state: 'pending',
        phase: answer.phase,
        jobId: answer.jobId,
        elapsedMs: Math.max(0, now - answer.since),
        retryAfterSeconds: POLL_SECONDS,
        ...(progress && { progress }),
      };
      break;
    case 'failed': {
      const wait = Math.max(0, Math.ceil((answer.retryAt - now) / 1000));
      status = 500;
      headers = { 'retry-after': String(wait), 'cache-control': 'no-store' };
      body = {
        ...base,
        state: 'failed',
        jobId: answer.jobId,
        error: { message: answer.error.message, code: answer.error.code ?? answer.error.name },
        failedAt: new Date(answer.failedAt).toISOString(),
        retryAt: new Date(answer.retryAt).toISOString(),
        retry: { method: 'POST', href: apiPath(event, `/reports/${report.definition.name}/retry${queryOf(params)}`) },
      };
      break;
    }
  }
  if (html) {
    return {
      statusCode: status,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8', vary: 'Accept' },
      body: renderReportPage(report.definition, params, answer, {
        retryPath: `${report.definition.name}/retry${queryOf(params)}`,
        now,
        all: definitions(),
        ...(progress && { progress }),
      }),
    };
  }
  return json(status, body, { ...headers, vary: 'Accept' });
}

function queryOf(params: Params): string {
  const pairs: [string, string][] = Object.entries(params).map(([k, v]) => [k, String(v)]);
  return `?${new URLSearchParams(pairs).toString()}`;
}
