/**
 * The local stand-in for API Gateway: serves the declared routes over HTTP by
 * invoking their functions with REST API (v1) proxy events, plus the runtime's
 * own local-only endpoints under `/_ferry/`.
 *
 * As the deployed REST API does: routes answer under the stage path
 * (`/prod/reports`; also at the root, for convenience); an undeclared path or
 * method answers 403 `Missing Authentication Token`; a request whose event
 * would exceed Lambda's 6 MB invocation payload answers 413 `Request Too
 * Long`, a body over API Gateway's 10 MB 413 as well; a function error, a
 * function timeout, a malformed result or an answer over 6 MB answers 502,
 * and only API Gateway's own 29-second integration timeout 504; bodies are
 * base64 only for the API's binary media types; a route declared with
 * `authorization: 'iam'` answers 403 unless the request is SigV4-signed
 * (sigv4-check.ts).
 *
 * One local door: a declared route under `/_ferry/` (the operations console)
 * is also served at the root without a signature, for the operator at this
 * machine's browser; under the stage path it is authorized as deployed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Route } from '../app/define-app.js';
import type { FunctionHost } from './function-host.js';
import { newTraceHeader, parseTraceHeader, TRACE_HEADER } from '../util/trace.js';
import { checkSigV4 } from './sigv4-check.js';
import { BAD_GATEWAY, GATEWAY_TIMEOUT, fromProxyResult, matchRoute, toProxyEvent, type ProxyResponse } from './rest-event.js';

/** API Gateway's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's limit on a synchronous invocation's request payload (6 MB)… */
const LAMBDA_REQUEST_BYTES = 6 * 1024 * 1024;
/** …and on its response payload, as Lambda reports it ("maximum allowed payload size (6291556 bytes)"). */
const LAMBDA_RESPONSE_BYTES = 6_291_556;
/** API Gateway's integration timeout for REST APIs. */
const INTEGRATION_TIMEOUT_MS = 29_000;

export type ControlHandler = (method: string, path: string) => Promise<ProxyResponse | undefined>;

export interface RestApiServerOptions {
  readonly routes: readonly Route[];
  readonly hosts: ReadonlyMap<string, FunctionHost>;
  readonly host: string;
  readonly port: number;
  readonly stage: string;
  /** Serve the routes at the root too, not only under `/<stage>`. */
  readonly serveRoot: boolean;
  /** The API's binary media types (see `isBinaryMediaType`). */
  readonly binaryMediaTypes: readonly string[];
  /** Answers `/_ferry/...` requests; `undefined` means 404 (or a declared route under `/_ferry/`, see below). */
  readonly control: ControlHandler;
  /** The credentials a request to a route with `authorization: 'iam'` must be signed with, and the region. */
  readonly iam: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly region: string };
}

export interface RestApiServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startRestApiServer(options: RestApiServerOptions): Promise<RestApiServer> {
  const server = createServer((request, response) => {
    handle(options, request)
      .then((answer) => send(response, answer))
      .catch((error: unknown) => {
        console.error(`local API: ${(error as Error).message}`);
        send(response, BAD_GATEWAY);
      });
  });
  server.keepAliveTimeout = 5_000;
  server.listen(options.port, options.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(portError(e, options.port)))]);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shown = options.host === '0.0.0.0' || options.host === '127.0.0.1' ? 'localhost' : options.host;
  return { url: `http://${shown}:${port}`, close: () => closeServer(server) };
}

