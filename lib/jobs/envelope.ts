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

/**
 * Longest id an envelope may carry (`jobId`, `traceId`, a workflow's ids), in
 * UTF-8 bytes: ids, not data. A job id keys the job's record (DynamoDB keys are
 * under 2,048 bytes) and ids are stored with it (items are at most 400 KB).
 */
export const MAX_ID_BYTES = 1_024;

/**
 * What a task name may be: the rule `defineTask` applies (lib/jobs/task.ts).
 * A message naming a task that no task can have is undecodable (poison), not
 * an unknown task.
 */
export const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

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
  /**
   * For a member of a group: the group, how many members it has, this
   * member's place in it and the group's number of counter shards (which
   * shard its completion adds to).
   */
  readonly group?: { readonly id: string; readonly size: number; readonly index: number; readonly shards: number };
  /** The most bytes of result the member's node can hold beside its other attributes. */
  readonly resultRoom?: number;
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

/**
 * Characters `JSON.stringify` leaves as they are but a message body must not
 * carry: U+FFFE and U+FFFF, which SQS refuses in a body, and the surrogates of
 * characters beyond U+FFFF (emoji), which SQS accepts but its emulator
 * (fauxqs) refuses. They travel as `\u` escapes, which decode to the same text.
 */
const UNSAFE_IN_BODY = /[\ud800-\udfff\ufffe\uffff]/g;

/** `json` (JSON text) with the characters a message must not carry as escapes. */
function escapeUnsafe(json: string): string {
  return json.replace(UNSAFE_IN_BODY, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Encodes `envelope`, refusing bodies SQS would reject. */
export function encodeEnvelope(envelope: JobEnvelope): string {
  const body = escapeUnsafe(JSON.stringify(envelope));
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
    throw new EnvelopeDecodeError(`unsupported version ${shown(record.v)} (this worker reads version ${ENVELOPE_VERSION})`);
  }
  for (const field of ['jobId', 'task', 'enqueuedAt', 'traceId'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      throw new EnvelopeDecodeError(`field "${field}" must be a non-empty string`);
    }
  }
  // Bounded, so that a job record can be keyed and stored and a dead letter's reason can travel beside the body.
  if (!isId(record.jobId)) throw new EnvelopeDecodeError(`field "jobId" must be at most ${MAX_ID_BYTES} bytes`);
  if (!TASK_NAME.test(record.task as string)) {
    throw new EnvelopeDecodeError(`field "task" must be a task name: 1-128 letters, digits and ".:_-", starting with a letter or digit (got ${shown(record.task)})`);
  }
  if (!isIsoTime(record.enqueuedAt)) throw new EnvelopeDecodeError('field "enqueuedAt" must be an ISO-8601 time');
  if (!isId(record.traceId)) throw new EnvelopeDecodeError(`field "traceId" must be at most ${MAX_ID_BYTES} bytes`);
  // No "input" key is an undefined input: JSON.stringify drops undefined values, so that is how one travels.
  if (typeof record.attempt !== 'number' || !Number.isInteger(record.attempt) || record.attempt < 1) {
    throw new EnvelopeDecodeError('field "attempt" must be a whole number >= 1');
  }
  if (typeof record.tracked !== 'boolean') throw new EnvelopeDecodeError('field "tracked" must be a boolean');
  if (record.notBefore !== undefined && !isIsoTime(record.notBefore)) {
    throw new EnvelopeDecodeError('field "notBefore" must be an ISO-8601 time');
  }
  const workflow = record.workflow as { workflowId?: unknown; nodeId?: unknown } | undefined;
  if (workflow !== undefined && (typeof workflow !== 'object' || workflow === null || typeof workflow.workflowId !== 'string' || typeof workflow.nodeId !== 'string')) {
    throw new EnvelopeDecodeError('field "workflow" must be { workflowId: string, nodeId: string }');
  }
  if (workflow !== undefined && (!isId(workflow.workflowId) || !isId(workflow.nodeId))) {
    throw new EnvelopeDecodeError(`field "workflow" must hold ids of 1 to ${MAX_ID_BYTES} bytes`);
  }
  const { group, resultRoom } = (workflow ?? {}) as { group?: { id?: unknown; size?: unknown; index?: unknown; shards?: unknown }; resultRoom?: unknown };
  if (
    group !== undefined &&
    (typeof group !== 'object' ||
      group === null ||
      !isId(group.id) ||
      !isCount(group.size) ||
      !isCount(group.index) ||
      !isCount(group.shards) ||
      (group.index as number) >= (group.size as number) ||
      (group.shards as number) < 1 ||
      (group.shards as number) > (group.size as number))
  ) {
    throw new EnvelopeDecodeError('field "workflow.group" must be { id: string, size: whole number, index: whole number below size, shards: 1 to size }');
  }
  if (resultRoom !== undefined && !isCount(resultRoom)) throw new EnvelopeDecodeError('field "workflow.resultRoom" must be a whole number >= 0');
  return record as unknown as JobEnvelope;
}

function isIsoTime(value: unknown): boolean {
  return typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isId(value: unknown): boolean {
  return typeof value === 'string' && value !== '' && Buffer.byteLength(value, 'utf8') <= MAX_ID_BYTES;
}

/**
 * A field's value for an error message: JSON, cut short and with the characters
 * a message must not carry escaped, since the message travels as the dead
 * letter's reason beside a body of up to 1 MiB.
 */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return escapeUnsafe(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
