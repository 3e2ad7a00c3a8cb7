/**
 * The local API Gateway: REST v1 proxy events in, proxy results out, API
 * Gateway's own errors; with the functions in this process, and in sandboxes
 * (worker threads, the synthesized bundles), where the event and the result
 * cross as JSON and requests beyond the pool's bound wait for a sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { DEFAULT_MAX_SANDBOXES } from '../../lib/local/sandbox-pool.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

interface Echo {
  event: APIGatewayProxyEvent;
  requestId: string;
  remainingMs: number;
}

/** An invocation's line, as the runtime logs it in JSON. */
interface InvocationLine {
  type: 'invocation';
  trigger: string;
  durationMs: number;
  waitMs?: number;
  awsCalls?: Record<string, number>;
}

// Invocation lines as JSON, whatever the terminal: the tests read them.
process.env.FERRY_LOG_FORMAT = 'json';

for (const code of ['sources', 'bundles'] as const) describe(`local REST API (${code === 'sources' ? 'functions in this process' : 'functions in sandboxes'})`, () => {
  let runtime: LocalRuntime;
  const logged: string[] = [];
  const invocations = (trigger: string): InvocationLine[] =>
    logged.filter((l) => l.startsWith('{"') && l.includes('"type":"invocation"')).map((l) => JSON.parse(l) as InvocationLine).filter((l) => l.trigger === trigger);
  beforeAll(async () => {
    runtime = await startTestRuntime(testApp, { code, log: (line) => void logged.push(line) });
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
  });

  it('invokes the route function with a REST API proxy event built from the request', async () => {
    const response = await fetch(`${runtime.url}/echo/plain?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': 'yes' },
      body: '{"hello":"world"}',
    });
    expect(response.status).toBe(200);
    const { event, requestId, remainingMs } = (await response.json()) as Echo;
    expect(event).toMatchObject({
      resource: '/echo/{mode}',
      path: '/echo/plain',
      httpMethod: 'POST',
      pathParameters: { mode: 'plain' },
      queryStringParameters: { a: '2', b: 'x' },
      multiValueQueryStringParameters: { a: ['1', '2'], b: ['x'] },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: { stage: 'v1', resourcePath: '/echo/{mode}', httpMethod: 'POST', path: '/v1/echo/plain' },
    });
    expect(event.headers['x-custom']).toBe('yes');
    expect(event.requestContext.identity.sourceIp).toMatch(/127\.0\.0\.1/);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(1_000);
  });

  it('passes a greedy path parameter with its slashes', async () => {
    const { event } = (await (await fetch(`${runtime.url}/files/a/b%20c/d.txt`)).json()) as Echo;
    expect(event.pathParameters).toEqual({ path: 'a/b c/d.txt' });
  });

  it('returns single and multi-value headers from the proxy result', async () => {
    const response = await fetch(`${runtime.url}/echo/multi`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('answers 502 like API Gateway when the function returns a malformed result', async () => {
    const response = await fetch(`${runtime.url}/echo/malformed`);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it('answers 502 when the function throws', async () => {
    const response = await fetch(`${runtime.url}/echo/throw`);
    expect(response.status).toBe(502);
    expect((await runtime.stats()).functions.http?.errors).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 when the function times out, as API Gateway does for a failed invocation (504 is only its own 29 s limit)', async () => {
    const response = await fetch(`${runtime.url}/echo/slow`);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
    expect((await runtime.stats()).functions.http?.timeouts).toBeGreaterThanOrEqual(1);
  });

  it('serves the routes under the declared stage path, as the deployed API does, with the same event', async () => {
    const response = await fetch(`${runtime.url}/v1/echo/plain`);
    expect(response.status).toBe(200);
    const { event } = (await response.json()) as Echo;
    expect(event).toMatchObject({ path: '/echo/plain', resource: '/echo/{mode}', requestContext: { stage: 'v1', path: '/v1/echo/plain' } });
  });

  it.each([
    ['a path no route declares', 'GET', '/nowhere'],
    ['a path no route declares, under the stage', 'GET', '/v1/nowhere'],
    ['a method the path does not declare', 'DELETE', '/files/a.txt'],
  ])('answers %s with 403 Missing Authentication Token, as a REST API does, invoking nothing', async (_what, method, path) => {
    const before = (await runtime.stats()).functions.http?.invocations ?? 0;
    const response = await fetch(`${runtime.url}${path}`, { method });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
    expect((await runtime.stats()).functions.http?.invocations ?? 0).toBe(before);
  });

  it('answers 413 for a body that would make the event exceed Lambda\'s 6 MB payload, invoking nothing', async () => {
    const before = (await runtime.stats()).functions.http?.invocations ?? 0;
    const response = await fetch(`${runtime.url}/echo/plain`, { method: 'POST', body: 'x'.repeat(6 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Too Long' });
    expect((await runtime.stats()).functions.http?.invocations ?? 0).toBe(before);
  });

  it('passes a body of a declared binary media type as base64, and any other as text', async () => {
    const bytes = Buffer.from([0, 255, 1, 128]);
    const binary = (await (await fetch(`${runtime.url}/echo/plain`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json()) as Echo;
    expect(binary.event).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
    const text = (await (await fetch(`${runtime.url}/echo/plain`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'abc' })).json()) as Echo;
    expect(text.event).toMatchObject({ isBase64Encoded: false, body: 'abc' });
  });

  it('answers 400 for a path with malformed percent-encoding, invoking nothing', async () => {
    const before = (await runtime.stats()).functions.http?.invocations;
    const response = await fetch(`${runtime.url}/echo/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/malformed percent-encoding/);
    expect((await runtime.stats()).functions.http?.invocations).toBe(before);
  });

  it('serves invocation counters at /_ferry/stats', async () => {
    await fetch(`${runtime.url}/echo/plain`);
    const stats = (await (await fetch(`${runtime.url}/_ferry/stats`)).json()) as { functions: Record<string, { invocations: number }> };
    expect(stats.functions.http?.invocations).toBeGreaterThanOrEqual(1);
    expect(Object.keys(stats.functions).sort()).toEqual(['batcher', 'changes', 'fanout', 'http', 'ticker']);
  });

  if (code === 'bundles') {
    const naps = async (count: number) => Promise.all(Array.from({ length: count }, async () => (await fetch(`${runtime.url}/echo/nap`)).status));

    it(`starts at most ${DEFAULT_MAX_SANDBOXES} sandboxes for requests that arrive together: the others wait for one to be free, and every one is answered`, async () => {
      const started = runtime.sandboxes().http?.started ?? 0;
      const before = (await runtime.stats()).functions.http?.invocations ?? 0;
      const statuses = await naps(3 * DEFAULT_MAX_SANDBOXES);
      expect(statuses).toEqual(Array.from({ length: 3 * DEFAULT_MAX_SANDBOXES }, () => 200));
      expect(runtime.sandboxes().http?.live).toBeLessThanOrEqual(DEFAULT_MAX_SANDBOXES);
      expect((runtime.sandboxes().http?.started ?? 0) - started).toBeLessThanOrEqual(DEFAULT_MAX_SANDBOXES);
      expect((await runtime.stats()).functions.http?.invocations).toBe(before + 3 * DEFAULT_MAX_SANDBOXES);
    });

    it("counts a waiting request's function timeout and duration from when its invocation starts, as Lambda does", async () => {
      // 300 ms naps under a 1 s timeout, four rounds of them: the last round waits three naps before it starts.
      const timeouts = (await runtime.stats()).functions.http?.timeouts ?? 0;
      logged.length = 0;
      const statuses = await naps(4 * DEFAULT_MAX_SANDBOXES);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect((await runtime.stats()).functions.http?.timeouts).toBe(timeouts);
      const lines = invocations('http GET /echo/nap');
      expect(lines).toHaveLength(4 * DEFAULT_MAX_SANDBOXES);
      expect(Math.max(...lines.map((l) => l.waitMs ?? 0))).toBeGreaterThanOrEqual(3 * 300 - 50);
      expect(lines.every((l) => l.durationMs >= 300 - 50 && l.durationMs < 1_000)).toBe(true);
    });

    it('names the AWS calls each invocation made in its line', async () => {
      logged.length = 0;
      expect((await fetch(`${runtime.url}/echo/get-event`)).status).toBe(200);
      expect((await fetch(`${runtime.url}/echo/plain`)).status).toBe(200);
      expect(invocations('http GET /echo/get-event').map((l) => l.awsCalls)).toEqual([{ 'dynamodb:GetItem': 1 }]);
      expect(invocations('http GET /echo/plain').map((l) => l.awsCalls)).toEqual([undefined]);
    });
  }
});
