/**
 * Routes declared with `authorization: 'iam'` (the operations console) on the
 * local runtime, as API Gateway answers them: unsigned, badly signed or
 * signed by unknown credentials is a 403 naming why; signed with SigV4 by the
 * local credentials is served. The console is also served at `/_ferry/console`
 * without a signature: the local operator's door, at the root only.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { serveRoot: false });
});
afterAll(() => runtime?.stop());

class Sha256 {
  private hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as string));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {}
}

interface SignOptions {
  readonly secret?: string;
  readonly accessKeyId?: string;
  readonly service?: string;
  readonly method?: string;
  readonly body?: string;
}

/** SigV4 headers for `path` (execute-api, by the runtime's credentials unless told otherwise). */
async function signedHeaders(path: string, options: SignOptions = {}): Promise<Record<string, string>> {
  const url = new URL(path, runtime.url);
  const accessKeyId = options.accessKeyId ?? runtime.environment.AWS_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? 'local';
  const secretAccessKey = options.secret ?? runtime.environment.AWS_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'local';
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1', service: options.service ?? 'execute-api', sha256: Sha256 });
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { host: url.host, ...(options.body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }) };
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: Object.fromEntries(url.searchParams), headers, ...(options.body !== undefined && { body: options.body }) });
  return signed.headers;
}

async function signedFetch(path: string, options: SignOptions = {}): Promise<Response> {
  const headers = await signedHeaders(path, options);
  return fetch(new URL(path, runtime.url), { method: options.method ?? 'GET', headers, redirect: 'manual', ...(options.body !== undefined && { body: options.body }) });
}

describe('IAM-authorized routes', () => {
  it('refuses an unsigned request under the stage path with API Gateway\'s 403', async () => {
    const response = await fetch(`${runtime.url}/prod/_ferry/console`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('serves a request signed with SigV4 by the local credentials', async () => {
    const response = await signedFetch('/prod/_ferry/console');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('data-queue="io"');
  });

  it('refuses a wrong secret, unknown credentials, another service, and a tampered query', async () => {
    const wrong = await signedFetch('/prod/_ferry/console', { secret: 'not-the-secret' });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(((await wrong.json()) as { message: string }).message).toMatch(/signature we calculated does not match/);

    const unknown = await signedFetch('/prod/_ferry/console', { accessKeyId: 'AKIDNOBODY' });
    expect(unknown.status).toBe(403);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');

    const s3 = await signedFetch('/prod/_ferry/console', { service: 's3' });
    expect(s3.status).toBe(403);
    expect(s3.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');

    expect((await signedFetch('/prod/_ferry/console/jobs?status=FAILED')).status).toBe(200);
    const headers = await signedHeaders('/prod/_ferry/console/jobs?status=FAILED');
    const tampered = await fetch(`${runtime.url}/prod/_ferry/console/jobs?status=SUCCEEDED`, { headers });
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
  });

  it('checks the body too: a signed POST is served, the same signature with another body refused', async () => {
    const body = 'messageId=none';
    const served = await signedFetch('/prod/_ferry/console/queues/io/redrive', { method: 'POST', body });
    expect(served.status).toBe(303);
    const headers = await signedHeaders('/prod/_ferry/console/queues/io/redrive', { method: 'POST', body });
    const changed = await fetch(`${runtime.url}/prod/_ferry/console/queues/io/redrive`, { method: 'POST', headers, body: 'messageId=other', redirect: 'manual' });
    expect(changed.status).toBe(403);
  });

  it('serves the console at the root without a signature (the local door), and nothing else there', async () => {
    const page = await fetch(`${runtime.url}/_ferry/console`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-queue="cpu"');
    // The app's other routes are not at the root here (serveRoot: false), and /_ferry/ holds only the local endpoints and the console.
    expect((await fetch(`${runtime.url}/_ferry/pings`)).status).toBe(404);
    expect((await fetch(`${runtime.url}/_ferry/stats`)).status).toBe(200);
    expect((await fetch(`${runtime.url}/reports`)).status).toBe(403);
  });
});
