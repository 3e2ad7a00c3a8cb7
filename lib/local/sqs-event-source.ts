/**
 * Emulates the Lambda SQS event source mapping, as AWS documents it:
 *
 * - `maxConcurrency` pollers, each long-polling the queue (20 s waits) and
 *   invoking the function with one batch at a time, so no more than
 *   `maxConcurrency` invocations of this source run at once;
 * - a batch holds up to `batchSize` messages; with a batching window the poller
 *   keeps receiving until the batch is full or the window has passed since the
 *   first message;
 * - `ReportBatchItemFailures`: the messages the function names in
 *   `batchItemFailures` stay on the queue, all others are deleted; a response
 *   naming an id that is not in the batch (or an empty id) fails the whole batch;
 * - a thrown error or a timeout fails the whole batch: nothing is deleted;
 * - failed messages reappear after the visibility timeout, and SQS itself
 *   moves a message to the dead-letter queue once its receive count passes
 *   `maxReceiveCount` (the emulator enforces the queue's redrive policy).
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { SqsSource } from '../app/define-app.js';
import type { FunctionHost, InvocationResult } from './function-host.js';
import type { RuntimeStats } from './runtime-stats.js';
import type { ReceiptLog } from './sqs-rules.js';
import { sleep } from '../util/sleep.js';
import type { FaultInjector } from './fault-injection.js';

/** The longest long-poll SQS allows. */
const LONG_POLL_SECONDS = 20;
const SQS_MAX_RECEIVE = 10;

export interface SqsEventSourceOptions {
  readonly source: SqsSource;
  readonly queue: { readonly url: string; readonly arn: string };
  readonly host: FunctionHost;
  readonly sqs: SQSClient;
  readonly region: string;
  readonly stats: RuntimeStats;
  readonly log: (line: string) => void;
  /** Where each received message's receive time is recorded, for the 12-hour visibility rule. */
  readonly receipts?: ReceiptLog;
  /** Duplicates some deliveries and delays some batches (fault-injection.ts). @default none */
  readonly faults?: FaultInjector;
  /** The queue's visibility timeout: a late batch is handed over well within it. @default 30 s */
  readonly visibilityMs?: number;
}

export class SqsEventSource {
  private readonly abort = new AbortController();
  private readonly aborted = new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  private pollers: Promise<void>[] = [];
  /** Second deliveries of messages (injected duplicates) still running. */
  private readonly duplicates = new Set<Promise<unknown>>();
  /** While disabled: resolves when the mapping is enabled again. */
  private disabled: { readonly resumed: Promise<void>; readonly resume: () => void } | undefined;
  /** Pollers waiting for the mapping to be enabled again (their receive and batch done). */
  private parked = 0;
  private whenParked: { readonly resolve: () => void; readonly reject: (error: Error) => void }[] = [];

  constructor(private readonly options: SqsEventSourceOptions) {}

  /** The mapping's settings, as declared. */
  get source(): SqsSource {
    return this.options.source;
  }

  get functionId(): string {
    return this.options.source.functionId;
  }

  get queueId(): string {
    return this.options.source.queue;
  }

  /**
   * Enables or disables the mapping, as UpdateEventSourceMapping's `Enabled`
   * does: a disabled mapping starts no new receive; receives already waiting
   * and batches in hand still finish, as they do on AWS.
   */
  setEnabled(enabled: boolean): void {
    if (enabled) {
      this.disabled?.resume();
      this.disabled = undefined;
      const error = new Error(`the sqs event source of "${this.options.source.functionId}" on "${this.options.source.queue}" was enabled again before it was idle`);
      for (const waiter of this.whenParked.splice(0)) waiter.reject(error);
    } else if (this.disabled === undefined) {
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      this.disabled = { resumed, resume };
    }
  }

  /**
   * Resolves once the disabled mapping holds nothing: every poller's receive
   * (a long poll lasts up to 20 s) and batch are done, as
   * UpdateEventSourceMapping's State goes from Disabling to Disabled, and
   * the injected duplicate deliveries have finished too. Until then a receive
   * in flight can still deliver, as on AWS. Rejects if the mapping is enabled
   * again first; resolves when the source is stopped (nothing runs then).
   */
  async disabledAndIdle(): Promise<void> {
    if (this.disabled === undefined) throw new Error(`the sqs event source of "${this.options.source.functionId}" on "${this.options.source.queue}" is enabled`);
    if (this.parked < this.pollers.length && !this.abort.signal.aborted) {
      await new Promise<void>((resolve, reject) => this.whenParked.push({ resolve, reject }));
    }
    await Promise.allSettled([...this.duplicates]);
  }

  start(): void {
    this.pollers = Array.from({ length: this.options.source.maxConcurrency }, () => this.poll());
  }

