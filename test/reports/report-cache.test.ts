/**
 * Fresh report results answered from the API sandbox's memory: no DynamoDB
 * read for a hit, never past `freshUntil`, never a stale, pending or failed
 * state, 304s from memory, the Cache-Control a browser or CDN keeps them by,
 * and the bound on what a sandbox keeps.
 *
 * Ferry's app as deployed (the synthesized bundles, the `api` function in
 * sandboxes of its own) on DynamoDB Local, reached through a proxy that counts
 * every request DynamoDB receives, by operation and key: the evidence of a
 * read is DynamoDB's, not the runtime's own account. Requests made one after
 * another go to the same warm sandbox (the pool hands out the one freed last),
 * as long as no other sandbox is still starting: the concurrent burst comes last.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchWriteCommand, PutCommand, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lib/aws/clients.js';
import { tableName } from '../../lib/app/resource-env.js';
import { MEMORY_CACHE_DEFAULTS, MemoryCache } from '../../lib/coordination/memory-cache.js';
import { FLIGHT_ITEM, SingleFlight, type FlightItem } from '../../lib/coordination/single-flight.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import { PageViewStore } from '../../app/reports/page-views.js';
import { canonicalKey } from '../../app/reports/report-params.js';
import type { SlowViewsResult } from '../../app/reports/slow-blog-views.js';
import { documentedDefaults } from '../helpers/documented-defaults.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

/** An HTTP proxy in front of DynamoDB Local that counts the requests passing through, by operation and partition key. */
class CountingProxy {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly seen: readonly { readonly operation: string; readonly pk: string | undefined }[],
  ) {}

  static async start(upstream: string): Promise<CountingProxy> {
    const target = new URL(upstream);
    const seen: { operation: string; pk: string | undefined }[] = [];
    const server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = String(incoming.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
        let pk: string | undefined;
        try {
          pk = (JSON.parse(body.toString('utf8')) as { Key?: { pk?: { S?: string } } }).Key?.pk?.S;
        } catch {
          pk = undefined;
        }
        seen.push({ operation, pk });
        const forwarded = httpRequest(
          { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forwarded.on('error', (error) => outgoing.destroy(error));
        forwarded.end(body);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    return new CountingProxy(server, `http://127.0.0.1:${address.port}`, seen);
  }

  /** How many requests so far, for `operation`, on the item whose partition key is `pk`. */
  count(operation: string, pk: string): number {
    return this.seen.filter((s) => s.operation === operation && s.pk === pk).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let proxy: CountingProxy;
let runtime: LocalRuntime;
const NOW = Date.now() - 60_000;

beforeAll(async () => {
  proxy = await CountingProxy.start(inject('emulators').dynamodbEndpoint);
});
afterAll(async () => {
  await proxy?.stop();
});

/** Ferry's app on a runtime of its own, its DynamoDB calls through the proxy. */
const startRuntime = (code: 'sources' | 'bundles') => startTestRuntime(undefined, { code, emulators: { ...inject('emulators'), dynamodbEndpoint: proxy.url } });

interface Answer {
  state: 'ready' | 'pending' | 'failed';
  result?: SlowViewsResult;
  jobId?: string;
  computedAt?: string;
  freshUntil?: string;
  stale?: boolean;
  refreshing?: boolean;
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET with exactly these headers (node:http adds none of fetch's cache headers). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${runtime.url}${path}`, { headers: { accept: 'application/json', ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => void (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json', ...headers } });
const getJson = async (path: string) => {
  const response = await get(path);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer };
};

/** The path and flight key of slow-blog-views with these parameters (the others at their defaults). */
function report(params: { days?: number; minResponseMs?: number }): { path: string; key: string; pk: string } {
  const canonical = { days: params.days ?? 30, minResponseMs: params.minResponseMs ?? 1000, urlContains: 'blog' };
  const key = canonicalKey('slow-blog-views', canonical);
  return { path: `/reports/slow-blog-views?days=${canonical.days}&minResponseMs=${canonical.minResponseMs}`, key, pk: FLIGHT_ITEM.pkOf(key) };
}

/** GetItem requests DynamoDB received for the flight item of `pk` while `run` ran. */
async function readsDuring(pk: string, run: () => Promise<void>): Promise<number> {
  const before = proxy.count('GetItem', pk);
  await run();
  return proxy.count('GetItem', pk) - before;
}

/** A flight item as a refresh leaves it, written straight to DynamoDB (the state a worker would have stored). */
function flightItem(key: string, fields: Partial<FlightItem> & Pick<FlightItem, 'phase'>): Record<string, unknown> {
  const expiresAt = Math.ceil((Date.now() + 3_600_000) / 1000);
  return { pk: FLIGHT_ITEM.pkOf(key), sk: FLIGHT_ITEM.sk, key, token: 1, jobId: `job-of-${key}`, [FLIGHT_ITEM.ttl]: expiresAt, ...fields };
}

const RESULT: SlowViewsResult = { count: 7, windowStart: NOW - 86_400_000, windowEnd: NOW, partitionsRead: 2 };

/** A ready result computed `ageMs` ago, fresh for `freshMs` more. */
function readyItem(key: string, freshMs: number, ageMs = 60_000): Record<string, unknown> {
  const now = Date.now();
  return flightItem(key, { phase: 'ready', result: RESULT, computedAt: now - ageMs, freshUntil: now + freshMs, staleUntil: now + 3_600_000 });
}

async function put(item: Record<string, unknown>): Promise<void> {
  await documentClient().send(new PutCommand({ TableName: tableName('state'), Item: item }));
}

describe("on Ferry's app as deployed (the api function in sandboxes)", () => {
  beforeAll(async () => {
    runtime = await startRuntime('bundles');
    await new PageViewStore().writeAll(generatePageViews({ rows: 1_000, days: 10, seed: 13, now: NOW }));
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  describe('GET /reports/{name} with a fresh result', () => {
    it('answers a hit from the sandbox that read it, with no DynamoDB read, the same answer DynamoDB gave', async () => {
      const { path, key, pk } = report({ days: 9 });
      expect((await get(path)).status).toBe(202);
      // Computed by the worker; the API has not yet read it ready.
      await eventually('the result', async () => ((await new SingleFlight().read(key))?.phase === 'ready' ? true : undefined));
      let first: Answer | undefined;
      expect(await readsDuring(pk, async () => void (first = (await getJson(path)).body))).toBe(1);
      expect(first).toMatchObject({ state: 'ready', stale: false, refreshing: false });
      const hits: Answer[] = [];
      const reads = await readsDuring(pk, async () => {
        for (let i = 0; i < 20; i++) hits.push((await getJson(path)).body);
      });
      expect(reads).toBe(0);
      expect(hits.every((hit) => JSON.stringify(hit) === JSON.stringify(first))).toBe(true);
    });

    it('answers a matching If-None-Match with 304 from memory, each representation with its own ETag', async () => {
      const { path, key, pk } = report({ days: 3 });
      await put(readyItem(key, 300_000));
      const json = await get(path);
      const html = await get(path, { accept: 'text/html' });
      const jsonTag = json.headers.get('etag') ?? '';
      const htmlTag = html.headers.get('etag') ?? '';
      expect(jsonTag).toMatch(/^"[\w-]+"$/);
      expect(htmlTag).toMatch(/^W\/"[\w-]+-html"$/);
      let answers: RawAnswer[] = [];
      // Sent as a browser revalidates a copy whose max-age ran out (fetch would add Cache-Control: no-cache, a reload's).
      const reads = await readsDuring(pk, async () => {
        answers = [
          await rawGet(path, { 'if-none-match': jsonTag }),
          await rawGet(path, { accept: 'text/html', 'if-none-match': htmlTag }),
          await rawGet(path, { 'if-none-match': `"other", ${jsonTag}` }),
          await rawGet(path, { accept: 'text/html', 'if-none-match': jsonTag }),
        ];
      });
      expect(reads).toBe(0);
      expect(answers.map((a) => a.status)).toEqual([304, 304, 304, 200]);
      expect(answers[0]?.body).toBe('');
      expect(answers[0]?.headers.etag).toBe(jsonTag);
      expect(answers[0]?.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    });

    it('lets any cache keep it until freshUntil: Cache-Control public, max-age the seconds still fresh, Vary Accept', async () => {
      const { path, key } = report({ days: 4 });
      await put(readyItem(key, 90_000));
      const fromDynamoDb = await get(path);
      const fromMemory = await get(path);
      for (const response of [fromDynamoDb, fromMemory]) {
        const maxAge = Number(/^public, max-age=(\d+)$/.exec(response.headers.get('cache-control') ?? '')?.[1]);
        const remaining = (Date.parse(((await response.json()) as Answer).freshUntil ?? '') - Date.now()) / 1000;
        expect(maxAge).toBeGreaterThanOrEqual(Math.floor(remaining) - 1);
        expect(maxAge).toBeLessThanOrEqual(Math.ceil(remaining));
        expect(response.headers.get('vary')).toBe('Accept');
      }
    });
  });

  describe('GET /reports/{name} at and after freshUntil, and in other states', () => {
    it('reads DynamoDB again once freshUntil has come, and answers the result stale while its refresh runs', async () => {
      const { path, key, pk } = report({ days: 5 });
      await put(readyItem(key, 3_000, 297_000));
      const fresh = await getJson(path);
      expect(fresh.body).toMatchObject({ state: 'ready', stale: false });
      expect(await readsDuring(pk, async () => void (await get(path)))).toBe(0);
      await new Promise((r) => setTimeout(r, Date.parse(fresh.body.freshUntil ?? '') - Date.now() + 50));
      let later: Awaited<ReturnType<typeof getJson>> | undefined;
      // This request reads the expired result and claims its refresh.
      expect(await readsDuring(pk, async () => void (later = await getJson(path)))).toBe(1);
      expect(later?.body).toMatchObject({ state: 'ready', stale: true, refreshing: true, computedAt: fresh.body.computedAt });
      expect(later?.headers.get('cache-control')).toBe('public, max-age=0');
    });

    it('reads DynamoDB for every request while the result is stale', async () => {
      const { path, key, pk } = report({ days: 6 });
      const now = Date.now();
      // Stale, with its refresh queued (a live claim): what every request finds until the refresh stores its result.
      await put(flightItem(key, { phase: 'queued', leaseUntil: now + 60_000, claimedAt: now, result: RESULT, computedAt: now - 400_000, freshUntil: now - 100_000, staleUntil: now + 3_000_000 }));
      const reads = await readsDuring(pk, async () => {
        for (let i = 0; i < 5; i++) {
          const answer = await getJson(path);
          expect(answer.body).toMatchObject({ state: 'ready', stale: true, refreshing: true });
          expect(answer.headers.get('cache-control')).toBe('public, max-age=0');
        }
      });
      expect(reads).toBe(5);
    });

    it.each([
      ['queued', 'queued'],
      ['running', 'running'],
    ] as const)('reads DynamoDB for every request while a refresh is pending (%s)', async (_name, phase) => {
      const { path, key, pk } = report({ days: phase === 'queued' ? 10 : 12 });
      const now = Date.now();
      await put(flightItem(key, { phase, leaseUntil: now + 60_000, claimedAt: now }));
      const statuses: number[] = [];
      const reads = await readsDuring(pk, async () => {
        for (let i = 0; i < 5; i++) {
          const answer = await getJson(path);
          statuses.push(answer.status);
          expect(answer.body).toMatchObject({ state: 'pending', phase });
          expect(answer.headers.get('cache-control')).toBe('no-store');
        }
      });
      expect(statuses).toEqual([202, 202, 202, 202, 202]);
      expect(reads).toBe(5);
    });

    it('reads DynamoDB for every request while the key is failed', async () => {
      const { path, key, pk } = report({ days: 7 });
      const now = Date.now();
      await put(flightItem(key, { phase: 'failed', lastError: { name: 'Error', message: 'the partitions could not be read', code: 'TEST' }, failedAt: now, retryAt: now + 60_000 }));
      const statuses: number[] = [];
      const reads = await readsDuring(pk, async () => {
        for (let i = 0; i < 3; i++) {
          const response = await get(path);
          statuses.push(response.status);
          expect(response.headers.get('cache-control')).toBe('no-store');
        }
      });
      expect(statuses).toEqual([500, 500, 500]);
      expect(reads).toBe(3);
    });

    it('keeps a fresh copy until freshUntil though DynamoDB changed, and forgets it in the sandbox that retries', async () => {
      const { path, key, pk } = report({ days: 8 });
      await put(readyItem(key, 300_000));
      const kept = (await getJson(path)).body;
      // The key fails behind this sandbox's back (as a refresh another sandbox forced could): "fresh" lets it keep its copy.
      const now = Date.now();
      await put(flightItem(key, { phase: 'failed', lastError: { name: 'Error', message: 'failed elsewhere' }, failedAt: now, retryAt: now + 60_000, jobId: 'the-failed-job' }));
      expect(await readsDuring(pk, async () => expect((await getJson(path)).body).toEqual(kept))).toBe(0);
      const retried = await fetch(`${runtime.url}${path.replace('slow-blog-views?', 'slow-blog-views/retry?')}`, { method: 'POST', headers: { accept: 'application/json' } });
      expect(retried.status).toBe(202);
      const claimed = ((await retried.json()) as Answer).jobId;
      // The retry's claim is what this sandbox answers now (pending, or its result if the refresh was quick).
      let after: Answer | undefined;
      expect(await readsDuring(pk, async () => void (after = (await getJson(path)).body))).toBe(1);
      expect(after?.jobId).toBe(claimed);
      expect(claimed).not.toBe(kept.jobId);
    });
  });

  describe('GET /reports/{name} asking caches to revalidate', () => {
    it.each([
      ['Cache-Control: no-cache', { 'cache-control': 'no-cache' }],
      ['Cache-Control: max-age=0 (a browser\'s reload)', { 'cache-control': 'max-age=0' }],
      ['Pragma: no-cache', { pragma: 'no-cache' }],
    ])('reads DynamoDB for a request with %s, so a forced refresh is seen at once', async (_name, headers) => {
      const { path, key, pk } = report({ days: 7, minResponseMs: 1000 + Object.keys(headers)[0]!.length + String(Object.values(headers)[0]).length });
      await put(readyItem(key, 300_000));
      const kept = (await getJson(path)).body;
      expect(kept).toMatchObject({ state: 'ready', stale: false });
      // Forced stale behind this sandbox's back (the console's Force refresh): a plain hit keeps the fresh copy...
      const now = Date.now();
      await put(flightItem(key, { phase: 'ready', result: RESULT, computedAt: now - 60_000, freshUntil: now, staleUntil: now + 3_600_000 }));
      expect(await readsDuring(pk, async () => expect((await getJson(path)).body).toEqual(kept))).toBe(0);
      // ...and a request asking to revalidate reads DynamoDB: stale, its refresh claimed.
      let revalidated: Answer | undefined;
      expect(await readsDuring(pk, async () => void (revalidated = (await (await get(path, headers)).json()) as Answer))).toBeGreaterThanOrEqual(1);
      expect(revalidated).toMatchObject({ state: 'ready', stale: true, refreshing: true });
    });
  });

  describe('GET /reports/{name} on a reload', () => {
    it('reads DynamoDB for max-age=0 with the If-None-Match of the copy the browser holds, and answers the stale result, not 304', async () => {
      const { path, key, pk } = report({ days: 6, minResponseMs: 1777 });
      await put(readyItem(key, 300_000));
      const first = await getJson(path);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).not.toBe('');
      const now = Date.now();
      await put(flightItem(key, { phase: 'ready', result: RESULT, computedAt: now - 60_000, freshUntil: now, staleUntil: now + 3_600_000 }));
      // Pragma is ignored beside Cache-Control (RFC 9111 5.4): a plain conditional request keeps the copy.
      expect((await rawGet(path, { 'if-none-match': etag, pragma: 'no-cache', 'cache-control': 'max-age=60' })).status).toBe(304);
      let answer: RawAnswer | undefined;
      expect(await readsDuring(pk, async () => void (answer = await rawGet(path, { 'cache-control': 'max-age=0', 'if-none-match': etag })))).toBeGreaterThanOrEqual(1);
      expect(answer?.status).toBe(200);
      expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ state: 'ready', stale: true });
    });
  });

  describe('the sandbox memory bound', () => {
    it(`keeps at most ${MEMORY_CACHE_DEFAULTS.maxEntries} results: the least recently used is read from DynamoDB again`, async () => {
      const count = MEMORY_CACHE_DEFAULTS.maxEntries + 1;
      const keys = Array.from({ length: count }, (_, i) => report({ days: 11, minResponseMs: 100_000 + i }));
      for (let i = 0; i < keys.length; i += 25) {
        let requests: BatchWriteCommandInput['RequestItems'] = { [tableName('state')]: keys.slice(i, i + 25).map(({ key }) => ({ PutRequest: { Item: readyItem(key, 300_000) } })) };
        while (requests !== undefined && Object.keys(requests).length > 0) requests = (await documentClient().send(new BatchWriteCommand({ RequestItems: requests }))).UnprocessedItems;
      }
      // One after another, so one sandbox reads them all, in order.
      for (const { path } of keys) expect((await get(path)).status).toBe(200);
      const [oldest, newest] = [keys[0], keys[count - 1]];
      if (oldest === undefined || newest === undefined) throw new Error('no keys');
      expect(await readsDuring(newest.pk, async () => void (await get(newest.path)))).toBe(0);
      expect(await readsDuring(oldest.pk, async () => void (await get(oldest.path)))).toBe(1);
    }, 120_000);
  });

  // Last: a burst starts sandboxes that may come up after it, and the tests above count on one warm sandbox.
  describe('GET /reports/{name} under a burst', () => {
    it('costs each sandbox at most one read under a burst of concurrent hits', async () => {
      const { path, key, pk } = report({ days: 2 });
      await put(readyItem(key, 300_000));
      const reads = await readsDuring(pk, async () => {
        const statuses = await Promise.all(Array.from({ length: 100 }, async () => (await get(path)).status));
        expect(statuses.every((s) => s === 200)).toBe(true);
      });
      expect(reads).toBeGreaterThanOrEqual(1);
      expect(reads).toBeLessThanOrEqual(runtime.sandboxes().api?.live ?? 0);
    });
  });
});

describe('with the functions in this process, one runtime after another (the tests\' in-process mode)', () => {
  it("answers each runtime from its own state table, never from the copy an earlier runtime's table gave", async () => {
    const { path, key } = report({ days: 1 });
    const counts: number[] = [];
    for (const count of [1, 2]) {
      runtime = await startRuntime('sources');
      try {
        await put({ ...readyItem(key, 300_000), result: { ...RESULT, count } });
        counts.push(((await getJson(path)).body.result as SlowViewsResult).count);
      } finally {
        await runtime.stop();
      }
    }
    expect(counts).toEqual([1, 2]);
  });
});

describe('MemoryCache', () => {
  const clock = { now: 1_000_000 };
  const cache = (options: { maxEntries?: number; maxBytes?: number } = {}) => new MemoryCache<string>({ ...options, now: () => clock.now });

  it('answers a value until its end, and never at or after it', () => {
    const c = cache();
    expect(c.set('a', 'A', clock.now + 1_000, 1)).toBe(true);
    clock.now += 999;
    expect(c.get('a')).toBe('A');
    clock.now += 1;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
  });

  it('keeps nothing whose end has come, or that is alone over the byte bound', () => {
    const c = cache({ maxBytes: 100 });
    expect(c.set('past', 'x', clock.now, 1)).toBe(false);
    expect(c.set('big', 'x', clock.now + 1_000, 101)).toBe(false);
    expect(c.size).toBe(0);
  });

  it('drops the least recently used entry beyond maxEntries (a hit makes an entry recent)', () => {
    const c = cache({ maxEntries: 2 });
    c.set('a', 'A', clock.now + 1_000, 1);
    c.set('b', 'B', clock.now + 1_000, 1);
    expect(c.get('a')).toBe('A');
    c.set('c', 'C', clock.now + 1_000, 1);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual(['A', undefined, 'C']);
    expect(c.size).toBe(2);
  });

  it('drops the least recently used entries beyond maxBytes, and entries past their end before any', () => {
    const c = cache({ maxBytes: 10 });
    c.set('ending', 'E', clock.now + 10, 4);
    c.set('a', 'A', clock.now + 1_000, 3);
    c.set('b', 'B', clock.now + 1_000, 3);
    clock.now += 10;
    // Room for 4 bytes: the entry past its end goes, though it is not the least recently used of the two left.
    expect(c.get('a')).toBe('A');
    c.set('c', 'C', clock.now + 1_000, 4);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual(['A', 'B', 'C']);
    expect(c.bytes).toBe(10);
    c.set('d', 'D', clock.now + 1_000, 5);
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual([undefined, undefined, 'C', 'D']);
    expect(c.bytes).toBeLessThanOrEqual(10);
  });

  it('replaces what a key held, and forgets a deleted key', () => {
    const c = cache();
    c.set('a', 'A', clock.now + 1_000, 5);
    c.set('a', 'A2', clock.now + 1_000, 7);
    expect(c.get('a')).toBe('A2');
    expect(c.bytes).toBe(7);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
    expect(c.bytes).toBe(0);
  });

  it('refuses bounds that hold nothing, naming the option', () => {
    expect(() => new MemoryCache({ maxEntries: 0 })).toThrow(/^maxEntries must be a whole number of at least 1 \(got 0\)$/);
    expect(() => new MemoryCache({ maxBytes: 1.5 })).toThrow(/^maxBytes must be a whole number of at least 1 \(got 1.5\)$/);
    expect(() => cache().set('a', 'A', clock.now + 1, -1)).toThrow(/^bytes must be a finite, non-negative size \(got -1\)$/);
  });

  it('documents the defaults it applies', () => {
    const docs = documentedDefaults('lib/coordination/memory-cache.ts');
    expect(docs.number('MemoryCacheOptions', 'maxEntries')).toBe(MEMORY_CACHE_DEFAULTS.maxEntries);
    expect(docs.text('MemoryCacheOptions', 'maxBytes')).toBe(`${MEMORY_CACHE_DEFAULTS.maxBytes / 1024 / 1024} MiB`);
  });
});
