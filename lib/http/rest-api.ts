/**
 * Routing and responses for REST API (API Gateway v1) proxy events. API
 * Gateway already matched the request to a declared resource, so a handler is
 * chosen by `httpMethod` and `resource` (e.g. `GET /pings/{id}`), exactly as
 * declared in the app's declaration (`http` events).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { log, logContext } from '../util/log.js';
import { errorPage, headerOf, htmlResponse, wantsHtml } from './html.js';
import { currentTraceId, parseTraceHeader, runInTrace, TRACE_HEADER } from '../util/trace.js';

export type RouteHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** A request the client must change: answered with `status` and the message. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/**
 * `path` (from the API's root, e.g. `/pings/42`) as the client must ask for
 * it: behind the stage (`/prod/pings/42`) or a custom domain's base path.
 * The prefix is what the request's full path (`requestContext.path`) has
 * before the resource path API Gateway matched (`path`).
 */
export function apiPath(event: Pick<APIGatewayProxyEvent, 'path' | 'requestContext'>, path: string): string {
  const full = event.requestContext?.path ?? event.path;
  const prefix = full.endsWith(event.path) ? full.slice(0, full.length - event.path.length) : '';
  return `${prefix}${path}`;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Parses a JSON request body, answering 400 naming the problem when it is not a JSON object. */
export function jsonBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  if (event.body === null || event.body === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export interface RestApiOptions {
  /**
   * The HTML page a browser gets for an error (`wantsHtml`), when the app has
   * one better than the generic page for it (the report service's lists the
   * parameters and links to the reports). Return undefined for the generic one.
   * @default the generic error page (lib/http/html.ts)
   */
  readonly errorPage?: (error: HttpError, event: APIGatewayProxyEvent) => string | undefined;
}

/**
 * A handler dispatching on `"<METHOD> <resource>"` keys. An `HttpError` is
 * answered with its status: a JSON error body, or an HTML page for browsers.
 * Unexpected errors become 500s that name the request id and leak nothing else.
 */
export function createRestApi(routes: Readonly<Record<string, RouteHandler>>, options: RestApiOptions = {}): RouteHandler {
  const answer = (error: HttpError, event: APIGatewayProxyEvent, code: string): APIGatewayProxyResult => {
    if (wantsHtml(event)) return htmlResponse(error.status, options.errorPage?.(error, event) ?? errorPage(error.status, error.message));
    return json(error.status, { error: { code, message: error.message, ...error.details } });
  };
  return async (event, context) => {
    logContext(context);
    // A HEAD request can reach a resource declared only for GET (the gateway matches it so and drops the body): answer it as the GET.
    const route = routes[`${event.httpMethod} ${event.resource}`] ?? (event.httpMethod === 'HEAD' ? routes[`GET ${event.resource}`] : undefined);
    if (route === undefined) {
      return answer(new HttpError(404, `no handler for ${event.httpMethod} ${event.resource}`), event, 'ROUTE_NOT_FOUND');
    }
    try {
      // The request's X-Ray trace (API Gateway's header on a traced stage, else Lambda's): the jobs it enqueues join it.
      const traceId = parseTraceHeader(headerOf(event, TRACE_HEADER)).root ?? currentTraceId();
      return await (traceId === undefined ? route(event, context) : runInTrace(traceId, () => route(event, context)));
    } catch (error) {
      if (error instanceof HttpError) return answer(error, event, `HTTP_${error.status}`);
      log({ level: 'error', msg: 'unhandled error', requestId: context.awsRequestId, error: error instanceof Error ? { name: error.name, message: error.message } : String(error) });
      if (wantsHtml(event)) {
        return htmlResponse(500, errorPage(500, `The request failed on the server (request id ${context.awsRequestId}). Try again; if it keeps failing, the logs have this request id.`));
      }
      return json(500, { error: { code: 'INTERNAL', message: 'internal error', requestId: context.awsRequestId } });
    }
  };
}
