/** Conformance of the lease store against DynamoDB Local, races included. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { millis, seconds } from '../../lib/app/duration.js';
import { documentClient } from '../../lib/aws/clients.js';
import { tableName } from '../../lib/app/resource-env.js';
import { fencedCondition, LeaseLostError, LeaseStore, LockHeldError, withLock } from '../../lib/coordination/lease.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { jobsApp } from '../fixtures/jobs-app.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
});
afterAll(async () => {
  await runtime?.stop();
});

/** A store whose clock the test moves. */
function clocked(start = Date.now()) {
  const clock = { now: start };
  return { clock, store: new LeaseStore({ now: () => clock.now }) };
}

/** A write to a protected item, fenced by `token`. */
async function fencedWrite(item: string, token: number, value: string): Promise<void> {
  const fence = fencedCondition(token);
  await documentClient().send(
    new PutCommand({
      TableName: tableName('state'),
      Item: { pk: `PROTECTED#${item}`, sk: 'X', value, fence: token },
      ConditionExpression: fence.ConditionExpression,
      ExpressionAttributeValues: fence.ExpressionAttributeValues,
    }),
  );
}

describe('LeaseStore.acquire', () => {
  it('gives the lock to exactly one of 200 concurrent acquirers', async () => {
    const key = randomUUID();
    const store = new LeaseStore();
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => store.acquire(key, seconds(30), `worker-${i}`)));
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(losers.every((o) => o.reason instanceof LockHeldError)).toBe(true);
  });

  it('fails fast with an error naming the holder and its lease end', async () => {
    const key = randomUUID();
    const { clock, store } = clocked(Date.parse('2026-01-01T00:00:00Z'));
    await store.acquire(key, seconds(30), 'alice');
    clock.now += 1_000;
    await expect(store.acquire(key, seconds(30), 'bob')).rejects.toThrow(`lock "${key}" is held by alice until 2026-01-01T00:00:30.000Z`);
  });

  it('hands out a larger fencing token at every acquisition, also after a lease expired', async () => {
    const key = randomUUID();
    const { clock, store } = clocked();
    const first = await store.acquire(key, seconds(10), 'a');
    await store.release(first);
    const second = await store.acquire(key, seconds(10), 'b');
    clock.now += 11_000; // b's lease ends without a release
    const third = await store.acquire(key, seconds(10), 'c');
    expect([first.token, second.token, third.token]).toEqual([first.token, first.token + 1, first.token + 2]);
  });
});

describe('a holder whose lease ended', () => {
  it('can neither extend nor release the lock once it lapsed, and its fenced writes are rejected after a newer holder wrote', async () => {
    const key = randomUUID();
    const item = randomUUID();
    const { clock, store } = clocked();
    const old = await store.acquire(key, seconds(5), 'slow-worker');
    await fencedWrite(item, old.token, 'old holder, in time');
    clock.now += 6_000; // the slow worker froze past its lease
    await expect(store.extend(old, seconds(5))).rejects.toThrow(LeaseLostError);
    const fresh = await store.acquire(key, seconds(5), 'new-worker');
    await fencedWrite(item, fresh.token, 'new holder');
    await expect(fencedWrite(item, old.token, 'old holder, late')).rejects.toThrow(/conditional request failed/i);
    expect(await store.release(old)).toBe(false);
    expect(await store.release(fresh)).toBe(true);
  });
});

describe('withLock', () => {
  it('waits, polling with backoff, until the holder releases', async () => {
    const key = randomUUID();
    const order: string[] = [];
    const first = withLock(key, { lease: seconds(5) }, async () => {
      order.push('first start');
      await new Promise((r) => setTimeout(r, 300));
      order.push('first end');
    });
    await new Promise((r) => setTimeout(r, 50));
    await withLock(key, { lease: seconds(5), wait: seconds(5) }, async () => {
      order.push('second');
    });
    await first;
    expect(order).toEqual(['first start', 'first end', 'second']);
  });

  it('gives up after its wait with LockHeldError', async () => {
    const key = randomUUID();
    const store = new LeaseStore();
    await store.acquire(key, seconds(30), 'holder');
    const started = Date.now();
    await expect(withLock(key, { lease: seconds(5), wait: millis(300), store }, async () => 'never')).rejects.toThrow(/is held by holder/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('heartbeats so a run longer than its lease keeps the lock, and releases it afterwards', async () => {
    const key = randomUUID();
    const store = new LeaseStore();
    const during = await withLock(key, { lease: millis(600), heartbeat: millis(150), store }, async (lock) => {
      await new Promise((r) => setTimeout(r, 1_500));
      const contender = await store.acquire(key, seconds(1), 'contender').then(() => 'acquired', (e: unknown) => (e as Error).name);
      return { contender, aborted: lock.signal.aborted };
    });
    expect(during).toEqual({ contender: 'LockHeldError', aborted: false });
    await expect(store.acquire(key, seconds(1), 'after')).resolves.toMatchObject({ owner: 'after' });
  });
});
