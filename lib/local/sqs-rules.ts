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

/** What the rules say of one message (SendMessage) or one visibility change: undefined when it is allowed. */
function problemOf(operation: 'send' | 'change', entry: Input, receipts: ReceiptLog, now: number): string | undefined {
  if (operation === 'send') {
    const count = Object.keys((entry.MessageAttributes as Input | undefined) ?? {}).length;
    if (count > SQS_LIMITS.maxMessageAttributes) return `Number of message attributes [${count}] exceeds the allowed maximum [${SQS_LIMITS.maxMessageAttributes}].`;
    return systemAttributeProblem(entry.MessageSystemAttributes as Input | undefined);
  }
  const receivedAt = typeof entry.ReceiptHandle === 'string' ? receipts.receivedAtOf(entry.ReceiptHandle) : undefined;
  if (receivedAt === undefined) return undefined;
  const timeout = Number(entry.VisibilityTimeout ?? 0);
  const heldS = Math.ceil((now - receivedAt) / 1000);
  return heldS + timeout > SQS_LIMITS.maxVisibilitySeconds
    ? `Value ${timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${SQS_LIMITS.maxVisibilitySeconds} seconds] (received ${heldS} s ago).`
    : undefined;
}

/**
 * SQS's one message system attribute: `AWSTraceHeader`, a String holding a
 * well-formed X-Ray trace header (fauxqs accepts and drops anything).
 */
function systemAttributeProblem(attributes: Input | undefined): string | undefined {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (name !== 'AWSTraceHeader') return `Message system attribute name '${name}' is invalid: the only supported one is AWSTraceHeader.`;
    const { DataType, StringValue } = (value ?? {}) as { DataType?: unknown; StringValue?: unknown };
    if (DataType !== 'String') return `Message system attribute AWSTraceHeader must have DataType String (got ${String(DataType)}).`;
    if (typeof StringValue !== 'string' || !/(^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}\s*(;|$)/.test(StringValue)) return `Message system attribute AWSTraceHeader is not a valid X-Ray trace header (got ${JSON.stringify(StringValue)}).`;
  }
  return undefined;
}

const SINGLE: Readonly<Record<string, 'send' | 'change'>> = { SendMessage: 'send', ChangeMessageVisibility: 'change' };
const BATCH: Readonly<Record<string, 'send' | 'change'>> = { SendMessageBatch: 'send', ChangeMessageVisibilityBatch: 'change' };

/** Throws `InvalidParameterValue` for a single-message call AWS would refuse by the rules above. */
export function checkSqsRules(commandName: string, input: Input, receipts: ReceiptLog, now: number): void {
  const operation = SINGLE[commandName.replace(/Command$/, '')];
  const problem = operation === undefined ? undefined : problemOf(operation, input, receipts, now);
  if (problem !== undefined) throw new InvalidParameterValue(problem);
}

/**
 * The entries of a batch call the rules refuse, as SQS reports them: each in
 * the response's `Failed` (`SenderFault`, `InvalidParameterValue`), while the
 * others go through.
 */
export function refusedEntries(commandName: string, input: Input, receipts: ReceiptLog, now: number): { Id: string; SenderFault: true; Code: 'InvalidParameterValue'; Message: string }[] {
  const operation = BATCH[commandName.replace(/Command$/, '')];
  if (operation === undefined) return [];
  return ((input.Entries as Input[] | undefined) ?? []).flatMap((entry) => {
    const problem = problemOf(operation, entry, receipts, now);
    return problem === undefined ? [] : [{ Id: String(entry.Id), SenderFault: true as const, Code: 'InvalidParameterValue' as const, Message: problem }];
  });
}

/** The runtime's log line for a refused call or batch entry. */
export function sqsRefusalLine(call: string, error: InvalidParameterValue): string {
  return `SQS refused ${call}: ${error.message}`;
}

/** The SDK plugin that checks every SQS call against the rules above; `onRefused` sees each refusal before it is thrown. */
export function sqsRulesPlugin(receipts: ReceiptLog, onRefused: (call: string, error: InvalidParameterValue) => void, now: () => number = Date.now): Pluggable<object, MetadataBearer> {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const commandName = String(context.commandName ?? '');
    if (!String(context.clientName ?? '').startsWith('SQS')) return next(args);
    const input = args.input as Input;
    try {
      checkSqsRules(commandName, input, receipts, now());
    } catch (error) {
      if (error instanceof InvalidParameterValue) onRefused(commandName.replace(/Command$/, ''), error);
      throw error;
    }
    const refused = refusedEntries(commandName, input, receipts, now());
    if (refused.length === 0) return next(args);
    for (const entry of refused) onRefused(`${commandName.replace(/Command$/, '')} entry ${entry.Id}`, new InvalidParameterValue(entry.Message));
    const ids = new Set(refused.map((r) => r.Id));
    const rest = ((input.Entries as Input[] | undefined) ?? []).filter((e) => !ids.has(String(e.Id)));
    if (rest.length === 0) return { output: { Successful: [], Failed: refused, $metadata: { httpStatusCode: 200 } } as never, response: {} };
    const result = await next({ ...args, input: { ...input, Entries: rest } });
    const output = result.output as { Failed?: unknown[] };
    return { ...result, output: { ...output, Failed: [...(output.Failed ?? []), ...refused] } as never };
  };
  const placement: InitializeHandlerOptions = { step: 'initialize', name: 'ferryLocalSqsRules', override: true };
  return { applyToStack: (stack) => stack.add(middleware, placement) };
}
