/**
 * Sends jobs to a declared queue. The queue's URL comes from the environment
 * the declaration defines, so callers name the queue by its id.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../aws/clients.js';
import { queueUrl } from '../app/resource-env.js';
import { encodeEnvelope, newEnvelope } from './envelope.js';

export interface EnqueueOptions {
  /** Correlates the worker's logs with the caller's. @default a new random id */
  readonly traceId?: string;
}

export interface EnqueuedJob {
  readonly jobId: string;
  readonly messageId: string;
}

/** Sends one job for `task` with `input` to queue `queueId`. */
export async function enqueue(queueId: string, task: string, input: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
  const envelope = newEnvelope(task, input, options.traceId);
  const body = encodeEnvelope(envelope);
  const sent = await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl(queueId), MessageBody: body }));
  return { jobId: envelope.jobId, messageId: sent.MessageId ?? '' };
}
