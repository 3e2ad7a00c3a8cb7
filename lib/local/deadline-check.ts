/**
 * Timeouts that stop the work, as Lambda's do. When an invocation times out,
 * Lambda stops its execution environment (and resets it before the next
 * invocation): nothing the handler started (a promise still waiting, a timer,
 * a heartbeat) makes another call. The local runtime runs handlers in its own
 * process, where a late continuation cannot be killed, so this SDK middleware
 * refuses every AWS call made by an invocation that timed out, before it is
 * sent, and the runtime logs it: what would never reach DynamoDB or SQS on
 * AWS does not reach them here either.
 */
import type { InitializeHandlerOptions, InitializeMiddleware, MetadataBearer, Pluggable } from '@smithy/types';
import { currentInvocation } from './invocation-scope.js';

/** An AWS call made by an invocation that had already timed out: on AWS it would never have been made. */
export class InvocationTimedOutError extends Error {
  override readonly name = 'InvocationTimedOutError';
  constructor(
    readonly functionId: string,
    readonly call: string,
    readonly lateByMs: number,
  ) {
    super(`function "${functionId}" called ${call} ${lateByMs} ms after its invocation timed out; on AWS Lambda stops a timed-out environment, so the call never happens`);
  }
}

export function deadlineCheckPlugin(onLateCall: (error: InvocationTimedOutError) => void, now: () => number = Date.now): Pluggable<object, MetadataBearer> {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const invocation = currentInvocation();
    if (invocation?.timedOut() === true) {
      const late = Math.max(0, now() - invocation.deadline);
      const call = `${String(context.clientName ?? '').replace(/Client$/, '')} ${String(context.commandName ?? '').replace(/Command$/, '')}`;
      const error = new InvocationTimedOutError(invocation.functionId, call, late);
      onLateCall(error);
      throw error;
    }
    return next(args);
  };
  const placement: InitializeHandlerOptions = { step: 'initialize', name: 'ferryLocalDeadlineCheck', override: true };
  return { applyToStack: (stack) => stack.add(middleware, placement) };
}
