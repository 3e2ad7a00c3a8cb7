/** DynamoDB Streams → Lambda in the local runtime, against DynamoDB Local's real stream. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localClients, type LocalClients } from '../../lib/local/local-clients.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { recorder } from '../fixtures/recorder.js';
import { testApp } from '../fixtures/test-app.js';

let runtime: LocalRuntime;
let clients: LocalClients;

beforeAll(async () => {
  runtime = await startTestRuntime(testApp);
  clients = localClients(runtime.endpoints);
});

afterAll(async () => {
  clients?.destroy();
  await runtime?.stop();
});

async function put(pk: string, sk: string, extra: Record<string, { BOOL: boolean } | { S: string }> = {}): Promise<void> {
  await clients.dynamodb.send(
    new PutItemCommand({ TableName: runtime.resources.tables.events?.name, Item: { pk: { S: pk }, sk: { S: sk }, ...extra } }),
  );
}

function recordsFor(pk: string) {
  return recorder().streamBatches.flatMap((b) => b.records.filter((r) => JSON.stringify(r.keys).includes(pk)));
}

describe('StreamEventSource', () => {
  it('invokes the function with INSERT records carrying keys and new images, in write order', async () => {
    const pk = randomUUID();
    for (const sk of ['a', 'b', 'c']) await put(pk, sk);
    const records = await eventually('three stream records', async () => {
      const r = recordsFor(pk);
      return r.length >= 3 ? r : undefined;
    });
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT']);
    expect(records.map((r) => (r.keys as { sk: { S: string } }).sk.S)).toEqual(['a', 'b', 'c']);
    expect(records[0]?.newImage).toEqual({ pk: { S: pk }, sk: { S: 'a' } });
  });

  it('reports an overwrite as MODIFY', async () => {
    const pk = randomUUID();
    await put(pk, 'x', { v: { S: '1' } });
    await put(pk, 'x', { v: { S: '2' } });
    const records = await eventually('two stream records', async () => {
      const r = recordsFor(pk);
      return r.length >= 2 ? r : undefined;
    });
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
  });

  it('retries from the failed record, then skips it once its retry attempts are spent', async () => {
    const before = (await runtime.stats()).streams.events?.skippedRecords ?? 0;
    const pk = randomUUID();
    await put(pk, 'poison', { poison: { BOOL: true } });
    await eventually('the poison record to be skipped', async () => {
      const skipped = (await runtime.stats()).streams.events?.skippedRecords ?? 0;
      return skipped > before ? skipped : undefined;
    });
    // retryAttempts is 1: the first attempt and one retry.
    expect(recordsFor(pk).filter((r) => r.eventName === 'INSERT')).toHaveLength(2);
  });
});
