/**
 * SQS rules the emulator (fauxqs) does not enforce, enforced on the local
 * runtime's SDK calls so that code relying on fauxqs's leniency fails here as
 * it would on AWS (SQS API reference):
 *
 * - a message's visibility timeout can be changed to at most 12 hours from
 *   when it was received (fauxqs checks only 0-43,200 s from now);
 * - a message carries at most 10 message attributes.
 *
 * The event source mapping records when it received each message
 * (`ReceiptLog`); a receipt it did not hand out is checked by the
 * emulator alone.
 */
import type { InitializeHandlerOptions, InitializeMiddleware, MetadataBearer, Pluggable } from '@smithy/types';

export const SQS_LIMITS = {
  /** Seconds a received message can stay invisible, counted from its receive. */
  maxVisibilitySeconds: 43_200,
  maxMessageAttributes: 10,
} as const;

/** SQS refused a parameter, as the service answers `InvalidParameterValue`. */
export class InvalidParameterValue extends Error {
  override readonly name = 'InvalidParameterValue';
  readonly $fault = 'client';
  readonly $metadata: MetadataBearer['$metadata'] = { httpStatusCode: 400 };
}

/** When each receipt handle the event source mappings handed out was received. */
export class ReceiptLog {
  private readonly receivedAt = new Map<string, number>();
  /** Receipts older than the longest possible visibility are forgotten. */
  record(receiptHandle: string, at: number): void {
    this.receivedAt.set(receiptHandle, at);
    for (const [handle, time] of this.receivedAt) {
      if (at - time <= SQS_LIMITS.maxVisibilitySeconds * 1000) break;
      this.receivedAt.delete(handle);
    }
  }

  receivedAtOf(receiptHandle: string): number | undefined {
    return this.receivedAt.get(receiptHandle);
  }
}

type Input = Record<string, unknown>;

/** Throws `InvalidParameterValue` for a call AWS would refuse by the rules above. */
export function checkSqsRules(commandName: string, input: Input, receipts: ReceiptLog, now: number): void {
  const operation = commandName.replace(/Command$/, '');
  if (operation === 'SendMessage' || operation === 'SendMessageBatch') {
    const messages = operation === 'SendMessage' ? [input] : ((input.Entries as Input[] | undefined) ?? []);
    for (const message of messages) {
      const count = Object.keys((message.MessageAttributes as Input | undefined) ?? {}).length;
      if (count > SQS_LIMITS.maxMessageAttributes) {
        throw new InvalidParameterValue(`Number of message attributes [${count}] exceeds the allowed maximum [${SQS_LIMITS.maxMessageAttributes}].`);
      }
    }
  }
  if (operation === 'ChangeMessageVisibility' || operation === 'ChangeMessageVisibilityBatch') {
    const changes = operation === 'ChangeMessageVisibility' ? [input] : ((input.Entries as Input[] | undefined) ?? []);
    for (const change of changes) {
      const receivedAt = typeof change.ReceiptHandle === 'string' ? receipts.receivedAtOf(change.ReceiptHandle) : undefined;
      const timeout = Number(change.VisibilityTimeout ?? 0);
      if (receivedAt === undefined) continue;
      const total = Math.ceil((now - receivedAt) / 1000) + timeout;
      if (total > SQS_LIMITS.maxVisibilitySeconds) {
        throw new InvalidParameterValue(
          `Value ${timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${SQS_LIMITS.maxVisibilitySeconds} seconds] (received ${Math.ceil((now - receivedAt) / 1000)} s ago).`,
        );
      }
    }
  }
}

/** The SDK plugin that checks every SQS call against the rules above; `onRefused` sees each refusal before it is thrown. */
export function sqsRulesPlugin(receipts: ReceiptLog, onRefused: (call: string, error: InvalidParameterValue) => void, now: () => number = Date.now): Pluggable<object, MetadataBearer> {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const commandName = String(context.commandName ?? '');
    if (String(context.clientName ?? '').startsWith('SQS')) {
      try {
        checkSqsRules(commandName, args.input as Input, receipts, now());
      } catch (error) {
        if (error instanceof InvalidParameterValue) onRefused(commandName.replace(/Command$/, ''), error);
        throw error;
      }
    }
    return next(args);
  };
  const placement: InitializeHandlerOptions = { step: 'initialize', name: 'ferryLocalSqsRules', override: true };
  return { applyToStack: (stack) => stack.add(middleware, placement) };
}
