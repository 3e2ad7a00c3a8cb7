/**
 * One trace from an HTTP request to its job and the job's workflow members,
 * on Ferry's app as deployed (the synthesized bundles in sandboxes, DynamoDB
 * Local, fauxqs): the local API passes an X-Ray trace header to the function,
 * as API Gateway does on a traced stage (continuing the caller's root, or
 * starting one); a job carries the request's root as its `traceId`; a job
 * runs in that trace, so the members it starts carry it too. (fauxqs keeps
 * no system attributes: the `AWSTraceHeader` each send carries is checked
 * against SQS's rules by the runtime, and in the unit tests below.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { DynamoJobStore } from '../../lib/jobs/dynamo-job-store.js';
import { SingleFlight } from '../../lib/coordination/single-flight.js';
import { workflows } from '../../lib/workflows/default-engine.js';
import { WorkflowNotFoundError, type NodeView } from '../../lib/workflows/workflow-engine.js';
import { currentTraceId, isXrayTraceId, newTraceHeader, parseTraceHeader, runInTrace, traceAttributes } from '../../lib/util/trace.js';
import { checkSqsRules, InvalidParameterValue, ReceiptLog } from '../../lib/local/sqs-rules.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import { PageViewStore } from '../../app/reports/page-views.js';
import { canonicalKey } from '../../app/reports/report-params.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

describe('trace headers', () => {
  it('reads an X-Ray header\'s root, parent and sampling, and leaves out a malformed root', () => {
    expect(parseTraceHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toEqual({ root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: true });
    expect(parseTraceHeader('Root=not-a-trace;Sampled=0')).toEqual({ sampled: false });
    expect(parseTraceHeader(undefined)).toEqual({});
    const fresh = parseTraceHeader(newTraceHeader(Date.parse('2026-11-22T00:00:00Z')));
    expect(fresh.root).toMatch(/^1-6b023080-[0-9a-f]{24}$/);
    expect(fresh.sampled).toBe(true);
  });

  it('gives a job SQS\'s AWSTraceHeader only for an X-Ray trace id, which SQS\'s rules admit', () => {
    const id = '1-5759e988-bd862e3fe1be46a994272793';
    expect(traceAttributes(id)).toEqual({ AWSTraceHeader: { DataType: 'String', StringValue: `Root=${id}` } });
    expect(traceAttributes('3f1c2a9e-8d4b-4c6f-9a7e-1b2c3d4e5f60')).toBeUndefined();
    // In an invocation of that trace, its whole header goes: the parent, the sampling and Lambda's lineage stay.
    const before = process.env._X_AMZN_TRACE_ID;
    try {
      process.env._X_AMZN_TRACE_ID = `Root=${id};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1`;
      expect(traceAttributes(id)?.AWSTraceHeader?.StringValue).toBe(`Root=${id};Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1`);
      expect(traceAttributes('1-6a200000-000000000000000000000001')?.AWSTraceHeader?.StringValue).toBe('Root=1-6a200000-000000000000000000000001');
    } finally {
      if (before === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = before;
    }
    const receipts = new ReceiptLog();
    expect(() => checkSqsRules('SendMessage', { MessageBody: '{}', MessageSystemAttributes: traceAttributes(id) }, receipts, Date.now())).not.toThrow();
    expect(() => checkSqsRules('SendMessage', { MessageBody: '{}', MessageSystemAttributes: { Other: { DataType: 'String', StringValue: 'x' } } }, receipts, Date.now())).toThrow(InvalidParameterValue);
    expect(() => checkSqsRules('SendMessage', { MessageBody: '{}', MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=bad' } } }, receipts, Date.now())).toThrow(/AWSTraceHeader/);
  });

  it('reads the invocation\'s header from the runtime\'s per-invocation store first, as on Lambda Managed Instances', () => {
    // A stand-in for the Managed Instances runtime's global (it cannot run here): many invocations share the process and its variables.
    const runtime = globalThis as { awslambda?: unknown };
    const before = { awslambda: runtime.awslambda, env: process.env._X_AMZN_TRACE_ID };
    try {
      process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
      runtime.awslambda = { InvokeStore: { getXRayTraceId: () => 'Root=1-6a200000-0000000000000000000000aa;Parent=53995c3f42cd8ad8;Sampled=1' } };
      expect(currentTraceId()).toBe('1-6a200000-0000000000000000000000aa');
      expect(traceAttributes('1-6a200000-0000000000000000000000aa')?.AWSTraceHeader?.StringValue).toBe('Root=1-6a200000-0000000000000000000000aa;Parent=53995c3f42cd8ad8;Sampled=1');
      runtime.awslambda = { InvokeStore: { getXRayTraceId: () => undefined } };
      expect(currentTraceId()).toBe('1-5759e988-bd862e3fe1be46a994272793');
    } finally {
      runtime.awslambda = before.awslambda;
      if (before.env === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = before.env;
    }
  });

  it('runs work in a trace: what it asks for is the trace it was given, else the invocation\'s', () => {
    const before = process.env._X_AMZN_TRACE_ID;
    try {
      process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
      expect(currentTraceId()).toBe('1-5759e988-bd862e3fe1be46a994272793');
      expect(runInTrace('1-6a200000-000000000000000000000001', () => currentTraceId())).toBe('1-6a200000-000000000000000000000001');
      delete process.env._X_AMZN_TRACE_ID;
      expect(currentTraceId()).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = before;
    }
  });
});

describe("one trace on Ferry's app as deployed", () => {
  let runtime: LocalRuntime;
  const store = new DynamoJobStore();
  /** The functions' lines (they log at info here): each job outcome is one JSON entry, with its traceId. */
  const logged: string[] = [];
  const jobLines = () => logged.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { message?: string; jobId?: string; task?: string; traceId?: string };
      return entry.message === 'job' ? [entry] : [];
    } catch {
      return [];
    }
  });

  beforeAll(async () => {
    runtime = await startTestRuntime(undefined, { code: 'bundles', functionLogLevel: 'info', functionOutput: (line) => void logged.push(line) });
    await new PageViewStore().writeAll(generatePageViews({ rows: 2_000, days: 40, seed: 17, now: Date.now() - 60_000 }));
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  const traceOf = async (jobId: string) => {
    const record = await store.get(jobId);
    if (record.status === 'NOT_FOUND') throw new Error(`no job ${jobId}`);
    return record.traceId;
  };

  it('continues the caller\'s X-Ray trace into the job a request enqueues', async () => {
    const root = '1-6a200000-0123456789abcdef01234567';
    const response = await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-amzn-trace-id': `Root=${root};Sampled=1` }, body: JSON.stringify({ message: 'traced' }) });
    expect(response.status).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };
    expect(await traceOf(jobId)).toBe(root);
  });

  it('starts a trace for a request that brings none, as a traced stage does', async () => {
    const response = await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'untraced' }) });
    const { jobId } = (await response.json()) as { jobId: string };
    const traceId = await traceOf(jobId);
    expect(isXrayTraceId(traceId)).toBe(true);
    const other = (await (await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { jobId: string };
    expect(await traceOf(other.jobId)).not.toBe(traceId);
  });

  it('carries the request\'s trace to the refresh job and every member of the chord it starts', async () => {
    const root = '1-6a200000-fedcba9876543210fedcba98';
    // 40 days: over the one-job bound only with a low threshold; a year's window always fans out.
    const path = '/reports/slow-blog-views?days=365&minResponseMs=300';
    const first = await fetch(`${runtime.url}${path}`, { headers: { accept: 'application/json', 'x-amzn-trace-id': `Root=${root}` } });
    expect(first.status).toBe(202);
    const body = (await first.json()) as { report: string; params: Record<string, number | string>; jobId: string };

    const key = canonicalKey(body.report, body.params);
    const runRef = await eventually('the chord to start', async () => (await new SingleFlight().read(key))?.runRef, 30_000);
    const view = await eventually('the chord to finish', async () => {
      // The key names its run before the chord is recorded.
      const v = await workflows.get(runRef).catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
      return v?.status === 'SUCCEEDED' ? v : undefined;
    }, 60_000);
    const members: string[] = [];
    const walk = (node: NodeView) => {
      if (node.jobId !== undefined) members.push(node.jobId);
      for (const child of node.children) walk(child);
    };
    walk(view.tree);
    expect(members.length).toBe(367);
    // The refresh job (untracked: its state is the single-flight key's) and every member logged their outcome in the request's trace.
    const lines = await eventually('every member\'s outcome line', async () => {
      const byJob = new Map(jobLines().map((l) => [l.jobId, l]));
      return [body.jobId, ...members].every((id) => byJob.has(id)) ? byJob : undefined;
    }, 10_000);
    expect(lines.get(body.jobId)?.task).toBe('report.slow-blog-views');
    expect(new Set([body.jobId, ...members].map((id) => lines.get(id)?.traceId))).toEqual(new Set([root]));

    // X-Ray (Powertools Tracer, sent to the local daemon): each member ran in a subsegment annotated with its job and the request's trace.
    const jobSegments = await eventually('every member\'s subsegment', async () => {
      const byJob = new Map(runtime.xray().flatMap((d) => (typeof d.annotations?.ferry_job_id === 'string' ? [[d.annotations.ferry_job_id, d] as const] : [])));
      return members.every((id) => byJob.has(id)) ? byJob : undefined;
    }, 10_000);
    const member = jobSegments.get(members[0] ?? '');
    // Two annotations per job (X-Ray indexes 50 per trace, and a batch's jobs share one); the rest is metadata.
    expect(member?.annotations).toEqual({ ferry_job_id: members[0], ferry_trace_id: root });
    const recorded = member?.metadata?.ferry;
    expect(recorded).toMatchObject({ outcome: 'succeeded', queue: expect.any(String) as string, attempt: 1 });
    expect(member?.name).toBe(`## ${String(recorded?.task)}`);
    // Its AWS calls are subsegments under it: the job's status writes among them.
    const calls = runtime.xray(member?.trace_id).filter((d) => d.parent_id === member?.id);
    expect(calls.some((d) => d.name === 'DynamoDB' && (d.aws as { operation?: string } | undefined)?.operation === 'UpdateItem')).toBe(true);
  }, 90_000);

  it("counts the jobs in CloudWatch per queue (its physical name) and task, and per queue, the dashboard's roll-up", async () => {
    // The chord above ran 367 members and its refresh job; their EMF lines reached the runtime's metric store.
    const cloudwatch = new CloudWatchClient({ endpoint: runtime.environment.AWS_ENDPOINT_URL_CLOUDWATCH, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const sum = async (dimensions: Record<string, string>) => {
        const { MetricDataResults } = await cloudwatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(Date.now() - 3_600_000),
            EndTime: new Date(Date.now() + 60_000),
            MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: 'Ferry', MetricName: 'JobsSucceeded', Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: 3600, Stat: 'Sum' } }],
          }),
        );
        return (MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
      };
      const queues = Object.entries(runtime.resources.queues);
      const perQueue = await Promise.all(queues.map(([, q]) => sum({ Queue: q.name })));
      expect(perQueue.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(368);
      const refreshes = await Promise.all(queues.map(([, q]) => sum({ Queue: q.name, Task: 'report.slow-blog-views' })));
      expect(refreshes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      // Nothing under a declared id: another stack of this app (same ids, other names) never adds up with this one.
      for (const [id] of queues) expect(await sum({ Queue: id })).toBe(0);
    } finally {
      cloudwatch.destroy();
    }
  });

  it('records the request\'s invocation in the request\'s own trace: its enqueue is an SQS subsegment there', async () => {
    const root = '1-6a200000-00000000000000000000abcd';
    const response = await fetch(`${runtime.url}/pings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-amzn-trace-id': `Root=${root};Sampled=1` }, body: JSON.stringify({ message: 'x-ray' }) });
    expect(response.status).toBe(202);
    const send = await eventually('the SendMessage subsegment', async () =>
      runtime.xray(root).find((d) => d.name === 'SQS' && (d.aws as { operation?: string } | undefined)?.operation === 'SendMessage'),
    );
    expect(send.namespace).toBe('aws');
    expect(send.end_time).toBeGreaterThanOrEqual(send.start_time);
  });
});
