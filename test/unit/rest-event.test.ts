import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { HttpMethod } from '../../lib/app/declaration.js';
import type { Route } from '../../lib/app/define-app.js';
import type { InvocationResult } from '../../lib/local/function-host.js';
import {
  BAD_GATEWAY,
  GATEWAY_TIMEOUT,
  fromProxyResult,
  matchRoute,
  toProxyEvent,
  type EventSettings,
  type IncomingRequest,
  type RouteMatch,
  isBinaryMediaType,
} from '../../lib/local/rest-event.js';
import { failedMessageIds } from '../../lib/local/sqs-event-source.js';
import { firstFailedIndex } from '../../lib/local/stream-event-source.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function route(method: HttpMethod, path: string, functionId = 'fn'): Route {
  return { functionId, method, path, authorization: 'none' };
}

/** The template of the route `method path` matches, or undefined. */
function matched(routes: readonly Route[], method: string, path: string): string | undefined {
  const match = matchRoute(routes, method, path);
  return match && `${match.route.method} ${match.route.path}`;
}

function mustMatch(routes: readonly Route[], method: string, path: string): RouteMatch {
  const match = matchRoute(routes, method, path);
  if (match === undefined) throw new Error(`expected ${method} ${path} to match a route`);
  return match;
}

const SETTINGS: EventSettings = {
  stage: 'local',
  binaryMediaTypes: ['application/octet-stream', 'image/*', 'application/pdf', 'application/zip'],
  apiId: 'ferrylocal',
  accountId: '000000000000',
  host: 'api.example.test',
};

function request(overrides: Partial<IncomingRequest> = {}): IncomingRequest {
  return {
    method: 'GET',
    path: '/health',
    query: new URLSearchParams(),
    headers: [],
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    ...overrides,
  };
}

function eventFor(req: IncomingRequest, routes: readonly Route[] = [route('ANY', '/{proxy+}'), route('GET', '/')]): APIGatewayProxyEvent {
  return toProxyEvent(req, mustMatch(routes, req.method, req.path), SETTINGS);
}

function ok(value: unknown): InvocationResult {
  return { outcome: 'ok', value, durationMs: 1 };
}

function message(id: string): Message {
  return { MessageId: id, ReceiptHandle: `receipt-${id}`, Body: `body of ${id}` };
}

function streamRecord(sequenceNumber: string): StreamRecord {
  return { eventID: `event-${sequenceNumber}`, eventName: 'INSERT', dynamodb: { SequenceNumber: sequenceNumber } };
}

// ---------------------------------------------------------------------------
// rest-event.ts
// ---------------------------------------------------------------------------

