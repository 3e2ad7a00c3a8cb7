/** The local API Gateway: REST v1 proxy events in, proxy results out, API Gateway's own errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(testApp);
});
afterAll(async () => {
  await runtime?.stop();
});

interface Echo {
  event: APIGatewayProxyEvent;
  requestId: string;
  remainingMs: number;
}

describe('local REST API', () => {
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
});
