/**
 * The polling report endpoint: `GET /reports/{name}?params`.
 *
 * | state   | JSON status | headers                                   | HTML                              |
 * |---------|-------------|-------------------------------------------|-----------------------------------|
 * | ready   | 200 (304 on a matching If-None-Match) | `Cache-Control: private, max-age=<fresh seconds>`, `ETag` | the result |
 * | pending | 202         | `Retry-After`, `Cache-Control: no-store`  | "calculating", refreshes itself   |
 * | failed  | 500         | `Retry-After` (cool-down), `no-store`     | the error and a retry button      |
 * | unknown report | 404 | | |
 * | bad parameters | 400, naming each parameter and its allowed range; nothing is enqueued | | |
 *
 * `POST /reports/{name}/retry?params` ends a failure's cool-down and claims a
 * new computation (303 back to the report for browsers, 202 for clients).
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { requestFlight } from '../coordination/flight-task.js';
import type { FlightAnswer } from '../coordination/single-flight.js';
import { HttpError, json } from '../http/rest-api.js';
import { canonicalKey, parseParams } from '../reports/report-params.js';
import { POLL_SECONDS, renderReportPage } from '../reports/report-page.js';
import { findReport, reports, type RegisteredReport } from '../reports/report-registry.js';

type Params = Readonly<Record<string, number | string>>;

export async function listReports(): Promise<APIGatewayProxyResult> {
  return json(200, {
    reports: reports.map(({ definition: d }) => ({
      name: d.name,
      title: d.title,
      description: d.description,
      href: `/reports/${d.name}`,
      params: Object.fromEntries(Object.entries(d.params).map(([k, spec]) => [k, spec])),
    })),
  });
}

export async function getReport(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { report, params, key } = resolve(event);
  const answer = await requestFlight(report.flight, key, { params, asOf: Date.now() });
  return respond(event, report, params, key, answer);
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
    throw new HttpError(404, `no report "${name}"`, { code: 'REPORT_NOT_FOUND', reports: reports.map((r) => r.definition.name) });
  }
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(([, values]) => (values?.length ?? 0) > 1);
  const parsed = parseParams(report.definition.params, event.queryStringParameters ?? {});
  const problems = [
    ...repeated.map(([name]) => ({ name, message: `"${name}" is given more than once`, allowed: 'one value' })),
    ...(parsed.ok ? [] : parsed.problems),
  ];
  if (problems.length > 0 || !parsed.ok) {
    throw new HttpError(400, problems.map((p) => p.message).join('; '), { code: 'INVALID_PARAMS', params: problems });
  }
  return { report, params: parsed.params, key: canonicalKey(name, parsed.params) };
}

function respond(event: APIGatewayProxyEvent, report: RegisteredReport, params: Params, key: string, answer: FlightAnswer): APIGatewayProxyResult {
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
      if (event.headers?.['if-none-match'] === etag || event.headers?.['If-None-Match'] === etag) {
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
      body = { ...base, state: 'pending', phase: answer.phase, jobId: answer.jobId, elapsedMs: Math.max(0, now - answer.since), retryAfterSeconds: POLL_SECONDS };
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
        retry: { method: 'POST', href: `/reports/${report.definition.name}/retry${queryOf(params)}` },
      };
      break;
    }
  }
  if (html) {
    return {
      statusCode: status,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8', vary: 'Accept' },
      body: renderReportPage(report.definition, params, answer, `${report.definition.name}/retry${queryOf(params)}`, now),
    };
  }
  return json(status, body, { ...headers, vary: 'Accept' });
}

/** Browsers ask for HTML; API clients (and anything that names JSON) get JSON. */
function wantsHtml(event: APIGatewayProxyEvent): boolean {
  const accept = (event.headers?.accept ?? event.headers?.Accept ?? '').toLowerCase();
  return accept.includes('text/html') && !accept.includes('application/json');
}

function queryOf(params: Params): string {
  const pairs: [string, string][] = Object.entries(params).map(([k, v]) => [k, String(v)]);
  return `?${new URLSearchParams(pairs).toString()}`;
}