describe('rest-event', () => {
  describe('matchRoute', () => {
    describe('path precedence', () => {
      it('prefers a literal segment to a {param}, whatever the declaration order', () => {
        const routes = [route('GET', '/pings/{id}'), route('GET', '/pings/latest')];
        expect(matched(routes, 'GET', '/pings/latest')).toBe('GET /pings/latest');
        expect(matched([...routes].reverse(), 'GET', '/pings/latest')).toBe('GET /pings/latest');
        expect(matched(routes, 'GET', '/pings/42')).toBe('GET /pings/{id}');
      });

      it('prefers a {param} to a greedy {proxy+}, whatever the declaration order', () => {
        const routes = [route('GET', '/files/{proxy+}'), route('GET', '/files/{name}')];
        expect(matched(routes, 'GET', '/files/a')).toBe('GET /files/{name}');
        expect(matched([...routes].reverse(), 'GET', '/files/a')).toBe('GET /files/{name}');
        expect(matched(routes, 'GET', '/files/a/b')).toBe('GET /files/{proxy+}');
      });

      it('prefers a literal to a greedy {proxy+} at the root', () => {
        const routes = [route('ANY', '/{proxy+}'), route('GET', '/health')];
        expect(matched(routes, 'GET', '/health')).toBe('GET /health');
        expect(matched(routes, 'GET', '/other')).toBe('ANY /{proxy+}');
      });

      it('lets the earlier segment decide between two partly literal templates', () => {
        const routes = [route('GET', '/{a}/fixed'), route('GET', '/fixed/{b}')];
        expect(matched(routes, 'GET', '/fixed/fixed')).toBe('GET /fixed/{b}');
        expect(matched([...routes].reverse(), 'GET', '/fixed/fixed')).toBe('GET /fixed/{b}');
      });

      it('prefers a longer template with a {param} to a shorter greedy one', () => {
        const routes = [route('GET', '/a/{proxy+}'), route('GET', '/a/{x}/c')];
        expect(matched(routes, 'GET', '/a/b/c')).toBe('GET /a/{x}/c');
        expect(matched(routes, 'GET', '/a/b/d')).toBe('GET /a/{proxy+}');
      });

      it('matches the root path only to the root resource', () => {
        const routes = [route('GET', '/'), route('GET', '/{id}')];
        expect(matched(routes, 'GET', '/')).toBe('GET /');
        expect(mustMatch(routes, 'GET', '/').pathParameters).toBeNull();
      });
    });

    describe('method precedence', () => {
      it('prefers an exact method to ANY on the same path, whatever the declaration order', () => {
        const routes = [route('ANY', '/pings'), route('POST', '/pings')];
        expect(matched(routes, 'POST', '/pings')).toBe('POST /pings');
        expect(matched([...routes].reverse(), 'POST', '/pings')).toBe('POST /pings');
        expect(matched(routes, 'DELETE', '/pings')).toBe('ANY /pings');
      });

      it('ranks the path above the method', () => {
        const routes = [route('GET', '/{proxy+}'), route('ANY', '/pings')];
        expect(matched(routes, 'GET', '/pings')).toBe('ANY /pings');
      });

      it('answers HEAD with a GET route', () => {
        expect(matched([route('GET', '/health')], 'HEAD', '/health')).toBe('GET /health');
      });

      it('prefers a HEAD route to a GET route for HEAD', () => {
        const routes = [route('GET', '/health'), route('HEAD', '/health')];
        expect(matched(routes, 'HEAD', '/health')).toBe('HEAD /health');
      });

      it('does not answer GET with a HEAD route', () => {
        expect(matched([route('HEAD', '/health')], 'GET', '/health')).toBeUndefined();
      });
    });

    describe('no match', () => {
      it('returns undefined when no route is declared', () => {
        expect(matchRoute([], 'GET', '/')).toBeUndefined();
      });

      it('returns undefined for a method the path does not declare', () => {
        expect(matched([route('GET', '/health')], 'POST', '/health')).toBeUndefined();
      });

      it('returns undefined for an undeclared path', () => {
        expect(matched([route('GET', '/health')], 'GET', '/status')).toBeUndefined();
      });

      it('does not match trailing segments to a shorter template', () => {
        expect(matched([route('GET', '/pings')], 'GET', '/pings/extra')).toBeUndefined();
        expect(matched([route('GET', '/pings/{id}')], 'GET', '/pings/1/more')).toBeUndefined();
      });

      it('does not match a path shorter than the template', () => {
        expect(matched([route('GET', '/pings/{id}')], 'GET', '/pings')).toBeUndefined();
      });

      it('requires at least one segment for a greedy parameter', () => {
        const routes = [route('GET', '/files/{proxy+}')];
        expect(matched(routes, 'GET', '/files')).toBeUndefined();
        expect(matched(routes, 'GET', '/files/')).toBeUndefined();
        expect(matched([route('ANY', '/{proxy+}')], 'GET', '/')).toBeUndefined();
      });
    });

    describe('path parameters', () => {
      it('gives null path parameters for a template without parameters', () => {
        expect(mustMatch([route('GET', '/health')], 'GET', '/health').pathParameters).toBeNull();
      });

      it('names each {param} with its segment', () => {
        const match = mustMatch([route('GET', '/tenants/{tenant}/pings/{id}')], 'GET', '/tenants/acme/pings/42');
        expect(match.pathParameters).toEqual({ tenant: 'acme', id: '42' });
      });

      it('URL-decodes a {param}', () => {
        const routes = [route('GET', '/pings/{id}')];
        expect(mustMatch(routes, 'GET', '/pings/hello%20world').pathParameters).toEqual({ id: 'hello world' });
        expect(mustMatch(routes, 'GET', '/pings/caf%C3%A9').pathParameters).toEqual({ id: 'café' });
        expect(mustMatch(routes, 'GET', '/pings/a%2Fb').pathParameters).toEqual({ id: 'a/b' });
      });

      it('gives a greedy parameter the rest of the path, URL-decoded, joined by slashes', () => {
        const match = mustMatch([route('GET', '/files/{proxy+}')], 'GET', '/files/a%20b/c/d.txt');
        expect(match.pathParameters).toEqual({ proxy: 'a b/c/d.txt' });
      });

      it('returns the matched route itself', () => {
        const declared = route('POST', '/pings', 'api');
        expect(mustMatch([declared], 'POST', '/pings').route).toBe(declared);
      });
    });
  });

  describe('toProxyEvent', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('returns an APIGatewayProxyEvent', () => {
      expectTypeOf(toProxyEvent).returns.toEqualTypeOf<APIGatewayProxyEvent>();
    });

    it('describes the request, with the resource template and the real path', () => {
      const req = request({
        method: 'POST',
        path: '/pings/42',
        query: new URLSearchParams('tag=a&tag=b&x=1'),
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Trace', 'one'],
          ['X-Trace', 'two'],
          ['User-Agent', 'vitest'],
        ],
        body: Buffer.from('{"a":1}'),
      });
      const event: APIGatewayProxyEvent = eventFor(req, [route('POST', '/pings/{id}')]);
      expect(event).toMatchObject({
        resource: '/pings/{id}',
        path: '/pings/42',
        httpMethod: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Trace': 'two', 'User-Agent': 'vitest' },
        multiValueHeaders: { 'Content-Type': ['application/json'], 'X-Trace': ['one', 'two'], 'User-Agent': ['vitest'] },
        queryStringParameters: { tag: 'b', x: '1' },
        multiValueQueryStringParameters: { tag: ['a', 'b'], x: ['1'] },
        pathParameters: { id: '42' },
        stageVariables: null,
        body: '{"a":1}',
        isBase64Encoded: false,
      });
    });

    it('gives null query and path parameters and a null body when the request has none', () => {
      const event = eventFor(request({ path: '/health' }), [route('GET', '/health')]);
      expect(event.queryStringParameters).toBeNull();
      expect(event.multiValueQueryStringParameters).toBeNull();
      expect(event.pathParameters).toBeNull();
      expect(event.body).toBeNull();
      expect(event.isBase64Encoded).toBe(false);
      expect(event.headers).toEqual({});
      expect(event.multiValueHeaders).toEqual({});
    });

    it('passes a body without a content type as text', () => {
      const event = eventFor(request({ method: 'PUT', path: '/notes', body: Buffer.from('héllo') }));
      expect(event.body).toBe('héllo');
      expect(event.isBase64Encoded).toBe(false);
    });

    it('passes every body as text when the API declares no binary media types, as API Gateway does', () => {
      const bytes = Buffer.from('abc');
      const event = toProxyEvent(request({ method: 'PUT', path: '/files/x', headers: [['content-type', 'image/png']], body: bytes }), mustMatch([route('PUT', '/files/x')], 'PUT', '/files/x'), {
        ...SETTINGS,
        binaryMediaTypes: [],
      });
      expect(event.isBase64Encoded).toBe(false);
      expect(event.body).toBe('abc');
    });

    it('matches binary media types with wildcards and parameters, and no other type', () => {
      expect(isBinaryMediaType('image/png; q=1', ['image/*'])).toBe(true);
      expect(isBinaryMediaType('text/html, application/octet-stream', ['application/octet-stream'])).toBe(true);
      expect(isBinaryMediaType('anything/at-all', ['*/*'])).toBe(true);
      expect(isBinaryMediaType('image/png', ['application/octet-stream'])).toBe(false);
      expect(isBinaryMediaType('', ['*/*'])).toBe(false);
    });

    it.each(['application/octet-stream', 'Application/Octet-Stream', 'image/png', 'application/pdf', 'application/zip'])(
      'base64-encodes a %s body (a declared binary media type) and flags it',
      (contentType) => {
        const bytes = Buffer.from([0, 255, 1, 128]);
        const event = eventFor(request({ method: 'PUT', path: '/files/x', headers: [['content-type', contentType]], body: bytes }));
        expect(event.isBase64Encoded).toBe(true);
        expect(event.body).toBe(bytes.toString('base64'));
        expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
      },
    );

    it('finds the content type whatever the case of the header name', () => {
      const event = eventFor(
        request({ method: 'PUT', path: '/files/x', headers: [['CONTENT-TYPE', 'application/octet-stream']], body: Buffer.from('abc') }),
      );
      expect(event.isBase64Encoded).toBe(true);
      expect(event.body).toBe('YWJj');
    });

    it('fills the request context as API Gateway does for a stage', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-21T16:54:24.123Z'));
      const event = eventFor(
        request({ method: 'GET', path: '/pings/42', headers: [['user-agent', 'curl/8']] }),
        [route('GET', '/pings/{id}')],
      );
      expect(event.requestContext).toMatchObject({
        accountId: '000000000000',
        apiId: 'ferrylocal',
        domainName: 'api.example.test',
        domainPrefix: 'api',
        httpMethod: 'GET',
        stage: 'local',
        resourcePath: '/pings/{id}',
        path: '/local/pings/42',
        protocol: 'HTTP/1.1',
        requestTime: '21/Nov/2026:16:54:24 +0000',
        requestTimeEpoch: Date.parse('2026-11-21T16:54:24.123Z'),
        identity: { sourceIp: '203.0.113.7', userAgent: 'curl/8' },
      });
      expect(event.requestContext.authorizer).toBeNull();
    });

    it('pads the day and time in requestTime', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2027-01-02T03:04:05Z'));
      expect(eventFor(request()).requestContext.requestTime).toBe('02/Jan/2027:03:04:05 +0000');
    });

    it('gives each event a fresh request id, repeated as the extended request id', () => {
      const first = eventFor(request()).requestContext;
      const second = eventFor(request()).requestContext;
      expect(first.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(first.extendedRequestId).toBe(first.requestId);
      expect(second.requestId).not.toBe(first.requestId);
    });

    it('gives a null user agent when the request sends none', () => {
      expect(eventFor(request()).requestContext.identity.userAgent).toBeNull();
    });
  });

  describe('fromProxyResult', () => {
    it('accepts a status code and a body', () => {
      const response = fromProxyResult({ statusCode: 201, body: '{"id":"42"}' });
      expect(response?.status).toBe(201);
      expect(response?.headers).toEqual([]);
      expect(response?.body.toString('utf8')).toBe('{"id":"42"}');
    });

    it('answers an empty body when the result has none, or a null one', () => {
      expect(fromProxyResult({ statusCode: 204 })?.body).toEqual(Buffer.alloc(0));
      expect(fromProxyResult({ statusCode: 204, body: null })?.body).toEqual(Buffer.alloc(0));
    });

    it('merges headers and multiValueHeaders, the multi-value ones winning for the same name', () => {
      const response = fromProxyResult({
        statusCode: 200,
        headers: { 'Content-Type': 'text/plain', 'X-One': 'single', 'Content-Length': 2 },
        multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'x-one': ['multi'] },
        body: 'ok',
      });
      expect(response?.headers).toEqual([
        ['Content-Type', 'text/plain'],
        ['Content-Length', '2'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['x-one', 'multi'],
      ]);
    });

    it('treats null headers and multiValueHeaders as none', () => {
      expect(fromProxyResult({ statusCode: 200, headers: null, multiValueHeaders: null, body: '' })?.headers).toEqual([]);
    });

    it('decodes a base64 body when isBase64Encoded is true and the request accepts a binary media type', () => {
      const binary = { accept: 'image/png', binaryMediaTypes: ['image/*'] };
      expect(fromProxyResult({ statusCode: 200, body: 'AP8BgA==', isBase64Encoded: true }, binary)?.body).toEqual(Buffer.from([0, 255, 1, 128]));
    });

    it('decides by the first type of the Accept header only, as API Gateway does', () => {
      const body = { statusCode: 200, body: 'AP8BgA==', isBase64Encoded: true };
      expect(fromProxyResult(body, { accept: 'text/html,image/png', binaryMediaTypes: ['image/*'] })?.body.toString()).toBe('AP8BgA==');
      expect(fromProxyResult(body, { accept: 'image/png,text/html', binaryMediaTypes: ['image/*'] })?.body).toEqual(Buffer.from([0, 255, 1, 128]));
    });

    it('passes a base64 body through as text when the request accepts no binary media type, as API Gateway does', () => {
      expect(fromProxyResult({ statusCode: 200, body: 'AP8BgA==', isBase64Encoded: true }, { accept: 'text/html', binaryMediaTypes: ['image/*'] })?.body.toString()).toBe('AP8BgA==');
      expect(fromProxyResult({ statusCode: 200, body: 'AP8BgA==', isBase64Encoded: true })?.body.toString()).toBe('AP8BgA==');
    });

    it('passes a body as text unless isBase64Encoded is exactly true', () => {
      expect(fromProxyResult({ statusCode: 200, body: 'AP8B', isBase64Encoded: false })?.body.toString('utf8')).toBe('AP8B');
      expect(fromProxyResult({ statusCode: 200, body: 'AP8B', isBase64Encoded: 'true' })?.body.toString('utf8')).toBe('AP8B');
    });

    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['a string', 'ok'],
      ['a number', 200],
      ['an array', [200]],
      ['an object without a status code', { body: 'ok' }],
      ['a string status code', { statusCode: '200' }],
      ['a fractional status code', { statusCode: 200.5 }],
      ['a status code under 100', { statusCode: 99 }],
      ['a status code over 599', { statusCode: 600 }],
      ['a NaN status code', { statusCode: Number.NaN }],
      ['an object body', { statusCode: 200, body: { a: 1 } }],
      ['a number body', { statusCode: 200, body: 42 }],
      ['headers that are a string', { statusCode: 200, headers: 'content-type: text/plain' }],
      ['multiValueHeaders that are a string', { statusCode: 200, multiValueHeaders: 'x' }],
      ['a multi-value header that is not an array', { statusCode: 200, multiValueHeaders: { 'Set-Cookie': 'a=1' } }],
    ])('returns undefined for %s', (_what, value) => {
      expect(fromProxyResult(value)).toBeUndefined();
    });
  });

  describe('BAD_GATEWAY and GATEWAY_TIMEOUT', () => {
    it('answers 502 with API Gateway\'s JSON message', () => {
      expect(BAD_GATEWAY.status).toBe(502);
      expect(BAD_GATEWAY.headers).toEqual([['content-type', 'application/json']]);
      expect(JSON.parse(BAD_GATEWAY.body.toString('utf8'))).toEqual({ message: 'Internal server error' });
    });

    it('answers 504 with API Gateway\'s JSON message', () => {
      expect(GATEWAY_TIMEOUT.status).toBe(504);
      expect(GATEWAY_TIMEOUT.headers).toEqual([['content-type', 'application/json']]);
      expect(JSON.parse(GATEWAY_TIMEOUT.body.toString('utf8'))).toEqual({ message: 'Endpoint request timed out' });
    });
  });
});

