/**
 * The trace a piece of work belongs to, carried from an HTTP request to the
 * jobs it enqueues and on to their workflow members, so that one id finds
 * them all: in the log lines (`traceId`), in the job records, and in X-Ray.
 *
 * Where X-Ray gives a trace (API Gateway's `X-Amzn-Trace-Id` header on a
 * traced stage, Lambda's `_X_AMZN_TRACE_ID` in a traced function), the trace
 * id is X-Ray's root (`1-5759e988-bd862e3fe1be46a994272793`); a job's envelope
 * carries it as its `traceId`, and its SQS message carries it as the
 * `AWSTraceHeader` system attribute, which is how X-Ray follows a message from
 * its sender to the Lambda invocation that receives it. A job runs in the
 * trace of its envelope, so what it enqueues (a workflow's members, a
 * follow-up job) joins the same trace.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessageSystemAttributeValue } from '@aws-sdk/client-sqs';

/** An X-Ray trace id: version 1, 8 hex digits of epoch seconds, 24 hex digits. */
const XRAY_TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/** Lambda's per-invocation X-Ray trace header variable. */
export const LAMBDA_TRACE_ENV = '_X_AMZN_TRACE_ID';

/** The header API Gateway passes to its integration on a traced stage. */
export const TRACE_HEADER = 'x-amzn-trace-id';

export interface TraceHeader {
  readonly root?: string;
  readonly parent?: string;
  readonly sampled?: boolean;
}

const storage = new AsyncLocalStorage<string>();

/** Whether `id` is an X-Ray trace id. */
export function isXrayTraceId(id: unknown): id is string {
  return typeof id === 'string' && XRAY_TRACE_ID.test(id);
}

/** The fields of an X-Ray trace header (`Root=…;Parent=…;Sampled=1`); a malformed root is left out. */
export function parseTraceHeader(header: string | undefined): TraceHeader {
  if (header === undefined) return {};
  const fields = new Map<string, string>();
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const root = fields.get('root');
  const sampled = fields.get('sampled');
  return {
    ...(isXrayTraceId(root) && { root }),
    ...(fields.has('parent') && { parent: fields.get('parent') }),
    ...((sampled === '0' || sampled === '1') && { sampled: sampled === '1' }),
  };
}

/**
 * The X-Ray header of the Lambda invocation running now: from the runtime's
 * per-invocation store when it has one (on Lambda Managed Instances one
 * process runs many invocations at once, and the variable cannot say whose;
 * the X-Ray SDK reads it first too), else `_X_AMZN_TRACE_ID`.
 */
export function invocationTraceHeader(): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => string | undefined } } }).awslambda?.InvokeStore;
  return store?.getXRayTraceId?.() ?? process.env[LAMBDA_TRACE_ENV];
}

/** Runs `fn` in the trace `traceId`: what it enqueues carries that id. */
export function runInTrace<T>(traceId: string, fn: () => T): T {
  return storage.run(traceId, fn);
}

/**
 * The trace of the work running now: the one `runInTrace` set (a job's, a
 * request's), else the X-Ray root of this Lambda invocation, else none.
 */
export function currentTraceId(): string | undefined {
  return storage.getStore() ?? parseTraceHeader(invocationTraceHeader()).root;
}

/**
 * The SQS system attribute that carries an X-Ray trace to the receiver, for a
 * job of trace `traceId`; none for a trace id that is not X-Ray's (SQS
 * refuses a malformed `AWSTraceHeader`). It overrides the header the SDK
 * would send, so when this invocation is in that trace its whole header goes
 * (`Parent`, `Sampled` and Lambda's `Lineage` kept); otherwise the root alone.
 */
export function traceAttributes(traceId: string): Record<string, MessageSystemAttributeValue> | undefined {
  if (!isXrayTraceId(traceId)) return undefined;
  const invocation = invocationTraceHeader();
  const header = invocation !== undefined && parseTraceHeader(invocation).root === traceId ? invocation : `Root=${traceId}`;
  return { AWSTraceHeader: { DataType: 'String', StringValue: header } };
}

/** {@link traceAttributes} for a message body that is a job envelope (re-sent by the outbox relay or a redrive); none for any other body. */
export function traceAttributesOfBody(body: string): Record<string, MessageSystemAttributeValue> | undefined {
  try {
    const traceId = (JSON.parse(body) as { traceId?: unknown }).traceId;
    return typeof traceId === 'string' ? traceAttributes(traceId) : undefined;
  } catch {
    return undefined;
  }
}

/** A new X-Ray trace header, as API Gateway or Lambda starts one: `Root=1-<seconds>-<24 hex>;Sampled=1`. */
export function newTraceHeader(now = Date.now()): string {
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, '0');
  const random = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `Root=1-${seconds}-${random};Sampled=1`;
}
