/**
 * Loads one declared function's handler and invokes it as Lambda would:
 * a fresh context per invocation, the declared timeout enforced, one log line
 * per invocation (function, trigger, duration, outcome), counters updated.
 *
 * Handlers run in this process. A timed-out invocation is reported as failed
 * at once, like Lambda; its promise cannot be killed, but every AWS call it
 * makes after the deadline is refused (deadline-check.ts), so nothing it does
 * late reaches DynamoDB or SQS, as on AWS.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { LambdaFunction } from '../app/define-app.js';
import { createLambdaContext } from './lambda-context.js';
import { runInvocation } from './invocation-scope.js';
import { callHandler, type Handler } from './call-handler.js';
import type { CallCounts, SandboxPool } from './sandbox-pool.js';
import type { ReceiptLog } from './sqs-rules.js';
import { clockOf, logFormat, paint } from '../util/log-format.js';
import type { RuntimeStats } from './runtime-stats.js';
import type { EnvironmentKilledError, FaultInjector } from './fault-injection.js';
import { invocationTraceHeader } from './local-xray.js';


export type InvocationResult =
  /** `payload`: the answer as JSON, when it crossed from a sandbox as Lambda returns it. */
  | { readonly outcome: 'ok'; readonly value: unknown; readonly payload?: string; readonly durationMs: number }
  | { readonly outcome: 'error' | 'timeout'; readonly error: Error; readonly durationMs: number };

export interface FunctionHostOptions {
  readonly fn: LambdaFunction;
  readonly physicalName: string;
  readonly projectRoot: string;
  readonly region: string;
  readonly stats: RuntimeStats;
  readonly log: (line: string) => void;
  /** Run this file's export instead of the declared entry's (the synthesized bundle). @default the declared entry and handler */
  readonly code?: { readonly file: string; readonly handler: string };
  /** Run each invocation in a sandbox of this pool (a worker thread) instead of this process. @default this process */
  readonly sandboxes?: SandboxPool;
  /** When the event source received the messages of an SQS batch, passed to a sandbox for the SQS rules. */
  readonly receipts?: ReceiptLog;
  /** Injects AWS's faults into each invocation (fault-injection.ts). @default none */
  readonly faults?: FaultInjector;
}

export interface InvokeOptions {
  /** The event as JSON, when the caller has it already: it is not serialized again. @default `JSON.stringify(event)` */
  readonly payload?: string;
  /**
   * In a sandbox pool at its bound, wait for a sandbox to be free rather than
   * start one: API Gateway's invocations (see sandbox-pool.ts).
   * @default false
   */
  readonly waitWhenBusy?: boolean;
}

export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
  constructor(functionId: string, timeoutMs: number) {
    super(`function "${functionId}" timed out after ${timeoutMs / 1000} s`);
  }
}

export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

