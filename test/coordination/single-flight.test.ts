/** Conformance of single-flight computations against DynamoDB Local. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seconds } from '../../lib/app/duration.js';
import { FlightLostError, SingleFlight, type FlightClaim, type FlightPolicy } from '../../lib/coordination/single-flight.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { CallCounter } from '../../bench/call-counter.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
});
afterAll(async () => {
  await runtime?.stop();
});

const policy: FlightPolicy = { freshFor: seconds(60), staleFor: seconds(600), queuedLease: seconds(30), runLease: seconds(30), failureCooldown: seconds(20) };

function clocked(start = Date.now()) {
  const clock = { now: start };
  return { clock, flight: new SingleFlight({ now: () => clock.now }) };
}

/** Requests `key`, recording the claims that would have been enqueued. */
function requester(flight: SingleFlight, key: string, claims: FlightClaim[]) {
  return () => flight.request(key, policy, async (claim) => void claims.push(claim));
}

async function refresh(flight: SingleFlight, claim: FlightClaim, result: unknown): Promise<void> {
  expect(await flight.start(claim, policy)).toBe(true);
  await flight.complete(claim, policy, result);
}

describe('SingleFlight.request', () => {
  it('enqueues exactly one job for 1,000 concurrent cold requests; every other request is told it is pending', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const flight = new SingleFlight();
    const answers = await Promise.all(Array.from({ length: 1_000 }, requester(flight, key, claims)));
    expect(claims).toHaveLength(1);
    expect(answers.filter((a) => a.state === 'pending' && a.claimed)).toHaveLength(1);
    expect(answers.every((a) => a.state === 'pending' && a.phase === 'queued' && a.jobId === claims[0]?.jobId)).toBe(true);
  });

  it('answers a fresh result with one read and no write', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const flight = new SingleFlight();
    await requester(flight, key, claims)();
    await refresh(flight, claims[0] as FlightClaim, { count: 42 });
    const calls = new CallCounter();
    const answer = await requester(flight, key, claims)();
    expect(answer).toMatchObject({ state: 'ready', result: { count: 42 }, stale: false, refreshing: false });
    expect(calls.get('dynamodb:GetItem')).toBe(1);
    expect(calls.dynamoWrites()).toBe(0);
    expect(claims).toHaveLength(1);
  });

  it('costs three writes per refresh: the claim, the start and the result', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const flight = new SingleFlight();
    const calls = new CallCounter();
    await requester(flight, key, claims)();
    await refresh(flight, claims[0] as FlightClaim, 1);
    expect(calls.dynamoWrites()).toBe(3);
  });

  it('serves the expired result, marked stale, while exactly one refresh runs', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    await refresh(flight, claims[0] as FlightClaim, 'old');
    clock.now += 61_000; // past freshFor, inside staleFor
    const answers = await Promise.all(Array.from({ length: 50 }, requester(flight, key, claims)));
    expect(claims).toHaveLength(2);
    expect(answers.every((a) => a.state === 'ready' && a.result === 'old' && a.stale && a.refreshing)).toBe(true);
    await refresh(flight, claims[1] as FlightClaim, 'new');
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'ready', result: 'new', stale: false });
  });

  it('gives up a claim whose enqueue failed: the next request claims again at once, with a newer token', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { flight } = clocked();
    await expect(flight.request(key, policy, () => Promise.reject(new Error('SQS unreachable')))).rejects.toThrow('SQS unreachable');
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', claimed: true });
    expect(claims.map((c) => c.token)).toEqual([2]);
  });

  it('re-sends the job of a claim left queued by a request that died, once redriveAfter passes, one request per interval', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    // Nothing picks the job up (its send never happened): a request within the interval sends nothing.
    clock.now += 5_000;
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', claimed: false });
    expect(claims).toHaveLength(1);
    clock.now += 6_000;
    await Promise.all([requester(flight, key, claims)(), requester(flight, key, claims)(), requester(flight, key, claims)()]);
    // The same job (same id and token) is sent again, once.
    expect(claims).toHaveLength(2);
    expect(claims[1]).toEqual(claims[0]);
  });

  it('does not re-send a claim queued again for its retry: the retry waits for its backoff', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    const claim = claims[0] as FlightClaim;
    expect(await flight.start(claim, policy)).toBe(true);
    await flight.fail(claim, policy, { name: 'Error', message: 'try again' }, false, 20_000);
    clock.now += 11_000;
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', phase: 'queued', claimed: false });
    expect(claims).toHaveLength(1);
  });

  it('heals a claim whose run died: once its lease lapses the next request claims again with a newer token', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    expect(await flight.start(claims[0] as FlightClaim, policy)).toBe(true);
    clock.now += 31_000;
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', claimed: true });
    expect(claims.map((c) => c.token)).toEqual([1, 2]);
  });

  it('rejects the result of a run whose lease lapsed and whose key was claimed again', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    const first = claims[0] as FlightClaim;
    expect(await flight.start(first, policy)).toBe(true);
    clock.now += 31_000; // the run froze past its lease
    await requester(flight, key, claims)();
    const second = claims[1] as FlightClaim;
    expect(second.token).toBeGreaterThan(first.token);
    await expect(flight.complete(first, policy, 'late')).rejects.toThrow(FlightLostError);
    expect(await flight.start(first, policy)).toBe(false);
    await refresh(flight, second, 'current');
    expect((await flight.read(key))?.result).toBe('current');
  });

  it('refuses a duplicate start of the same claim', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const flight = new SingleFlight();
    await requester(flight, key, claims)();
    const starts = await Promise.all(Array.from({ length: 20 }, () => flight.start(claims[0] as FlightClaim, policy)));
    expect(starts.filter(Boolean)).toHaveLength(1);
  });

  it('stores a final failure with its error, claims nothing during the cool-down, and claims again after it', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    const claim = claims[0] as FlightClaim;
    await flight.start(claim, policy);
    await flight.fail(claim, policy, { name: 'ReportError', message: 'the warehouse is down', code: 'UPSTREAM' }, true);
    expect(await requester(flight, key, claims)()).toMatchObject({
      state: 'failed',
      error: { name: 'ReportError', message: 'the warehouse is down', code: 'UPSTREAM' },
      retryAt: clock.now + 20_000,
    });
    expect(claims).toHaveLength(1);
    clock.now += 21_000;
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', claimed: true });
    expect(claims).toHaveLength(2);
  });

  it('keeps the claim queued after a failed attempt that will be retried', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const flight = new SingleFlight();
    await requester(flight, key, claims)();
    const claim = claims[0] as FlightClaim;
    await flight.start(claim, policy);
    await flight.fail(claim, policy, { name: 'Error', message: 'timeout talking to the database' }, false, 2_000);
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', phase: 'queued', claimed: false });
    expect(await flight.start(claim, policy)).toBe(true);
  });

  it('ignores an item whose TTL passed but which DynamoDB has not deleted yet', async () => {
    const key = randomUUID();
    const claims: FlightClaim[] = [];
    const { clock, flight } = clocked();
    await requester(flight, key, claims)();
    await refresh(flight, claims[0] as FlightClaim, 'ancient');
    clock.now += 60_000 + 600_000 + 1_000; // past freshFor and staleFor: the TTL has passed
    expect(await flight.read(key)).toBeUndefined();
    expect(await requester(flight, key, claims)()).toMatchObject({ state: 'pending', claimed: true });
  });
});
