/**
 * Workflows on the local runtime (fauxqs, DynamoDB Local, the real worker):
 * Celery's canonical canvas examples with their exact results, nesting,
 * duplicate deliveries, failures, the error callback, the deadline, cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { seconds } from '../../lib/app/duration.js';
import { sqsClient } from '../../lib/aws/clients.js';
import { queueUrl } from '../../lib/app/resource-env.js';
import { encodeEnvelope, newEnvelope } from '../../lib/jobs/envelope.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { chain, chord, chunks, group, map, s, si, starmap } from '../../lib/workflows/canvas.js';
import type { WorkflowView } from '../../lib/workflows/workflow-engine.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { add, addUnlessThirteen, big, echo, nap, onWorkflowError, runs, xsum } from '../fixtures/job-tasks.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { workflows } from '../fixtures/job-worker.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
});
afterAll(async () => {
  await runtime?.stop();
});

async function ended(workflowId: string, timeoutMs = 40_000): Promise<WorkflowView> {
  return eventually(`workflow ${workflowId} to end`, async () => {
    const view = await workflows.get(workflowId);
    return view.status === 'RUNNING' ? undefined : view;
  }, timeoutMs);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('canonical canvas examples', () => {
  it('a group of add(i, i) for i in 0..9 gives [0, 2, ..., 18]', async () => {
    const { workflowId } = await workflows.start(group(...range(10).map((i) => s(add, [i, i]))));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18] });
  });

  it('chain(add(2, 2), add(4), add(8)) gives 16', async () => {
    const { workflowId } = await workflows.start(chain(s(add, [2, 2]), s(add, [4]), s(add, [8])));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: 16 });
  });

  it('chord(add(i, i) for i in 0..9, xsum) gives 90, with the callback run once', async () => {
    const { workflowId } = await workflows.start(chord(range(10).map((i) => s(add, [i, i])), s(xsum)));
    const view = await ended(workflowId);
    expect(view).toMatchObject({ status: 'SUCCEEDED', result: 90, progress: { total: 11, succeeded: 11 } });
  });

  it('progress counts the members of each task, under a workflow id the caller chose', async () => {
    const workflowId = `chosen-${Date.now()}`;
    expect(await workflows.start(chord(range(4).map((i) => s(add, [i, i])), s(xsum)), { workflowId })).toEqual({ workflowId });
    await ended(workflowId);
    expect(await workflows.progress(workflowId)).toEqual({
      [add.name]: { total: 4, succeeded: 4, failed: 0, cancelled: 0 },
      [xsum.name]: { total: 1, succeeded: 1, failed: 0, cancelled: 0 },
    });
    expect(await workflows.progress('no-such-workflow')).toBeUndefined();
  });

  it('map and starmap apply a task over a list in one job', async () => {
    const mapped = await workflows.start(map(add, [[1, 1], [2, 2], [3, 3]]));
    expect(await ended(mapped.workflowId)).toMatchObject({ status: 'SUCCEEDED', result: [2, 4, 6] });
    const starred = await workflows.start(starmap(add, [[1, 2], [3, 4]]));
    expect(await ended(starred.workflowId)).toMatchObject({ status: 'SUCCEEDED', result: [3, 7] });
  });

  it('chunks of 10 over 1,000 pairs make 100 tasks whose results are the expected lists', async () => {
    const pairs = range(1000).map((i) => [i, i] as const);
    const canvas = chunks(add, pairs, 10);
    expect(canvas.members).toHaveLength(100);
    const { workflowId } = await workflows.start(canvas);
    const view = await ended(workflowId, 60_000);
    expect(view.status).toBe('SUCCEEDED');
    expect(view.result).toEqual(range(100).map((c) => range(10).map((j) => 2 * (c * 10 + j))));
    expect(view.progress).toEqual({ total: 100, succeeded: 100, failed: 0, cancelled: 0 });
  }, 90_000);
});

describe('nesting', () => {
  it('runs a chain of groups: each group gets the previous result, and a chord inside a chain', async () => {
    const canvas = chain(
      s(add, [1, 1]),
      group(s(add, [10]), s(add, [20])),
      s(xsum),
      chord([s(add, [100]), si(add, [0, 0])], s(xsum)),
    );
    const { workflowId } = await workflows.start(canvas);
    // 2 → [12, 22] → 34 → [134, 0] → 134
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: 134 });
  });
});

describe('exactness', () => {
  it('does not count a duplicate delivery of a group member twice', async () => {
    const { workflowId } = await workflows.start(chord([s(nap, [800]), s(add, [1, 1])], s(xsum)));
    // Deliver the nap member's message a second time, as SQS may.
    const member = await eventually('the nap member to be queued', async () => {
      const view = await workflows.get(workflowId);
      const node = view.tree.children[0]?.children[0];
      return node?.jobId ? node : undefined;
    });
    const duplicate = newEnvelope(nap.name, [800], { tracked: true, jobId: member.jobId ?? '', workflow: { workflowId, nodeId: member.id } });
    await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl('jobs'), MessageBody: encodeEnvelope(duplicate) }));
    const view = await ended(workflowId);
    expect(view).toMatchObject({ status: 'SUCCEEDED', result: 802 });
    expect(view.tree.children[0]).toMatchObject({ status: 'SUCCEEDED', result: [800, 2] });
  });

  it('fails the chord with the member error after its retries; the callback does not run; the error callback runs once', async () => {
    const { workflowId } = await workflows.start(chord([s(add, [1, 1]), s(addUnlessThirteen, [13, 1])], s(xsum)), {
      onError: s(onWorkflowError),
    });
    const view = await ended(workflowId);
    expect(view).toMatchObject({ status: 'FAILED', error: { task: 'test.add-unless-13', name: 'Error', message: '13 is unlucky' } });
    // The failure is recorded first; the members that never started are cancelled right after.
    await eventually('the callback to be cancelled', async () => ((await workflows.get(workflowId)).tree.children[1]?.status === 'CANCELLED' ? true : undefined));
    await eventually('the error callback', async () => (runs().byKey[`errback:${workflowId}`]?.length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(runs().byKey[`errback:${workflowId}`]).toHaveLength(1);
  });

  it('fails a workflow that passes its deadline instead of waiting forever, and cancels what had not started', async () => {
    const { workflowId } = await workflows.start(chain(s(nap, [4_000]), s(add, [1])), { deadline: seconds(2) });
    const view = await ended(workflowId);
    expect(view).toMatchObject({ status: 'FAILED', error: { name: 'WorkflowDeadlineError' } });
    await eventually('the second step to be cancelled', async () => ((await workflows.get(workflowId)).tree.children[1]?.status === 'CANCELLED' ? true : undefined));
  });

  it('cancels pending members when the workflow is cancelled', async () => {
    const { workflowId } = await workflows.start(chain(s(nap, [1_500]), s(add, [1])));
    expect(await workflows.cancel(workflowId)).toBe(true);
    const view = await workflows.get(workflowId);
    expect(view.status).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await workflows.get(workflowId)).tree.children[1]).toMatchObject({ status: 'CANCELLED' });
  });

  it("keeps a group's results in its members: a group whose results exceed one item succeeds, its result read from them", async () => {
    // Each member's result fits its node; the list of them would not fit one item.
    const { workflowId } = await workflows.start(group(s(big, [200_000]), s(big, [200_000])));
    const view = await ended(workflowId);
    expect(view.status).toBe('SUCCEEDED');
    expect((view.result as string[]).map((r) => r.length)).toEqual([200_000, 200_000]);
  });

  it("fails with an error naming SQS's limit when a chord callback's input (its group's results) is over 1 MiB", async () => {
    const { workflowId } = await workflows.start(chord([s(big, [380_000]), s(big, [380_000]), s(big, [380_000])], s(xsum)));
    const view = await ended(workflowId);
    expect(view).toMatchObject({ status: 'FAILED', error: { name: 'ResultsTooLargeError', nodeId: 'r.0' } });
    expect(view.error?.message).toMatch(/a group's results are over 1,048,576 bytes as JSON, more than the next step's message can carry/);
  });

  it('passes a group of groups its nested results: each inner group gives the list of its members', async () => {
    const { workflowId } = await workflows.start(chain(group(group(s(add, [1, 1]), s(add, [2, 2])), s(add, [3, 3])), s(echo)));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: [[2, 4], 6] });
  });

  it('counts a 250-member chord exactly across its counter shards, and runs the callback once', async () => {
    const { workflowId } = await workflows.start(chord(range(250).map((i) => s(add, [i, 1])), s(xsum)));
    const view = await ended(workflowId, 60_000);
    expect(view).toMatchObject({ status: 'SUCCEEDED', result: (250 * 249) / 2 + 250, progress: { total: 251, succeeded: 251 } });
  });

  it('reports progress as members finish', async () => {
    const { workflowId } = await workflows.start(group(...range(5).map((i) => s(add, [i, 1]))));
    const view = await ended(workflowId);
    expect(view.progress).toEqual({ total: 5, succeeded: 5, failed: 0, cancelled: 0 });
    expect(view.tree.children.map((c) => c.result)).toEqual([1, 2, 3, 4, 5]);
  });
});