export class FunctionHost {
  private handler: Handler | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: FunctionHostOptions) {}

  get id(): string {
    return this.options.fn.id;
  }

  /** Imports the entry module and finds the handler export; fails loudly naming both. */
  async load(): Promise<void> {
    const { fn, projectRoot, code } = this.options;
    // A sandboxed function is loaded inside each sandbox, when it starts.
    if (this.options.sandboxes !== undefined) return;
    const file = code?.file ?? join(projectRoot, fn.entry);
    const exportName = code?.handler ?? fn.handler;
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const handler = module[exportName];
    if (typeof handler !== 'function') {
      throw new HandlerNotFoundError(`function "${fn.id}": ${code?.file ?? fn.entry} has no exported function "${exportName}"`);
    }
    this.handler = handler as Handler;
  }

  /** Invokes the handler with `event`; `trigger` labels the log line (e.g. `sqs io x3`). Never throws. */
  async invoke(event: unknown, trigger: string, options: InvokeOptions = {}): Promise<InvocationResult> {
    if (this.options.sandboxes !== undefined) return this.invokeInSandbox(this.options.sandboxes, event, trigger, options);
    const { fn, stats, log } = this.options;
    const handler = this.handler;
    if (handler === undefined) throw new Error(`function "${fn.id}" was invoked before load()`);
    const timeoutMs = fn.timeout.milliseconds;
    const context = createLambdaContext({
      functionName: this.options.physicalName,
      memoryMb: fn.memoryMb,
      timeoutMs,
      region: this.options.region,
      accountId: '000000000000',
    });
    const started = performance.now();
    // The handler runs in its invocation's scope: the IAM check knows which function makes each call.
    let timedOut = false;
    // An injected kill ends the invocation where it happens: its environment is gone, and every call it would still make hangs.
    let killedBy: EnvironmentKilledError | undefined;
    let died!: () => void;
    const death = new Promise<'killed'>((resolve) => {
      died = () => resolve('killed');
    });
    const faults = this.options.faults?.forInvocation(fn.id, (error) => {
      killedBy = error;
      died();
    });
    const invocation = {
      functionId: fn.id,
      requestId: context.awsRequestId,
      deadline: Date.now() + context.getRemainingTimeInMillis(),
      timedOut: () => timedOut,
      ...(faults !== undefined && { faults }),
    };
    const run = runInvocation(invocation, () => callHandler(handler, event, context));
    this.inFlight.add(run);
    const settle = () => this.inFlight.delete(run);
    run.then(settle, settle);
    // A dead environment's work never settles: nothing waits for it.
    void death.then(settle);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve('timeout');
      }, timeoutMs);
    });
    let result: InvocationResult;
    try {
      const value = await Promise.race([run, timeout, death]);
      const durationMs = performance.now() - started;
      result =
        value === 'timeout'
          ? { outcome: 'timeout', error: new FunctionTimeoutError(fn.id, timeoutMs), durationMs }
          : killedBy !== undefined
            ? { outcome: 'error', error: killedBy, durationMs }
            : { outcome: 'ok', value, durationMs };
    } catch (error) {
      result = { outcome: 'error', error: error instanceof Error ? error : new Error(String(error)), durationMs: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
    stats.recordInvocation(fn.id, result.outcome, result.durationMs);
    log(formatLine(fn.id, trigger, context.awsRequestId, result));
    return result;
  }

  /** One invocation in a sandbox: its own thread, its own environment, terminated on timeout. */
  private async invokeInSandbox(pool: SandboxPool, event: unknown, trigger: string, options: InvokeOptions): Promise<InvocationResult> {
    const { fn, stats, log } = this.options;
    const requestId = randomUUID();
    const received: Record<string, number> = {};
    for (const { receiptHandle: handle } of (event as { Records?: { receiptHandle?: unknown }[] } | null)?.Records ?? []) {
      const at = typeof handle === 'string' ? this.options.receipts?.receivedAtOf(handle) : undefined;
      if (at !== undefined) received[handle as string] = at;
    }
    const started = performance.now();
    const faultSeed = this.options.faults?.draw();
    const run = pool.invoke(options.payload ?? JSON.stringify(event) ?? 'null', {
      requestId,
      traceHeader: invocationTraceHeader(event),
      timeoutMs: fn.timeout.milliseconds,
      receipts: received,
      ...(faultSeed !== undefined && { faultSeed }),
      ...(options.waitWhenBusy !== undefined && { waitWhenBusy: options.waitWhenBusy }),
    });
    this.inFlight.add(run);
    const outcome = await run.finally(() => this.inFlight.delete(run));
    // The invocation's own time, as Lambda reports it: not the wait for a sandbox (in line, or its cold start) before it.
    const durationMs = performance.now() - started - outcome.waitedMs;
    const result: InvocationResult =
      outcome.outcome === 'ok'
        ? { outcome: 'ok', value: outcome.value, payload: outcome.payload, durationMs }
        : outcome.outcome === 'timeout'
          ? { outcome: 'timeout', error: new FunctionTimeoutError(fn.id, fn.timeout.milliseconds), durationMs }
          : { outcome: 'error', error: outcome.error, durationMs };
    stats.recordInvocation(fn.id, result.outcome, result.durationMs);
    log(formatLine(fn.id, trigger, requestId, result, { waitedMs: outcome.waitedMs, ...(outcome.outcome !== 'timeout' && outcome.calls !== undefined && { calls: outcome.calls }) }));
    return result;
  }

  /** Waits for invocations still running (including timed-out ones) to finish, then stops the sandboxes. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.options.sandboxes?.close();
  }
}

/**
 * The invocation's line: on a terminal, time, function, trigger, duration and
 * outcome in colour; otherwise one JSON object, as Lambda's own platform
 * report would be. A sandboxed invocation's duration is its own, as Lambda's
 * is; its wait for a sandbox (in line, or a cold start) is told apart.
 */
function formatLine(functionId: string, trigger: string, requestId: string, result: InvocationResult, sandbox?: { readonly waitedMs: number; readonly calls?: CallCounts }): string {
  const date = new Date();
  const sandboxed = sandbox !== undefined;
  const calls = sandbox?.calls;
  if (logFormat() === 'json') {
    return JSON.stringify({
      time: date.toISOString(),
      type: 'invocation',
      function: functionId,
      trigger,
      requestId,
      outcome: result.outcome,
      durationMs: Math.round(result.durationMs * 10) / 10,
      ...(result.outcome !== 'ok' && { error: { name: result.error.name, message: result.error.message } }),
      // A sandboxed invocation's wait for its sandbox (in line, or its cold start), when it waited.
      ...(sandbox !== undefined && sandbox.waitedMs >= 0.05 && { waitMs: Math.round(sandbox.waitedMs * 10) / 10 }),
      // The AWS calls a sandboxed invocation made, by `service:Operation`; absent when it made none.
      ...(calls !== undefined && Object.keys(calls).length > 0 && { awsCalls: calls }),
    });
  }
  const ms = `${result.durationMs.toFixed(1)} ms`;
  const detail =
    result.outcome === 'ok'
      ? paint('ok', 'green')
      : result.outcome === 'timeout'
        ? paint(`TIMEOUT (${result.error.message}; ${sandboxed ? 'its sandbox was terminated' : 'its AWS calls from now on are refused, as its stopped environment would make none'})`, 'red')
        : paint(`ERROR ${result.error.name}: ${result.error.message}`, 'red');
  const waited = sandbox !== undefined && sandbox.waitedMs >= 1 ? paint(` (waited ${sandbox.waitedMs.toFixed(0)} ms for a sandbox)`, 'dim') : '';
  return `${paint(clockOf(date), 'dim')} ${paint('λ', 'bold')} ${functionId.padEnd(14)} ${trigger.padEnd(22)} ${ms.padStart(10)}  ${detail}  ${paint(`[${requestId.slice(0, 8)}]`, 'dim')}${waited}`;
}