// ---------------------------------------------------------------------------
// sqs-event-source.ts
// ---------------------------------------------------------------------------

describe('sqs-event-source', () => {
  describe('failedMessageIds', () => {
    const batch = [message('a'), message('b'), message('c')];
    const all = new Set(['a', 'b', 'c']);

    it.each<[string, InvocationResult]>([
      ['a thrown error', { outcome: 'error', error: new Error('boom'), durationMs: 1 }],
      ['a timeout', { outcome: 'timeout', error: new Error('timed out'), durationMs: 1 }],
    ])('fails the whole batch after %s', (_what, result) => {
      expect(failedMessageIds(result, batch)).toEqual(all);
    });

    it.each<[string, unknown]>([
      ['no response', undefined],
      ['a null response', null],
      ['an empty response', {}],
      ['undefined batchItemFailures', { batchItemFailures: undefined }],
      ['null batchItemFailures', { batchItemFailures: null }],
      ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ])('fails nothing after %s', (_what, value) => {
      expect(failedMessageIds(ok(value), batch)).toEqual(new Set());
    });

    it('fails only the messages the response lists', () => {
      expect(failedMessageIds(ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), batch)).toEqual(new Set(['b']));
      expect(failedMessageIds(ok({ batchItemFailures: [{ itemIdentifier: 'c' }, { itemIdentifier: 'a' }] }), batch)).toEqual(
        new Set(['a', 'c']),
      );
    });

    it.each<[string, unknown]>([
      ['an id not in the batch', [{ itemIdentifier: 'b' }, { itemIdentifier: 'zzz' }]],
      ['an empty id', [{ itemIdentifier: '' }]],
      ['a numeric id', [{ itemIdentifier: 1 }]],
      ['a null id', [{ itemIdentifier: null }]],
      ['an entry without itemIdentifier', [{ id: 'b' }]],
      ['a null entry', [null]],
      ['a bare id instead of an entry', ['b']],
    ])('fails the whole batch for %s', (_what, batchItemFailures) => {
      expect(failedMessageIds(ok({ batchItemFailures }), batch)).toEqual(all);
    });

    it.each<[string, unknown]>([
      ['a string', 'b'],
      ['an object', { itemIdentifier: 'b' }],
      ['a number', 1],
    ])('fails the whole batch when batchItemFailures is %s', (_what, batchItemFailures) => {
      expect(failedMessageIds(ok({ batchItemFailures }), batch)).toEqual(all);
    });
  });
});

