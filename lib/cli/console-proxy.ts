/**
 * `ferry console`: the operations console of a deployed stack in your
 * browser. On AWS the console's routes need IAM authorization (a request
 * signed with Signature Version 4 for `execute-api`), which a browser cannot
 * make; this local proxy signs each request with your credentials (the AWS
 * SDK's default chain: environment, profile, SSO, ...) and passes it to the
 * stack's API, so API Gateway checks that you may invoke the console.
 *
 * It serves only the console's paths (`/_ferry/console...`) and listens on
 * the loopback interface: it is never a signing service for anything else.
 * The console's links and redirects are relative, so they work through it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../aws/node-sha256.js';

/** The console's mount under the API's stage. */
export const CONSOLE_PATH = '/_ferry/console';

/** Request headers passed on to API Gateway (the rest are the browser's business, or hop-by-hop). */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'if-none-match', 'sec-fetch-site', 'user-agent'];
/** Response headers passed back to the browser. */
const FORWARDED_RESPONSE_HEADERS = ['cache-control', 'content-type', 'etag', 'location', 'retry-after', 'vary', 'x-amzn-errortype'];
/** The most a request body may be: API Gateway takes at most 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ConsoleProxyOptions {
  /** The stack's API, with its stage: the `ApiUrl` output, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/`. */
  readonly apiUrl: string;
  /** The API's region. @default the region in an `execute-api` host name, else `AWS_REGION` */
  readonly region?: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default 8040 (0: any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export interface ConsoleProxy {
  /** Where to open the console, e.g. `http://127.0.0.1:8040/_ferry/console`. */
  readonly url: string;
  close(): Promise<void>;
}

export class InvalidConsoleProxyOptionError extends Error {
  override readonly name = 'InvalidConsoleProxyOptionError';
}

/** The region of an API Gateway host (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function regionOfApi(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

export async function startConsoleProxy(options: ConsoleProxyOptions): Promise<ConsoleProxy> {
  let api: URL;
  try {
    api = new URL(options.apiUrl);
  } catch {
    throw new InvalidConsoleProxyOptionError(`apiUrl must be the API's URL with its stage, such as the stack's ApiUrl output (got ${JSON.stringify(options.apiUrl)})`);
  }
  if (api.protocol !== 'https:' && api.protocol !== 'http:') throw new InvalidConsoleProxyOptionError(`apiUrl must be http(s) (got ${api.protocol})`);
  const region = options.region ?? regionOfApi(api) ?? process.env.AWS_REGION;
  if (region === undefined || region === '') throw new InvalidConsoleProxyOptionError(`no region for ${api.host}: set AWS_REGION or pass --region`);
  const stagePath = api.pathname.replace(/\/+$/, '');
  const signer = new SignatureV4({ credentials: options.credentials, region, service: 'execute-api', sha256: NodeSha256 });

  const server = createServer((request, response) => {
    forward(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`ferry console: the request to ${api.host} failed: ${message}\n`);
    });
  });

  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const incoming = new URL(request.url ?? '/', 'http://proxy.invalid');
    if (incoming.pathname !== CONSOLE_PATH && !incoming.pathname.startsWith(`${CONSOLE_PATH}/`)) {
      const to = incoming.pathname === '/' ? CONSOLE_PATH : undefined;
      if (to !== undefined) {
        response.writeHead(302, { location: to }).end();
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`ferry console serves only ${CONSOLE_PATH}: ${incoming.pathname} is not signed or sent\n`);
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' }).end('request body over 10 MB\n');
      return;
    }
    const headers: Record<string, string> = { host: api.host };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const method = request.method ?? 'GET';
    const path = `${stagePath}${incoming.pathname}`;
    const signed = await signer.sign({
      method,
      protocol: api.protocol,
      hostname: api.hostname,
      ...(api.port !== '' && { port: Number(api.port) }),
      path,
      query: queryOf(incoming.searchParams),
      headers,
      ...(body.length > 0 && { body }),
    });
    // The query goes as it was signed (RFC 3986 escapes: a space is %20, never the form's +).
    const query = [...incoming.searchParams].map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`).join('&');
    const upstream = await fetch(new URL(`${path}${query === '' ? '' : `?${query}`}`, api), {
      method,
      headers: signed.headers,
      redirect: 'manual',
      ...(body.length > 0 && { body }),
    });
    const out: Record<string, string> = {};
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) out[name] = value;
    }
    response.writeHead(upstream.status, out);
    response.end(Buffer.from(await upstream.arrayBuffer()));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8040, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${CONSOLE_PATH}`,
    close: () => closeServer(server),
  };
}

/** SigV4's URI escape: `encodeURIComponent`, and `!'()*` too. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query as the signer takes it: repeated names keep all their values. */
function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
