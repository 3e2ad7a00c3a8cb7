/**
 * The one wire format of a job on SQS. Nothing else builds or parses message
 * bodies: `encodeEnvelope` and `decodeEnvelope` are the only pair.
 */
import { randomUUID } from 'node:crypto';

export const ENVELOPE_VERSION = 1;

/** SQS's longest per-message delay, in seconds (15 minutes). */
export const MAX_SQS_DELAY_SECONDS = 900;

/** Largest SQS message body, in bytes (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

export interface JobEnvelope<Input = unknown> {
  /** Wire-format version; a worker refuses versions it does not know. */
  readonly v: typeof ENVELOPE_VERSION;
  /** Job id, unique per enqueue. */
  readonly jobId: string;
  /** Registered task name. */
  readonly task: string;
  /** The task's input: ids rather than data, so the worker reads current state. */
  readonly input: Input;
  /** ISO-8601 time of the enqueue. */
  readonly enqueuedAt: string;
  /** Correlates logs across the request that enqueued and the worker that ran. */
  readonly traceId: string;
  /**
   * Attempt number of this message's first delivery (1 when enqueued). The
   * attempt a worker runs is `attempt + ApproximateReceiveCount - 1`, so the
   * task's attempts and the queue's redrive count move together.
   */
  readonly attempt: number;
  /** Whether the job has a status record in DynamoDB. */
  readonly tracked: boolean;
  /**
   * ISO-8601 time before which the job must not run, for delays longer than
   * SQS's 15 minutes: a worker receiving it early sends it on with the
   * remaining delay instead of holding it.
   */
  readonly notBefore?: string;
  /** Set when the job is a member of a workflow: where its outcome is reported. */
  readonly workflow?: WorkflowMembership;
}

export interface WorkflowMembership {
  readonly workflowId: string;
  readonly nodeId: string;
}

/** A message body that is not a valid envelope: it can never succeed, so it is poison. */
export class EnvelopeDecodeError extends Error {
  override readonly name = 'EnvelopeDecodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`not a Ferry job envelope: ${message}`, options);
  }
}

/** A job whose encoded envelope exceeds the SQS message size limit. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly task: string,
    readonly bytes: number,
  ) {
    super(
      `job for task "${task}" is ${bytes} bytes encoded; SQS accepts at most ${SQS_MAX_MESSAGE_BYTES} bytes (1 MiB). ` +
        'Pass ids and let the task read the data.',
    );
  }
}

export interface NewEnvelopeOptions {
  readonly tracked: boolean;
  readonly traceId?: string;
  readonly notBefore?: Date;
  readonly jobId?: string;
  readonly workflow?: WorkflowMembership;
}

export function newEnvelope<Input>(task: string, input: Input, options: NewEnvelopeOptions): JobEnvelope<Input> {
  return {
    v: ENVELOPE_VERSION,
    jobId: options.jobId ?? randomUUID(),
    task,
    input,
    enqueuedAt: new Date().toISOString(),
    traceId: options.traceId ?? randomUUID(),
    attempt: 1,
    tracked: options.tracked,
    ...(options.notBefore !== undefined && { notBefore: options.notBefore.toISOString() }),
    ...(options.workflow !== undefined && { workflow: options.workflow }),
  };
}

/** Encodes `envelope`, refusing bodies SQS would reject. */
export function encodeEnvelope(envelope: JobEnvelope): string {
  const body = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > SQS_MAX_MESSAGE_BYTES) throw new PayloadTooLargeError(envelope.task, bytes);
  return body;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Decodes a message body; throws {@link EnvelopeDecodeError} naming what is wrong. */
export function decodeEnvelope(body: string): JobEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new EnvelopeDecodeError('body is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvelopeDecodeError('body is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  if (record.v !== ENVELOPE_VERSION) {
    throw new EnvelopeDecodeError(`unsupported version ${JSON.stringify(record.v)} (this worker reads version ${ENVELOPE_VERSION})`);
  }
  for (const field of ['jobId', 'task', 'enqueuedAt', 'traceId'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new EnvelopeDecodeError(`field "${field}" must be a non-empty string`);
    }
  }
  // No "input" key is an undefined input: JSON.stringify drops undefined values, so that is how one travels.
  if (typeof record.attempt !== 'number' || !Number.isInteger(record.attempt) || record.attempt < 1) {
    throw new EnvelopeDecodeError('field "attempt" must be a whole number >= 1');
  }
  if (typeof record.tracked !== 'boolean') throw new EnvelopeDecodeError('field "tracked" must be a boolean');
  if (record.notBefore !== undefined && (typeof record.notBefore !== 'string' || !ISO_TIME.test(record.notBefore) || Number.isNaN(Date.parse(record.notBefore)))) {
    throw new EnvelopeDecodeError('field "notBefore" must be an ISO-8601 time');
  }
  const workflow = record.workflow as { workflowId?: unknown; nodeId?: unknown } | undefined;
  if (workflow !== undefined && (typeof workflow !== 'object' || workflow === null || typeof workflow.workflowId !== 'string' || typeof workflow.nodeId !== 'string')) {
    throw new EnvelopeDecodeError('field "workflow" must be { workflowId: string, nodeId: string }');
  }
  return record as unknown as JobEnvelope;
}