// ---------------------------------------------------------------------------
// stream-event-source.ts
// ---------------------------------------------------------------------------

describe('stream-event-source', () => {
  describe('firstFailedIndex', () => {
    const records = [streamRecord('100'), streamRecord('200'), streamRecord('300')];

    it.each<[string, unknown]>([
      ['no response', undefined],
      ['a null response', null],
      ['an empty response', {}],
      ['null batchItemFailures', { batchItemFailures: null }],
      ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ])('reports success for %s', (_what, value) => {
      expect(firstFailedIndex(value, records)).toBeUndefined();
    });

    it('returns the index of the only failed sequence number', () => {
      expect(firstFailedIndex({ batchItemFailures: [{ itemIdentifier: '300' }] }, records)).toBe(2);
      expect(firstFailedIndex({ batchItemFailures: [{ itemIdentifier: '100' }] }, records)).toBe(0);
    });

    it('returns the index of the earliest failed sequence number, whatever the order listed', () => {
      expect(firstFailedIndex({ batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] }, records)).toBe(1);
    });

    it.each<[string, unknown]>([
      ['an unknown sequence number', { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '999' }] }],
      ['an empty sequence number', { batchItemFailures: [{ itemIdentifier: '' }] }],
      ['a numeric sequence number', { batchItemFailures: [{ itemIdentifier: 200 }] }],
      ['an entry without itemIdentifier', { batchItemFailures: [{}] }],
      ['a null entry', { batchItemFailures: [null] }],
      ['a non-array batchItemFailures', { batchItemFailures: { itemIdentifier: '200' } }],
      ['a string batchItemFailures', { batchItemFailures: '200' }],
    ])('retries from the start of the batch for %s', (_what, value) => {
      expect(firstFailedIndex(value, records)).toBe(0);
    });

    it('does not match a missing itemIdentifier to a record without a sequence number', () => {
      const withoutSequence: StreamRecord[] = [streamRecord('100'), { eventID: 'no-seq', dynamodb: {} }];
      expect(firstFailedIndex({ batchItemFailures: [{}] }, withoutSequence)).toBe(0);
    });
  });
});
