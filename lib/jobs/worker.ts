/**
 * The handler of an SQS-fed worker function: decodes each record, routes it to
 * its task, runs the records of a batch concurrently and reports exactly the
 * failed ones in `batchItemFailures`, so Lambda deletes only the successes.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeEnvelope, type JobEnvelope } from './envelope.js';

export interface JobContext {
  readonly envelope: JobEnvelope;
  /** 1 on the first delivery; SQS's receive count. */
  readonly attempt: number;
  readonly lambda: Context;
}

export type TaskRunner = (input: unknown, job: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  /** Records of one batch run at the same time. @default 10 */
  readonly concurrency?: number;
}

/** A message naming a task this worker does not run. */
export class UnknownTaskError extends Error {
  override readonly name = 'UnknownTaskError';
  constructor(readonly task: string, known: readonly string[]) {
    super(`no task "${task}" is registered on this worker (known: ${known.join(', ') || 'none'})`);
  }
}

export function createWorkerHandler(
  tasks: Readonly<Record<string, TaskRunner>>,
  options: WorkerOptions = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const concurrency = options.concurrency ?? 10;
  return async (event, context) => {
    const failed: string[] = [];
    await forEachLimited(event.Records, concurrency, async (record) => {
      try {
        await runRecord(tasks, record, context);
      } catch (error) {
        failed.push(record.messageId);
        console.error(JSON.stringify({ level: 'error', msg: 'job failed', messageId: record.messageId, error: describe(error) }));
      }
    });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

async function runRecord(tasks: Readonly<Record<string, TaskRunner>>, record: SQSRecord, lambda: Context): Promise<void> {
  const envelope = decodeEnvelope(record.body);
  const run = tasks[envelope.task];
  if (run === undefined) throw new UnknownTaskError(envelope.task, Object.keys(tasks));
  const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
  await run(envelope.input, { envelope, attempt, lambda });
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
