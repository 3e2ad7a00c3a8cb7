/**
 * Routes declared with `authorization: 'iam'` (the operations console) on the
 * local runtime, as API Gateway answers them: unsigned, badly signed or
 * signed by unknown credentials is a 403 naming why; signed with SigV4 by the
 * local credentials is served. The console is also served at `/_ferry/console`
 * without a signature: the local operator's door, at the root only.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSha256 } from '../../lib/aws/node-sha256.js';
import { regionOfApi, startConsoleProxy } from '../../lib/cli/console-proxy.js';
import { LOCAL_REGION } from '../../lib/local/local-clients.js';
import { isLoopback } from '../../lib/local/rest-api-server.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { serveRoot: false });
});
afterAll(() => runtime?.stop());

interface SignOptions {
  readonly secret?: string;
  readonly accessKeyId?: string;
  readonly service?: string;
  readonly method?: string;
  readonly body?: string;
  /** Sign x-amz-content-sha256 too (the AWS SDK does; botocore and curl do not). @default true */
  readonly checksum?: boolean;
  readonly signingDate?: Date;
}

/** SigV4 headers for `path` (execute-api, by the runtime's credentials unless told otherwise). */
async function signedHeaders(path: string, options: SignOptions = {}): Promise<Record<string, string>> {
  const url = new URL(path, runtime.url);
  const accessKeyId = options.accessKeyId ?? runtime.environment.AWS_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? 'local';
  const secretAccessKey = options.secret ?? runtime.environment.AWS_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'local';
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1', service: options.service ?? 'execute-api', sha256: NodeSha256, applyChecksum: options.checksum ?? true });
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { host: url.host, ...(options.body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }) };
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: Object.fromEntries(url.searchParams), headers, ...(options.body !== undefined && { body: options.body }) }, options.signingDate === undefined ? {} : { signingDate: options.signingDate });
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

  it('serves a request whose signature covers no x-amz-content-sha256 (as botocore, curl and Postman sign), a body included', async () => {
    expect((await signedFetch('/prod/_ferry/console', { checksum: false })).status).toBe(200);
    const posted = await signedFetch('/prod/_ferry/console/queues/io/redrive', { method: 'POST', body: 'messageId=none', checksum: false });
    expect(posted.status).toBe(303);
  });

  it('refuses a request signed more than 5 minutes before or after the server\'s clock, in API Gateway\'s words', async () => {
    const old = await signedFetch('/prod/_ferry/console', { signingDate: new Date(Date.now() - 10 * 60_000) });
    expect(old.status).toBe(403);
    expect(((await old.json()) as { message: string }).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    const early = await signedFetch('/prod/_ferry/console', { signingDate: new Date(Date.now() + 10 * 60_000) });
    expect(early.status).toBe(403);
    expect(((await early.json()) as { message: string }).message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/);
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

describe('ferry console: the signing proxy to a deployed console', () => {
  const credentials = () => ({ accessKeyId: runtime.environment.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: runtime.environment.AWS_SECRET_ACCESS_KEY ?? 'local' });

  it('signs each console request for the API, which checks it: pages, encoded paths and form posts get through', async () => {
    const proxy = await startConsoleProxy({ apiUrl: `${runtime.url}/prod/`, region: LOCAL_REGION, credentials: credentials(), port: 0 });
    try {
      expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_ferry\/console$/);
      const overview = await fetch(proxy.url);
      expect(overview.status).toBe(200);
      expect(await overview.text()).toContain('data-queue="io"');
      // A key with reserved characters, percent-encoded in the path: signed as API Gateway computes it (the console's own 404, not a 403).
      const key = await fetch(`${proxy.url}/flights/${encodeURIComponent('report:none?days=3&x=a b')}`);
      expect(key.status).toBe(404);
      expect(await key.text()).toContain('no single-flight key');
      // A query from the console's GET forms (a space sent as +): sent as it was signed.
      expect((await fetch(`${proxy.url}/jobs?status=FAILED&task=no+such+task`)).status).toBe(200);
      // A form post (a signed body), answered 303 with the console's relative Location.
      const posted = await fetch(`${proxy.url}/queues/io/redrive`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'messageId=none', redirect: 'manual' });
      expect(posted.status).toBe(303);
      expect(posted.headers.get('location')).toMatch(/^\.\.\/\.\.\/queues\/io\?notice=/);
    } finally {
      await proxy.close();
    }
  });

  it('sends nothing outside the console, and passes on API Gateway\'s refusal of credentials it does not know', async () => {
    const proxy = await startConsoleProxy({ apiUrl: `${runtime.url}/prod`, region: LOCAL_REGION, credentials: credentials(), port: 0 });
    const origin = new URL(proxy.url).origin;
    try {
      const root = await fetch(`${origin}/`, { redirect: 'manual' });
      expect(root.status).toBe(302);
      expect(root.headers.get('location')).toBe('/_ferry/console');
      const other = await fetch(`${origin}/pings`);
      expect(other.status).toBe(404);
      expect(await other.text()).toContain('serves only /_ferry/console');
    } finally {
      await proxy.close();
    }
    const stranger = await startConsoleProxy({ apiUrl: `${runtime.url}/prod/`, region: LOCAL_REGION, credentials: { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'nope' }, port: 0 });
    try {
      const refused = await fetch(stranger.url);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');
    } finally {
      await stranger.close();
    }
  });

  it('opens the unsigned local door only on a loopback address', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.1.2.3']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'ferry.example.com']) expect(isLoopback(host), host).toBe(false);
  });

  it('reads the region of an execute-api URL, and refuses an API URL it cannot use', async () => {
    expect(regionOfApi(new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/'))).toBe('eu-west-1');
    expect(regionOfApi(new URL('http://localhost:3000/prod/'))).toBeUndefined();
    await expect(startConsoleProxy({ apiUrl: 'not a url', credentials: credentials(), port: 0 })).rejects.toThrow(/apiUrl must be the API's URL/);
  });

  it('ferry console --outputs: starts the proxy for the stack\'s ApiUrl with the SDK\'s credentials, until stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-console-'));
    try {
      const outputs = join(dir, 'cdk-outputs.json');
      writeFileSync(outputs, JSON.stringify({ Ferry: { ApiUrl: `${runtime.url}/prod/`, StateTableName: 'unused', IoQueueUrl: 'http://unused' } }));
      const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('FERRY_'))), ...credentialsEnv(credentials()), AWS_REGION: LOCAL_REGION };
      const child = spawn(process.execPath, ['--import', join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(PROJECT_ROOT, 'lib', 'cli', 'main.ts'), 'console', '--outputs', outputs, '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
      try {
        const url = await eventually('the proxy to start', () => Promise.resolve(/(http:\/\/127\.0\.0\.1:\d+\/_ferry\/console)/.exec(out)?.[1]), 30_000);
        expect(out).toContain("Ferry's console for stack Ferry");
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('data-queue="io"');
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function credentialsEnv(c: { accessKeyId: string; secretAccessKey: string }): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey };
}
