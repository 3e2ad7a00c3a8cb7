/**
 * The vertical slice, end to end through the emulators with Ferry's own
 * declaration and handlers: an HTTP request records a ping and enqueues a job;
 * the SQS-fed worker marks it processed in DynamoDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { localClients } from '../../lib/local/local-clients.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  // Ferry's app as deployed: the synthesized bundles, each function in sandboxes of its own.
  runtime = await startTestRuntime(undefined, { code: 'bundles' });
});
afterAll(async () => {
  await runtime?.stop();
});

interface PingAnswer {
  ping: { id: string; status: string; message: string; processedAt?: string; jobId?: string; attempts?: number };
  jobId: string;
}

describe('ping slice', () => {
  it('answers GET /health', async () => {
    const response = await fetch(`${runtime.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'ferry' });
  });

  it('runs the job a POST enqueues and shows it processed, in the API, the stats and the table', async () => {
    const before = await runtime.stats();
    const created = await fetch(`${runtime.url}/pings`, { method: 'POST', body: JSON.stringify({ message: 'hello' }) });
    expect(created.status).toBe(202);
    const { ping, jobId } = (await created.json()) as PingAnswer;
    expect(ping).toMatchObject({ status: 'queued', message: 'hello' });
    // Under the stage, as the deployed API answers (the event is the same when asked at the root).
    expect(created.headers.get('location')).toBe(`/prod/pings/${ping.id}`);

    const processed = await eventually('the ping to be processed', async () => {
      const answer = (await (await fetch(`${runtime.url}/pings/${ping.id}`)).json()) as PingAnswer;
      return answer.ping.status === 'processed' ? answer.ping : undefined;
    });
    expect(processed).toMatchObject({ jobId, attempts: 1, message: 'hello' });

    // The event source deletes the message once the worker's invocation returns, just after the write.
    const after = await eventually('the message to be deleted', async () => {
      const stats = await runtime.stats();
      return (stats.queues.io?.deleted ?? 0) > (before.queues.io?.deleted ?? 0) ? stats : undefined;
    });
    expect((after.queues.io?.sent ?? 0) - (before.queues.io?.sent ?? 0)).toBe(1);
    expect((after.queues.io?.received ?? 0) - (before.queues.io?.received ?? 0)).toBe(1);
    expect((after.queues.io?.deleted ?? 0) - (before.queues.io?.deleted ?? 0)).toBe(1);
    expect((after.functions.ioWorker?.invocations ?? 0) - (before.functions.ioWorker?.invocations ?? 0)).toBe(1);
    expect(after.functions.ioWorker?.errors).toBe(0);

    const clients = localClients(runtime.endpoints);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: runtime.resources.tables.state?.name, Key: { pk: { S: `PING#${ping.id}` }, sk: { S: 'PING' } } }),
    );
    clients.destroy();
    expect(Item?.status).toEqual({ S: 'processed' });
    expect(Number(Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
  });

  it('answers 400 naming the problem for a malformed body, and enqueues nothing', async () => {
    const before = (await runtime.stats()).queues.io?.sent;
    const notJson = await fetch(`${runtime.url}/pings`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: { code: 'HTTP_400', message: 'request body is not valid JSON' } });
    const badMessage = await fetch(`${runtime.url}/pings`, { method: 'POST', body: JSON.stringify({ message: 42 }) });
    expect(badMessage.status).toBe(400);
    expect(((await badMessage.json()) as { error: { message: string } }).error.message).toMatch(/"message" must be a string of at most 200 characters/);
    expect((await runtime.stats()).queues.io?.sent).toBe(before);
  });

  it('answers 404 for a ping that does not exist', async () => {
    const response = await fetch(`${runtime.url}/pings/00000000-0000-0000-0000-000000000000`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('no ping 00000000-0000-0000-0000-000000000000');
  });
});
