/**
 * Which function's invocation the current code runs in, for the checks the
 * local runtime makes on the calls a handler makes (iam-check.ts). The
 * function host runs each handler inside `runInvocation`; the scope follows
 * every promise, timer and callback the handler starts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Invocation {
  /** Declared function id. */
  readonly functionId: string;
  /** The AWS request id of the invocation. */
  readonly requestId: string;
  /** Epoch ms when the invocation times out. */
  readonly deadline: number;
  /**
   * Whether it did time out: on AWS, Lambda then stops the execution
   * environment (and resets it before the next invocation), so nothing the
   * handler started runs on. (An invocation that returned in time is frozen
   * instead; what it left running may resume in a later invocation.)
   */
  readonly timedOut: () => boolean;
  /** The faults injected into this invocation (fault-injection.ts), when the runtime injects any. */
  readonly faults?: InvocationFaults;
}

/** What an invocation's call may get (fault-injection.ts). */
export type CallFault = 'none' | 'throttle' | 'fail' | 'conflict' | 'lose-response' | 'kill-before' | 'kill-after';

/** The faults of one invocation (one execution environment's life while it runs); see fault-injection.ts. */
export interface InvocationFaults {
  readonly skewMs: number;
  /** Whether its environment died. */
  readonly killed: () => boolean;
  /** Decides what the invocation's next call gets. */
  next(command: string, functionId: string | undefined, input: unknown): CallFault;
  /** Ends the environment: the host fails the invocation and nothing it started makes another call. */
  kill(): void;
}

const scope = new AsyncLocalStorage<Invocation>();

export function runInvocation<T>(invocation: Invocation, run: () => T): T {
  return scope.run(invocation, run);
}

/** The invocation the caller runs in, or undefined outside any (the runtime itself, a test). */
export function currentInvocation(): Invocation | undefined {
  return scope.getStore();
}

/**
 * Whether the caller may still act: false inside an invocation whose
 * environment was killed (an injected fault) or that timed out. In-process
 * code that records an effect outside AWS (a test's witness) asks first,
 * since a dead environment records nothing.
 */
export function invocationAlive(): boolean {
  const invocation = scope.getStore();
  return invocation === undefined || (invocation.faults?.killed() !== true && !invocation.timedOut());
}
