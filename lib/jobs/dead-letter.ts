/**
 * Dead letters with their reason, and redrive.
 *
 * A job that fails for good (last attempt, a non-retryable error, an
 * undecodable or unknown message) is sent by the worker to its queue's DLQ
 * with a `FerryDeadLetter` message attribute saying why, then deleted from
 * the source queue. SQS's own redrive policy (`maxReceiveCount`) stays as the
 * safety net for deliveries a worker never finished (a crashed invocation);
 * those arrive without a reason.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { traceAttributesOfBody } from '../util/trace.js';
import { sqsClient } from '../aws/clients.js';
import { deadLetterQueueUrl, queueUrl } from '../app/resource-env.js';
import { decodeEnvelope, encodeEnvelope, EnvelopeDecodeError, SQS_MAX_MESSAGE_BYTES } from './envelope.js';
import type { JobStore } from './job-state.js';
import { DynamoJobStore } from './dynamo-job-store.js';

export const DEAD_LETTER_ATTRIBUTE = 'FerryDeadLetter';

export type DeadLetterCause = 'attempts-exhausted' | 'non-retryable' | 'poison';

export interface DeadLetterReason {
  readonly cause: DeadLetterCause;
  readonly errorName: string;
  readonly errorMessage: string;
  readonly attempts: number;
  /** Absent for a message that could not be decoded. */
  readonly task?: string;
  readonly jobId?: string;
  /** Id of the declared queue the message came from. */
  readonly queue: string;
  readonly deadAt: string;
  /** Set when the body was too large to travel beside this reason: its size; the dead letter carries its beginning. */
  readonly bodyBytes?: number;
}

/**
 * Sends `body` to the DLQ of queue `queueId`, with `reason` attached. SQS
 * counts attributes in a message's 1 MiB; a body too large to travel beside
 * its reason (a foreign message at the limit: Ferry's own envelopes leave
 * room) goes with its beginning only, and the reason says how large it was.
 */
export async function sendToDeadLetterQueue(queueId: string, body: string, reason: DeadLetterReason): Promise<void> {
  const attributeBytes = (text: string) => Buffer.byteLength(DEAD_LETTER_ATTRIBUTE) + Buffer.byteLength('String') + Buffer.byteLength(text, 'utf8');
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  let text = JSON.stringify(reason);
  let sent = body;
  if (bodyBytes + attributeBytes(text) > SQS_MAX_MESSAGE_BYTES) {
    text = JSON.stringify({ ...reason, errorMessage: reason.errorMessage.slice(0, 1_000), bodyBytes });
    sent = Buffer.from(body, 'utf8').subarray(0, SQS_MAX_MESSAGE_BYTES - attributeBytes(text) - 4).toString('utf8').replace(/\uFFFD$/, '');
  }
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl(queueId),
      MessageBody: sent,
      MessageAttributes: { [DEAD_LETTER_ATTRIBUTE]: { DataType: 'String', StringValue: text } },
    }),
  );
}

/** The reason attached to a dead letter, or undefined for one SQS moved itself. */
export function deadLetterReasonOf(attributes: Record<string, { StringValue?: string; stringValue?: string }> | undefined): DeadLetterReason | undefined {
  const raw = attributes?.[DEAD_LETTER_ATTRIBUTE];
  const text = raw?.StringValue ?? raw?.stringValue;
  return text === undefined ? undefined : (JSON.parse(text) as DeadLetterReason);
}

/** One dead letter as listed: its SQS id, what its envelope says, and the reason the worker recorded. */
export interface DeadLetter {
  readonly messageId: string;
  readonly task?: string;
  readonly jobId?: string;
  /** Absent for a message SQS moved itself (a delivery no worker finished) or one no worker could decode. */
  readonly reason?: DeadLetterReason;
  /** The body, cut to 2,000 characters. */
  readonly body: string;
}

/** Receives of a listing that brought nothing new before it stops: short polls sample SQS's servers. */
const EMPTY_ROUNDS = 3;

/**
 * Lists up to `max` dead letters of queue `queueId` without taking them: each
 * is received with a visibility timeout of 0, so it stays visible (to a
 * redrive, to the next listing); only its receive count grows.
 */
export async function listDeadLetters(queueId: string, max = 100): Promise<DeadLetter[]> {
  const dlq = deadLetterQueueUrl(queueId);
  const found = new Map<string, DeadLetter>();
  for (let empty = 0; empty < EMPTY_ROUNDS && found.size < max; ) {
    const { Messages = [] } = await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }),
    );
    const before = found.size;
    for (const m of Messages) {
      if (m.MessageId === undefined || found.has(m.MessageId) || found.size >= max) continue;
      const body = m.Body ?? '';
      let envelope: { task?: string; jobId?: string } = {};
      try {
        const decoded = decodeEnvelope(body);
        envelope = { task: decoded.task, jobId: decoded.jobId };
      } catch (error) {
        if (!(error instanceof EnvelopeDecodeError)) throw error;
      }
      const reason = deadLetterReasonOf(m.MessageAttributes);
      found.set(m.MessageId, { messageId: m.MessageId, ...envelope, ...(reason !== undefined && { reason }), body: body.slice(0, 2_000) });
    }
    empty = found.size === before ? empty + 1 : 0;
  }
  return [...found.values()];
}