async function handle(options: RestApiServerOptions, request: IncomingMessage): Promise<ProxyResponse> {
  const url = new URL(request.url ?? '/', 'http://local');
  const method = request.method ?? 'GET';
  const localDoor = url.pathname.startsWith('/_ferry/') || url.pathname === '/_ferry';
  if (localDoor) {
    const answer = await options.control(method, url.pathname);
    if (answer !== undefined) return answer;
    if (!options.routes.some((r) => r.path.startsWith('/_ferry/'))) return text(404, `no local endpoint ${method} ${url.pathname}`);
    // Unsigned, the door lets anyone who reaches it redrive and cancel: only this machine may.
    if (!isLoopback(options.host)) {
      return text(403, `the unsigned /_ferry/ door is open only when the API listens on a loopback address (it listens on ${options.host}): sign the request under /${options.stage} (ferry console does)`);
    }
  }
  // The deployed URL has the stage first; the root serves the same routes locally.
  const stagePrefix = `/${options.stage}`;
  const underStage = !localDoor && (url.pathname === stagePrefix || url.pathname.startsWith(`${stagePrefix}/`));
  if (!underStage && !localDoor && !options.serveRoot) return MISSING_AUTHENTICATION_TOKEN;
  const path = !underStage ? url.pathname : url.pathname === stagePrefix ? '/' : url.pathname.slice(stagePrefix.length);
  let match;
  try {
    match = matchRoute(options.routes, method, path);
  } catch (error) {
    if (error instanceof URIError) return text(400, `malformed percent-encoding in path ${url.pathname}`);
    throw error;
  }
  if (match === undefined) return localDoor ? text(404, `no local endpoint ${method} ${url.pathname}`) : MISSING_AUTHENTICATION_TOKEN;
  if (localDoor && !match.route.path.startsWith('/_ferry/')) return text(404, `no local endpoint ${method} ${url.pathname}`);
  const body = await readBody(request);
  if (body === undefined) return CONTENT_LENGTH_EXCEEDED;
  const host = options.hosts.get(match.route.functionId);
  if (host === undefined) throw new Error(`route ${match.route.path} names unknown function ${match.route.functionId}`);
  const headers: [string, string][] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers.push([request.rawHeaders[i] ?? '', request.rawHeaders[i + 1] ?? '']);
  if (match.route.authorization === 'iam' && !localDoor) {
    const refusal = await checkSigV4({ method, path: url.pathname, query: url.searchParams, headers, body }, options.iam, options.iam.region);
    if (refusal !== undefined) {
      return { status: refusal.status, headers: [['content-type', 'application/json'], ['x-amzn-errortype', refusal.errorType]], body: Buffer.from(JSON.stringify({ message: refusal.message })) };
    }
  }
  // The stage traces requests (FerryRestApi): API Gateway continues the caller's X-Ray trace or starts one, and passes its header on.
  const traced = headers.findIndex(([name]) => name.toLowerCase() === TRACE_HEADER);
  if (traced < 0 || parseTraceHeader(headers[traced]?.[1]).root === undefined) {
    if (traced >= 0) headers.splice(traced, 1);
    headers.push(['X-Amzn-Trace-Id', newTraceHeader()]);
  }
  const event = toProxyEvent(
    { method, path, query: url.searchParams, headers, body, sourceIp: request.socket.remoteAddress ?? '127.0.0.1' },
    match,
    { stage: options.stage, binaryMediaTypes: options.binaryMediaTypes, apiId: 'local', accountId: '000000000000', host: request.headers.host ?? 'localhost' },
  );
  // Lambda refuses an invocation whose event is over its payload limit; API Gateway answers 413.
  const payload = JSON.stringify(event);
  if (Buffer.byteLength(payload) > LAMBDA_REQUEST_BYTES) return REQUEST_TOO_LONG;
  // Nothing bounds how many requests arrive at once: beyond the pool's bound they wait for a sandbox (sandbox-pool.ts).
  const invocation = host.invoke(event, `http ${method} ${path}`.slice(0, 40), { payload, waitWhenBusy: true });
  let timer: NodeJS.Timeout | undefined;
  const gatewayTimeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS);
  });
  const result = await Promise.race([invocation, gatewayTimeout]).finally(() => clearTimeout(timer));
  if (result === 'timeout') return GATEWAY_TIMEOUT;
  // A function that fails or times out (before the integration's 29 s) is a failed invocation: 502.
  if (result.outcome !== 'ok') return BAD_GATEWAY;
  const response = fromProxyResult(result.value, { accept: request.headers.accept ?? '', binaryMediaTypes: options.binaryMediaTypes });
  if (response === undefined) {
    console.error(`local API: ${match.route.functionId} returned a malformed proxy result for ${method} ${url.pathname}; API Gateway answers 502`);
    return BAD_GATEWAY;
  }
  if (Buffer.byteLength(result.payload ?? JSON.stringify(result.value) ?? 'null') > LAMBDA_RESPONSE_BYTES) {
    console.error(`local API: ${match.route.functionId} answered more than Lambda's 6 MB response payload for ${method} ${url.pathname}; API Gateway answers 502`);
    return BAD_GATEWAY;
  }
  return method === 'HEAD' ? { ...response, body: Buffer.alloc(0) } : response;
}

const NO_BODY = Buffer.alloc(0);

/** The request's body, or undefined once it passes API Gateway's limit. A request that declares no body has none to wait for. */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> | Buffer {
  if (request.headers['content-length'] === undefined && request.headers['transfer-encoding'] === undefined) return NO_BODY;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.off('data', onData);
        // The rest is read and dropped, so the answer (413) can be written on the same connection.
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function send(response: ServerResponse, answer: ProxyResponse): void {
  // The raw form keeps repeated headers (two Set-Cookie) as they came, without a lookup per header.
  const raw: string[] = [];
  for (const [name, value] of answer.headers) raw.push(name, value);
  response.writeHead(answer.status, raw);
  response.end(answer.body);
}

export function jsonResponse(status: number, value: unknown): ProxyResponse {
  return { status, headers: [['content-type', 'application/json; charset=utf-8']], body: Buffer.from(JSON.stringify(value, null, 2)) };
}

function text(status: number, message: string): ProxyResponse {
  return jsonResponse(status, { message });
}

/** What a REST API answers for a path or method no resource declares (it is not a 404). */
const MISSING_AUTHENTICATION_TOKEN: ProxyResponse = {
  status: 403,
  headers: [
    ['content-type', 'application/json'],
    ['x-amzn-errortype', 'MissingAuthenticationTokenException'],
  ],
  body: Buffer.from(JSON.stringify({ message: 'Missing Authentication Token' })),
};

/** API Gateway's answer when the event would be over Lambda's request payload limit. */
const REQUEST_TOO_LONG: ProxyResponse = {
  status: 413,
  headers: [['content-type', 'application/json']],
  body: Buffer.from(JSON.stringify({ message: 'Request Too Long' })),
};

/** API Gateway's answer to a body over its own 10 MB payload limit. */
const CONTENT_LENGTH_EXCEEDED: ProxyResponse = {
  status: 413,
  headers: [['content-type', 'text/plain']],
  body: Buffer.from(`HTTP content length exceeded ${MAX_BODY_BYTES} bytes.`),
};

function portError(error: unknown, port: number): Error {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return new Error(`port ${port} is in use: stop what holds it or start Ferry with --port <another>`);
  return error as Error;
}

async function closeServer(server: Server): Promise<void> {
  server.closeIdleConnections();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  setTimeout(() => server.closeAllConnections(), 2_000).unref();
  await closed;
}

/** Whether `host` (the address the API listens on) is this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
