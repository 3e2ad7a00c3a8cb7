/**
 * What API Gateway's REST API (v1) does around a Lambda proxy integration:
 * match a request to a declared resource, build the proxy event, and turn the
 * function's result into an HTTP response (502 for a malformed result).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Route } from '../app/define-app.js';
import { headerOf } from '../http/html.js';

export interface RouteMatch {
  readonly route: Route;
  readonly pathParameters: Record<string, string> | null;
}

/** A route template's segments, parsed once: a literal, a `{param}`, or a greedy `{proxy+}` (last). */
type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'param'; readonly name: string } | { readonly kind: 'greedy'; readonly name: string };

const compiled = new WeakMap<readonly Route[], readonly { readonly route: Route; readonly segments: readonly Segment[] }[]>();

function compile(routes: readonly Route[]): readonly { readonly route: Route; readonly segments: readonly Segment[] }[] {
  let list = compiled.get(routes);
  if (list === undefined) {
    list = routes.map((route) => ({
      route,
      segments: route.path
        .split('/')
        .filter((s) => s !== '')
        .map((part): Segment => {
          const greedy = /^\{(.+)\+\}$/.exec(part);
          if (greedy) return { kind: 'greedy', name: greedy[1] as string };
          const param = /^\{(.+)\}$/.exec(part);
          return param ? { kind: 'param', name: param[1] as string } : { kind: 'literal', text: part };
        }),
    }));
    compiled.set(routes, list);
  }
  return list;
}

/**
 * The declared route for `method` and `path`, with API Gateway's precedence:
 * a literal segment beats `{param}`, which beats a greedy `{proxy+}`; an exact
 * method beats `ANY`. `undefined` when nothing matches. Throws `URIError` for
 * a malformed percent-encoding in a parameter's segment.
 */
export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  let best: { match: RouteMatch; score: number[] } | undefined;
  for (const { route, segments: template } of compile(routes)) {
    if (route.method !== method && route.method !== 'ANY' && !(method === 'HEAD' && route.method === 'GET')) continue;
    const params = matchPath(template, segments);
    if (params === undefined) continue;
    const score = [...params.score, route.method === method ? 1 : 0];
    if (best === undefined || compare(score, best.score) > 0) {
      best = { match: { route, pathParameters: Object.keys(params.values).length > 0 ? params.values : null }, score };
    }
  }
  return best?.match;
}

function matchPath(template: readonly Segment[], segments: readonly string[]): { values: Record<string, string>; score: number[] } | undefined {
  const values: Record<string, string> = {};
  const score: number[] = [];
  for (let i = 0; i < template.length; i++) {
    const part = template[i] as Segment;
    if (part.kind === 'greedy') {
      if (i >= segments.length) return undefined;
      values[part.name] = segments.slice(i).map(decodeURIComponent).join('/');
      score.push(0);
      return { values, score };
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.kind === 'param') {
      values[part.name] = decodeURIComponent(segment);
      score.push(1);
    } else if (part.text === segment) {
      score.push(2);
    } else {
      return undefined;
    }
  }
  return template.length === segments.length ? { values, score } : undefined;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export interface IncomingRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header name → values, as received (names in their original case). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface EventSettings {
  readonly stage: string;
  /** The API's binary media types: a body of one of them travels base64-encoded. */
  readonly binaryMediaTypes: readonly string[];
  readonly apiId: string;
  readonly accountId: string;
  readonly host: string;
}

/** The proxy event API Gateway sends for `request` matched to `match`. */
export function toProxyEvent(request: IncomingRequest, match: RouteMatch, settings: EventSettings): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of request.headers) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of request.query) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const binary = request.body.length > 0 && isBinaryMediaType(headerOf({ headers }, 'content-type') ?? '', settings.binaryMediaTypes);
  const now = new Date();
  const requestId = randomUUID();
  return {
    resource: match.route.path,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: request.body.length === 0 ? null : binary ? request.body.toString('base64') : request.body.toString('utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: settings.accountId,
      apiId: settings.apiId,
      authorizer: null,
      domainName: settings.host,
      domainPrefix: settings.host.split('.')[0] ?? settings.host,
      extendedRequestId: requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headerOf({ headers }, 'user-agent') ?? null,
        userArn: null,
      },
      path: `/${settings.stage}${request.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: match.route.path,
      stage: settings.stage,
    },
  };
}

/**
 * Whether a `Content-Type` or `Accept` value names one of the API's binary
 * media types (`image/png`, or a wildcard such as `image/*` or `*\/*`), as API
 * Gateway decides whether a body is binary. With none declared, every body is text.
 */
export function isBinaryMediaType(header: string, binaryMediaTypes: readonly string[]): boolean {
  const types = header.split(',').map((t) => (t.split(';')[0] ?? '').trim().toLowerCase()).filter((t) => t !== '');
  return types.some((type) =>
    binaryMediaTypes.some((pattern) => {
      const [want, sub] = pattern.toLowerCase().split('/');
      const [major, minor] = type.split('/');
      return (want === '*' || want === major) && (sub === '*' || sub === minor);
    }),
  );
}

/** `21/Nov/2026:16:54:24 +0000`, as API Gateway writes `requestTime`. */
function formatRequestTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface ProxyResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** API Gateway's answer to a malformed integration result or a failed invocation. */
export const BAD_GATEWAY: ProxyResponse = jsonError(502, 'Internal server error');
export const GATEWAY_TIMEOUT: ProxyResponse = jsonError(504, 'Endpoint request timed out');

function jsonError(status: number, message: string): ProxyResponse {
  return { status, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ message })) };
}

/**
 * The HTTP response for a handler's result, or `undefined` when API Gateway
 * would reject it as malformed. A base64 body (`isBase64Encoded`) is decoded
 * only when the first type of the request's `accept` is one of the API's binary media types;
 * otherwise API Gateway passes the base64 text through, as here.
 */
export function fromProxyResult(value: unknown, binary: { readonly accept: string; readonly binaryMediaTypes: readonly string[] } = { accept: '', binaryMediaTypes: [] }): ProxyResponse | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const result = value as Record<string, unknown>;
  const status = result.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const headers: [string, string][] = [];
  const single = result.headers ?? {};
  const multi = result.multiValueHeaders ?? {};
  if (typeof single !== 'object' || single === null || typeof multi !== 'object' || multi === null) return undefined;
  const multiNames = new Set(Object.keys(multi).map((n) => n.toLowerCase()));
  for (const [name, v] of Object.entries(single)) {
    if (!multiNames.has(name.toLowerCase())) headers.push([name, String(v)]);
  }
  for (const [name, values] of Object.entries(multi)) {
    if (!Array.isArray(values)) return undefined;
    for (const v of values) headers.push([name, String(v)]);
  }
  const body = result.body ?? '';
  if (typeof body !== 'string') return undefined;
  // API Gateway honours only the first media type of the request's Accept header.
  const firstAccepted = binary.accept.split(',')[0] ?? '';
  const decode = result.isBase64Encoded === true && isBinaryMediaType(firstAccepted, binary.binaryMediaTypes);
  return { status, headers, body: decode ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8') };
}