export interface RedriveOptions {
  /** Most messages to move. @default all that are visible */
  readonly max?: number;
  /** @default a DynamoJobStore on the `state` table */
  readonly store?: JobStore;
}

export interface RedriveResult {
  readonly moved: number;
}

/**
 * Moves dead letters of queue `queueId` back to it, without their reason, as
 * new messages: each job starts its attempts again (a tracked FAILED job goes
 * back to QUEUED). A message is deleted from the DLQ only after SQS accepted
 * its copy, so nothing is lost if this stops halfway (at worst a message is
 * moved twice, which tracked jobs absorb). Undecodable messages move as they are.
 */
export async function redrive(queueId: string, options: RedriveOptions = {}): Promise<RedriveResult> {
  const sqs = sqsClient();
  const source = queueUrl(queueId);
  const dlq = deadLetterQueueUrl(queueId);
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const store = options.store ?? new DynamoJobStore();
  // What this call sent back: a letter that dies again while it runs (a job still failing) comes back with this body.
  const sentBack = new Set<string>();
  let moved = 0;
  while (moved < max) {
    const receive = (waitSeconds: number) =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: Math.min(10, max - moved), WaitTimeSeconds: waitSeconds, VisibilityTimeout: 60 }));
    let { Messages: received = [] } = await receive(0);
    // A short poll samples SQS's servers and may come back empty while letters remain; a long poll asks them all.
    if (received.length === 0) ({ Messages: received = [] } = await receive(1));
    // A letter moved once by this call is not moved again: left visible, and the redrive ends with what it moved.
    const again = received.filter((m) => sentBack.has(m.Body ?? '') && m.ReceiptHandle !== undefined);
    if (again.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlq, Entries: again.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })) }),
      );
    }
    const Messages = received.filter((m) => !sentBack.has(m.Body ?? ''));
    if (Messages.length === 0) break;
    const bodies = await Promise.all(Messages.map((m) => freshAttempts(m.Body ?? '', store)));
    for (const body of bodies) sentBack.add(body);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source,
        Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body, MessageSystemAttributes: traceAttributesOfBody(body) })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const done = Messages.filter((_, i) => ok.has(String(i)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: dlq, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
      );
    }
    moved += done.length;
    if (done.length < Messages.length || again.length > 0) break;
  }
  return { moved };
}

/** Receives of `redriveMessage` without the message before it gives up. */
const SEARCH_ROUNDS = 10;

/**
 * Moves one dead letter of queue `queueId`, named by its SQS message id (as
 * `listDeadLetters` shows it), back to its queue, as `redrive` moves all.
 * The others it receives while looking are made visible again at once.
 * Returns false when no such message was found (moved already, or gone).
 */
export async function redriveMessage(queueId: string, messageId: string, options: Pick<RedriveOptions, 'store'> = {}): Promise<boolean> {
  const sqs = sqsClient();
  const dlq = deadLetterQueueUrl(queueId);
  const store = options.store ?? new DynamoJobStore();
  for (let empty = 0; empty < SEARCH_ROUNDS; ) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    const wanted = Messages.find((m) => m.MessageId === messageId);
    const others = Messages.filter((m) => m !== wanted && m.ReceiptHandle !== undefined);
    if (others.length > 0) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlq, Entries: others.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })) }),
      );
    }
    if (wanted !== undefined) {
      // Sent back before it is deleted here: stopped between the two, the letter is moved twice, which a tracked job absorbs.
      const body = await freshAttempts(wanted.Body ?? '', store);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl(queueId), MessageBody: body, MessageSystemAttributes: traceAttributesOfBody(body) }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: wanted.ReceiptHandle }));
      return true;
    }
    // Short polls sample SQS's servers: a round without it may still be followed by one with it.
    empty += 1;
  }
  return false;
}

/** The body to send back: attempts counted from 1 again, and a tracked job's record back to QUEUED. */
async function freshAttempts(body: string, store: JobStore): Promise<string> {
  try {
    const envelope = decodeEnvelope(body);
    if (envelope.tracked) await store.requeue(envelope.jobId);
    return encodeEnvelope({ ...envelope, attempt: 1 });
  } catch (error) {
    if (error instanceof EnvelopeDecodeError) return body;
    throw error;
  }
}
