/**
 * The polling report endpoint: `GET /reports/{name}?params`.
 *
 * | state   | JSON status | headers                                   | HTML                              |
 * |---------|-------------|-------------------------------------------|-----------------------------------|
 * | ready   | 200 (304 on a matching If-None-Match) | `Cache-Control: public, max-age=<fresh seconds>`, `ETag` | the result |
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
 *
 * A fresh result is answered from this execution environment's memory once it
 * has read it (`fresh` below): until its `freshUntil`, a warm environment
 * answers it, 304s included, with no DynamoDB read. Only a result that is
 * ready, fresh and not being refreshed is kept; stale, pending and failed
 * states are always read from DynamoDB, and nothing is answered from memory at
 * or after `freshUntil`. That is what "fresh" promises: each environment (and,
 * with `Cache-Control: public, max-age`, each browser and CDN) may serve the
 * result unchanged until then. An environment forgets its copy of a key it
 * writes itself (a retry); other environments keep theirs until `freshUntil`,
 * except for a request that asks caches to revalidate (`Cache-Control:
 * no-cache` or `max-age=0`, as a browser's reload sends): it is answered
 * from DynamoDB.
 *
 * `public`, not `private`: a report's answer depends only on its canonical
 * parameters, never on who asks (the API has no per-user state), so a shared
 * cache may give one client's answer to another. It must key on the query
 * string and on `Accept` (`Vary: Accept`: JSON and HTML differ, and have
 * different ETags).
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { tableName, requestFlight, MemoryCache, type FlightAnswer, headerOf, htmlResponse, wantsHtml, apiPath, HttpError, json } from 'ferry';
import { canonicalKey, parseParams, type ParamProblem } from './report-params.js';
import { POLL_SECONDS, renderParamsError, renderReportIndex, renderReportPage, renderUnknownReport } from './report-page.js';
import { findReport, reports, type RegisteredReport } from './report-registry.js';
import { refreshProgress, type RefreshProgress } from './report-workflow.js';

type Params = Readonly<Record<string, number | string>>;
type ReadyAnswer = Extract<FlightAnswer, { state: 'ready' }>;

const definitions = () => reports.map((r) => r.definition);

/** A ready answer as it is sent: the JSON body, and the validators of both representations. */
interface ReadyRepresentation {
  readonly answer: ReadyAnswer;
  readonly json: string;
  /** Strong: a digest of the JSON body's bytes. */
  readonly etag: string;
  /** Weak: the page says what the JSON body says, and its "computed 2 minutes ago" changes with time. */
  readonly htmlEtag: string;
}

/**
 * Fresh results this environment has read, each until its `freshUntil`,
 * within MemoryCache's default bounds (least recently used first out; an
 * entry's size is its JSON body counted twice: once as text, once as the
 * result it was made from).
 */
const fresh = new MemoryCache<ReadyRepresentation>();

/**
 * What a kept result is a copy of: the flight item of `key` in the state
 * table. (The table is part of it for a process that runs one stack's
 * functions after another's, as the local runtime's in-process mode does.)
 */
const memoryKey = (key: string) => `${tableName('state')}/${key}`;

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
  const kept = asksToRevalidate(event) ? undefined : fresh.get(memoryKey(key));
  if (kept !== undefined) return respondReady(event, report, params, kept);
  const answer = await requestFlight(report.flight, key, { params, asOf: Date.now() });
  const progress = answer.state === 'pending' && answer.runRef !== undefined ? await refreshProgress(answer.runRef) : undefined;
  return respond(event, report, params, key, answer, progress);
}

/**
 * Whether the request asks caches to revalidate (RFC 9111 §5.2.1: `Cache-Control`
 * `no-cache` or `max-age=0`; `Pragma: no-cache` only without `Cache-Control`,
 * §5.4), as a browser's reload does: then this environment's memory copy is
 * not used, and the answer (a 304 too) is decided by what DynamoDB holds,
 * which a forced refresh (the console's, or `ferry flights refresh`) has
 * already made stale.
 */
function asksToRevalidate(event: APIGatewayProxyEvent): boolean {
  const cacheControl = headerOf(event, 'cache-control');
  if (cacheControl === undefined) return (headerOf(event, 'pragma') ?? '').toLowerCase().split(',').some((d) => d.trim() === 'no-cache');
  return cacheControl.toLowerCase().split(',').map((d) => d.trim()).some((d) => d === 'no-cache' || /^max-age\s*=\s*"?0+"?$/.test(d));
}

export async function retryReport(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const { report, params, key } = resolve(event);
  // This environment's next answer for the key comes from DynamoDB, whatever the retry changes there.
  fresh.delete(memoryKey(key));
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
      const ready = representation(report, params, answer);
      // Kept only while fresh with nothing in flight: a stale or refreshing answer changes soon, and is read again.
      if (!answer.stale && !answer.refreshing && answer.refreshError === undefined) fresh.set(memoryKey(key), ready, answer.freshUntil, 2 * Buffer.byteLength(ready.json));
      return respondReady(event, report, params, ready);
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

/** The JSON body and validators of a ready answer: the same whether it was read from DynamoDB or kept in memory. */
function representation(report: RegisteredReport, params: Params, answer: ReadyAnswer): ReadyRepresentation {
  const json = JSON.stringify({
    report: report.definition.name,
    params,
    state: 'ready',
    result: answer.result,
    jobId: answer.jobId,
    computedAt: new Date(answer.computedAt).toISOString(),
    freshUntil: new Date(answer.freshUntil).toISOString(),
    stale: answer.stale,
    refreshing: answer.refreshing,
    ...(answer.refreshError && { refreshError: { message: answer.refreshError.message, code: answer.refreshError.code ?? answer.refreshError.name } }),
  });
  // Both validators come from the JSON body: the page shows what it says (and its age).
  const tag = createHash('sha256').update(json).digest('base64url').slice(0, 27);
  return { answer, json, etag: `"${tag}"`, htmlEtag: `W/"${tag}-html"` };
}

/**
 * 200 with the result, or 304 when `If-None-Match` names this
 * representation's ETag. A fresh result may be kept by any cache until
 * `freshUntil` (`max-age`); a stale one must be revalidated (`max-age=0`).
 */
function respondReady(event: APIGatewayProxyEvent, report: RegisteredReport, params: Params, ready: ReadyRepresentation): APIGatewayProxyResult {
  const now = Date.now();
  const { answer } = ready;
  const html = wantsHtml(event);
  const etag = html ? ready.htmlEtag : ready.etag;
  const maxAge = answer.stale ? 0 : Math.max(0, Math.floor((answer.freshUntil - now) / 1000));
  const headers = { 'cache-control': `public, max-age=${maxAge}`, etag, vary: 'Accept' };
  if (matchesEtag(headerOf(event, 'if-none-match'), etag)) return { statusCode: 304, headers, body: '' };
  if (html) {
    return {
      statusCode: 200,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8' },
      body: renderReportPage(report.definition, params, answer, {
        retryPath: `${report.definition.name}/retry${queryOf(params)}`,
        now,
        all: definitions(),
      }),
    };
  }
  return { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: ready.json };
}

/** `If-None-Match` against an ETag, as RFC 9110 compares them for it: any listed tag (or `*`), weakly. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

function queryOf(params: Params): string {
  const pairs: [string, string][] = Object.entries(params).map(([k, v]) => [k, String(v)]);
  return `?${new URLSearchParams(pairs).toString()}`;
}