  /** Stops receiving and waits for the batches in hand to finish and be acknowledged. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.pollers);
    await Promise.allSettled([...this.duplicates]);
    for (const waiter of this.whenParked.splice(0)) waiter.resolve();
  }

  private async poll(): Promise<void> {
    const { source, host, stats, log } = this.options;
    while (!this.abort.signal.aborted) {
      if (this.disabled !== undefined) {
        this.parked += 1;
        if (this.parked >= this.pollers.length) for (const waiter of this.whenParked.splice(0)) waiter.resolve();
        await Promise.race([this.disabled.resumed, this.aborted]);
        this.parked -= 1;
        continue;
      }
      try {
        const messages = await this.receiveBatch();
        if (messages.length === 0) continue;
        stats.recordReceived(source.queue, messages.length);
        this.deliverDuplicates(messages);
        const lateMs = this.options.faults?.delayMs((this.options.visibilityMs ?? 30_000) / 4) ?? 0;
        if (lateMs > 0) await sleep(lateMs);
        const result = await host.invoke(this.toEvent(messages), `sqs ${source.queue} x${messages.length}`);
        const failed = failedMessageIds(result, messages);
        if (failed.size > 0) stats.recordFailedRecords(source.queue, failed.size);
        await this.deleteMessages(messages.filter((m) => !failed.has(m.MessageId ?? '')));
      } catch (error) {
        if (this.abort.signal.aborted) return;
        log(`sqs event source for "${source.functionId}" on queue "${source.queue}": ${(error as Error).message}; retrying in 1 s`);
        await sleep(1000);
      }
    }
  }

  /**
   * SQS delivers at least once: an injected duplicate is a second delivery of
   * the same message (same id and receipt) to another invocation, at the same
   * time as the first. What that invocation reports is not acted on: the
   * first delivery's outcome decides whether the message is deleted.
   */
  private deliverDuplicates(messages: readonly Message[]): void {
    const { faults, host, source } = this.options;
    if (faults === undefined) return;
    for (const message of messages) {
      if (!faults.duplicate()) continue;
      const run = host.invoke(this.toEvent([message]), `sqs ${source.queue} x1 (duplicate)`);
      this.duplicates.add(run);
      void run.finally(() => this.duplicates.delete(run));
    }
  }

  /** One batch, as the event source mapping gathers it. */
  private async receiveBatch(): Promise<Message[]> {
    const { batchSize, maxBatchingWindow } = this.options.source;
    const batch = await this.receive(Math.min(batchSize, SQS_MAX_RECEIVE), LONG_POLL_SECONDS);
    if (batch.length === 0 || (maxBatchingWindow.milliseconds === 0 && batchSize <= SQS_MAX_RECEIVE)) return batch;
    const windowEnds = Date.now() + maxBatchingWindow.milliseconds;
    while (batch.length < batchSize && !this.abort.signal.aborted) {
      const remainingMs = windowEnds - Date.now();
      if (remainingMs <= 0) break;
      const waitSeconds = Math.min(LONG_POLL_SECONDS, Math.ceil(remainingMs / 1000));
      batch.push(...(await this.receive(Math.min(batchSize - batch.length, SQS_MAX_RECEIVE), waitSeconds)));
    }
    return latestCopies(batch);
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    this.options.stats.recordEventSourceCall(this.options.source.queue, 'receive');
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queue.url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    const at = Date.now();
    for (const message of Messages ?? []) if (message.ReceiptHandle !== undefined) this.options.receipts?.record(message.ReceiptHandle, at);
    return Messages ?? [];
  }

  private async deleteMessages(messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_MAX_RECEIVE) {
      const chunk = messages.slice(i, i + SQS_MAX_RECEIVE);
      this.options.stats.recordEventSourceCall(this.options.source.queue, 'delete');
      const { Failed } = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queue.url,
          Entries: chunk.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      for (const failure of Failed ?? []) {
        this.options.log(`sqs event source: could not delete a message from "${this.options.source.queue}": ${failure.Code} ${failure.Message ?? ''}`);
      }
    }
  }

  private toEvent(messages: readonly Message[]): SQSEvent {
    const { queue, region } = this.options;
    return { Records: messages.map((m) => toRecord(m, queue.arn, region)) };
  }
}

/**
 * One record per message: when a message reappeared (its visibility ran out)
 * while its batch was still being gathered, only the newest receipt counts.
 */
export function latestCopies(batch: readonly Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const message of batch) {
    byId.delete(message.MessageId ?? '');
    byId.set(message.MessageId ?? '', message);
  }
  return [...byId.values()];
}

/**
 * The ids of the messages that must stay on the queue after `result`, per the
 * `ReportBatchItemFailures` contract.
 */
export function failedMessageIds(result: InvocationResult, messages: readonly Message[]): Set<string> {
  const all = new Set(messages.map((m) => m.MessageId ?? ''));
  if (result.outcome !== 'ok') return all;
  const value = result.value as { batchItemFailures?: unknown } | null | undefined;
  const failures = value?.batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId !== undefined && { MessageGroupId: a.MessageGroupId }),
      ...(a.MessageDeduplicationId !== undefined && { MessageDeduplicationId: a.MessageDeduplicationId }),
      ...(a.SequenceNumber !== undefined && { SequenceNumber: a.SequenceNumber }),
      ...(a.AWSTraceHeader !== undefined && { AWSTraceHeader: a.AWSTraceHeader }),
    },
    messageAttributes: toRecordAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** SQS API attributes (`StringValue`) to the Lambda event's shape (`stringValue`). */
function toRecordAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attributes)) {
    out[name] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined && { stringValue: v.StringValue }),
      ...(v.BinaryValue !== undefined && { binaryValue: Buffer.from(v.BinaryValue).toString('base64') }),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}
