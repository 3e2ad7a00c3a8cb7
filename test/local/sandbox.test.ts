/**
 * Sandboxes, as Lambda keeps execution environments: the fixture app's
 * synthesized bundles, each function in worker threads of its own with
 * exactly its environment, warm between invocations, terminated on timeout,
 * with the IAM check inside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { localClients, type LocalClients } from '../../lib/local/local-clients.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

let runtime: LocalRuntime;
let clients: LocalClients;
const logged: string[] = [];
const output: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime(testApp, { code: 'bundles', log: (line) => void logged.push(line), functionOutput: (line) => void output.push(line) });
  clients = localClients(runtime.endpoints);
}, 120_000);
afterAll(async () => {
  clients?.destroy();
  await runtime?.stop();
});

interface Echo {
  served: number;
  ferryVariables: string[];
  lambdaName: string;
}

const echo = async () => (await (await fetch(`${runtime.url}/echo/plain`)).json()) as Echo;

describe('a sandboxed function', () => {
  it("sees exactly its own environment, not the other functions'", async () => {
    const answer = await echo();
    // http uses only the events table; batcher consumes the work queue, whose variables http must not see.
    expect(answer.ferryVariables).toEqual(['FERRY_TABLE_EVENTS']);
    expect(Object.keys(runtime.functions.batcher?.environment ?? {})).toContain('FERRY_QUEUE_WORK_URL');
    expect(Object.keys(runtime.environment)).toContain('FERRY_QUEUE_WORK_URL');
    expect(answer.lambdaName).toMatch(/^t-[0-9a-f]{8}-http$/);
  });

  it('has its stdout and stderr read as CloudWatch Logs gets them: Powertools entries with its Lambda context and its service, and plain text', async () => {
    const { requestId } = (await (await fetch(`${runtime.url}/echo/log`)).json()) as { requestId: string };
    const entry = await eventually('the warning', async () => output.map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : {})).find((e) => e.function_request_id === requestId));
    expect(entry).toMatchObject({ level: 'WARN', message: 'fixture warning', detail: 'on stderr', service: testApp.name, function_name: expect.stringMatching(/^t-[0-9a-f]{8}-http$/) as string });
    await eventually('the plain line', async () => output.includes('plain text on stderr') || undefined);
    // The function logs at the runtime's level (warn under the tests): its debug entry is not written at all.
    expect(output.some((l) => l.includes('fixture detail'))).toBe(false);
  });

  it('keeps its module state between invocations of a warm sandbox, one invocation at a time', async () => {
    const before = runtime.sandboxes().http?.started ?? 0;
    const first = await echo();
    const second = await echo();
    expect(second.served).toBe(first.served + 1);
    expect(runtime.sandboxes().http?.started).toBe(before);
    // Requests that overlap need more sandboxes: each runs one invocation at a time.
    await Promise.all(Array.from({ length: 3 }, () => fetch(`${runtime.url}/echo/nap`)));
    expect(runtime.sandboxes().http?.live).toBeGreaterThanOrEqual(3);
  });

  it('is refused a call outside its deployed policy inside the sandbox', async () => {
    const response = await fetch(`${runtime.url}/echo/put-event`);
    expect(((await response.json()) as { name: string }).name).toBe('AccessDeniedException');
    expect(runtime.enforcement().iamDenied).toBeGreaterThanOrEqual(1);
    expect(logged.some((l) => l.startsWith('IAM: function "http" was refused dynamodb:PutItem'))).toBe(true);
  });

  it('is terminated when an invocation times out: its late write never happens, and the batch comes back to a new sandbox', async () => {
    const tag = `late-${Date.now()}`;
    const queue = runtime.resources.queues.work;
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: JSON.stringify({ tag, mode: 'late-write', ms: 1_500 }) }));
    // Two attempts, each terminated at 1 s: the batcher needed a new sandbox each time.
    await eventually('two timed-out attempts', async () => ((await runtime.stats()).functions.batcher?.timeouts ?? 0) >= 2 || undefined, 30_000);
    expect(runtime.sandboxes().batcher?.started).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1_000));
    const written = await clients.dynamodb.send(
      new QueryCommand({
        TableName: runtime.resources.tables.events?.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tag)',
        ExpressionAttributeValues: { ':pk': { S: 'late-write' }, ':tag': { S: tag } },
        ConsistentRead: true,
      }),
    );
    expect(written.Count).toBe(0);
    // Nothing was even attempted late: the thread was gone, so no call reached the checks either.
    expect(runtime.enforcement().lateCallsRefused).toBe(0);
  }, 40_000);
});
