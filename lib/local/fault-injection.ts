/**
 * Fault injection: AWS's failure model, on the local runtime, seeded.
 *
 * On AWS a call can be throttled or fail before it applies; it can be
 * applied and its response lost, and then the SDK sends it again by itself; a
 * Lambda execution environment can die between any two calls; SQS delivers
 * some messages twice and some late; and each environment's clock is a little
 * off. Code that is correct only when none of that happens passes every test
 * that never sees it. This module makes it happen, at stated rates:
 *
 * | fault | where | what the code sees |
 * |---|---|---|
 * | `throttle` | an AWS call inside an invocation | `ThrottlingException` / `ProvisionedThroughputExceededException` before it applies; the SDK backs off and retries |
 * | `fail` | an AWS call inside an invocation | a 500 before it applies; the SDK retries |
 * | `conflict` | a DynamoDB write inside an invocation (`conflicts` rate, or scripted) | before it applies, what DynamoDB answers when another transaction holds the item: `TransactionConflictException` for a single-item write (which the SDK does not retry), a `TransactionCanceledException` with a `TransactionConflict` reason for a transaction; DynamoDB Local, which runs transactions one at a time, never does |
 * | `lose-response` | an AWS call inside an invocation | the call **is applied**, then the connection resets; the SDK sends it again |
 * | `kill` | an invocation, at its N-th AWS call | the environment dies there (before or after that call applies): nothing it started runs on, the invocation fails |
 * | `duplicate` | an SQS message | delivered a second time, to another invocation |
 * | `delay` | an SQS batch | handed to the function up to `maxDelayMs` late |
 * | `skew` | an execution environment | `Date.now()` off by up to ±`skewMs` |
 *
 * The SDK's own retries go through the injector too, so a call can fail on
 * every attempt and reach the caller, as it can on AWS. Calls outside an
 * invocation (the runtime polling queues, a test acting as an administrator)
 * get no random faults; scripted faults (`script`) can target any call.
 *
 * Seeded and replayable: every decision comes from one PRNG seeded by `seed`
 * (printed when faults are on), so a run with the same seed and the same
 * sequence of calls injects the same faults; concurrent invocations
 * interleave differently from run to run, so a replay of a concurrent run
 * reproduces its rates and kinds rather than each fault's position.
 */
import type { AbsoluteLocation, FinalizeRequestHandlerOptions, FinalizeRequestMiddleware, MetadataBearer, Pluggable } from '@smithy/types';
import { currentInvocation, type CallFault, type InvocationFaults } from './invocation-scope.js';
import { mulberry32 } from '../util/prng.js';

export type { CallFault, InvocationFaults };

/** The kinds of fault, as counted. */
export const FAULT_KINDS = ['throttle', 'fail', 'conflict', 'lose-response', 'kill', 'duplicate', 'delay'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault a test asks for at a given call: the `occurrence`-th call of `command` (by `functionId`, if given) gets it, `times` calls in a row. */
export interface ScriptedFault {
  /** The SDK operation, as IAM names it without the service: `SendMessage`, `UpdateItem`, `TransactWriteItems`. */
  readonly command: string;
  /** Only calls made by this declared function. @default any call, in an invocation or not */
  readonly functionId?: string;
  /** Only calls whose input (as JSON) contains this text, such as a task name or a key. @default any input */
  readonly inputContains?: string;
  /** Which matching call (1-based) the fault starts at. @default 1 */
  readonly occurrence?: number;
  /** How many matching calls in a row get it: 3 outlasts the SDK's default retries. @default 1 */
  readonly times?: number;
  readonly fault: 'throttle' | 'fail' | 'conflict' | 'lose-response' | 'kill-before' | 'kill-after';
}

export interface FaultPlan {
  /** Seed of every random decision. */
  readonly seed: number;
  /** Share of AWS calls inside invocations that get a fault, split evenly between throttled, failed and applied-with-response-lost. @default 0 */
  readonly calls?: number;
  /**
   * Share of DynamoDB writes inside invocations (PutItem, UpdateItem,
   * DeleteItem, TransactWriteItems) that meet another transaction holding
   * their item, which DynamoDB Local never reports. @default 0
   */
  readonly conflicts?: number;
  /** Share of invocations whose environment dies at one of its first calls. @default 0 */
  readonly kills?: number;
  /** Share of SQS messages delivered twice. @default 0 */
  readonly duplicates?: number;
  /** Share of SQS batches handed over late. @default 0 */
  readonly delays?: number;
  /** Longest delivery delay. @default 2,000 ms */
  readonly maxDelayMs?: number;
  /** Largest clock offset of an execution environment, either way. @default 0 */
  readonly skewMs?: number;
  /** Faults at given calls, for tests that need one exact interleaving. @default none */
  readonly script?: readonly ScriptedFault[];
}

/** A kill: the invocation's environment dies at its `atCall`-th AWS call, before or after that call applies. */
export interface KillPlan {
  readonly atCall: number;
  readonly afterApply: boolean;
}

export class InvalidFaultPlanError extends Error {
  override readonly name = 'InvalidFaultPlanError';
}

/** The environment died: what the invocation reports (Lambda's `Runtime.ExitError`). */
export class EnvironmentKilledError extends Error {
  override readonly name = 'Runtime.ExitError';
  constructor(functionId: string, atCall: number) {
    super(`RequestId: the execution environment of "${functionId}" was killed at its AWS call ${atCall} (injected fault): Runtime exited without providing a reason`);
  }
}

/** The PRNG every fault decision comes from (mulberry32). */
export const prng = mulberry32;

const RATE_NAMES = ['calls', 'conflicts', 'kills', 'duplicates', 'delays'] as const;

/** The DynamoDB writes a `conflicts` rate applies to. */
const CONFLICTING_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems']);

/**
 * The plan the environment asks for: `FERRY_FAULTS` lists rates and sizes
 * (`calls=0.05 kills=0.02 duplicates=0.05 delays=0.05 skew=3000 maxDelay=2000`,
 * separated by spaces or commas) and `FERRY_FAULT_SEED` the seed (a random
 * one when absent). Undefined when `FERRY_FAULTS` is unset or empty.
 */
export function faultPlanFromEnv(env: NodeJS.ProcessEnv = process.env): FaultPlan | undefined {
  const spec = env.FERRY_FAULTS?.trim();
  if (spec === undefined || spec === '') return undefined;
  const plan: Record<string, number> = {};
  for (const part of spec.split(/[\s,]+/)) {
    const [name, raw] = part.split('=');
    const value = Number(raw);
    if (name === undefined || raw === undefined || !Number.isFinite(value)) {
      throw new InvalidFaultPlanError(`FERRY_FAULTS: "${part}" is not name=number (names: ${[...RATE_NAMES, 'skew', 'maxDelay'].join(', ')})`);
    }
    if ((RATE_NAMES as readonly string[]).includes(name)) plan[name] = value;
    else if (name === 'skew') plan.skewMs = value;
    else if (name === 'maxDelay') plan.maxDelayMs = value;
    else throw new InvalidFaultPlanError(`FERRY_FAULTS: unknown fault "${name}" (known: ${[...RATE_NAMES, 'skew', 'maxDelay'].join(', ')})`);
  }
  const seedText = env.FERRY_FAULT_SEED?.trim();
  const seed = seedText === undefined || seedText === '' ? Math.floor(Math.random() * 2 ** 31) : Number(seedText);
  if (!Number.isInteger(seed)) throw new InvalidFaultPlanError(`FERRY_FAULT_SEED must be a whole number (got "${seedText}")`);
  return validatePlan({ seed, ...plan });
}

function validatePlan(plan: FaultPlan): FaultPlan {
  for (const name of RATE_NAMES) {
    const rate = plan[name] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new InvalidFaultPlanError(`fault rate "${name}" must be between 0 and 1 (got ${rate})`);
  }
  for (const [name, value] of [['skewMs', plan.skewMs], ['maxDelayMs', plan.maxDelayMs]] as const) {
    if (value !== undefined && !(value >= 0 && value <= 60_000)) throw new InvalidFaultPlanError(`fault "${name}" must be 0-60,000 ms (got ${value})`);
  }
  return plan;
}

/** A one-line description of the plan, with the seed and how to replay it. */
export function describePlan(plan: FaultPlan): string {
  const rates = RATE_NAMES.map((n) => `${n}=${plan[n] ?? 0}`).join(' ');
  return `faults: ${rates} skew=±${plan.skewMs ?? 0}ms maxDelay=${plan.maxDelayMs ?? 2000}ms seed=${plan.seed} (replay: FERRY_FAULTS="${rates} skew=${plan.skewMs ?? 0}" FERRY_FAULT_SEED=${plan.seed})`;
}

/** The operation an SDK call performs, as IAM names it: `UpdateItem`, `SendMessage`. */
function operationOf(commandName: string): string {
  return commandName.replace(/Command$/, '');
}

/**
 * The injector: decides every fault from the plan's seed and counts what it
 * injected. One per runtime (or per test); `plugin()` is installed on the
 * SDK clients, `forInvocation()` is asked by the function host at each
 * invocation, and the SQS event source asks `duplicate()` and `delayMs()`.
 */
export class FaultInjector {
  private readonly random: () => number;
  private readonly counts: Record<FaultKind, number> = { throttle: 0, fail: 0, conflict: 0, 'lose-response': 0, kill: 0, duplicate: 0, delay: 0 };
  private readonly script: ScriptedFault[];
  private readonly scriptSeen: number[];

  constructor(
    readonly plan: FaultPlan,
    private readonly onInjected: (kind: FaultKind) => void = () => undefined,
  ) {
    validatePlan(plan);
    this.random = prng(plan.seed);
    this.script = [...(plan.script ?? [])];
    this.scriptSeen = this.script.map(() => 0);
  }

  /** Adds faults at given calls (a test's exact interleaving); each counts matching calls from now on. */
  addScript(entries: readonly ScriptedFault[]): void {
    for (const entry of entries) {
      this.script.push(entry);
      this.scriptSeen.push(0);
    }
  }

  /** Faults injected so far, by kind. */
  injected(): Readonly<Record<FaultKind, number>> {
    return { ...this.counts };
  }

  /** How many faults were injected in all. */
  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** Records a fault injected here, or elsewhere (a sandbox reports its own). */
  count(kind: FaultKind): void {
    this.counts[kind]++;
    this.onInjected(kind);
  }

  /** A whole number drawn from the plan's stream: a sandbox's own seed. */
  draw(): number {
    return Math.floor(this.random() * 2 ** 31);
  }

  /** The faults of one new invocation of `functionId`: its clock skew and whether (and where) it dies. */
  forInvocation(functionId: string, onKill: (error: EnvironmentKilledError) => void): InvocationFaults {
    const skewMs = this.skew();
    const kill: KillPlan | undefined =
      this.random() < (this.plan.kills ?? 0) ? { atCall: 1 + Math.floor(this.random() * 4), afterApply: this.random() < 0.5 } : undefined;
    let calls = 0;
    let killed = false;
    return {
      skewMs,
      killed: () => killed,
      next: (command, fn, input) => {
        calls++;
        const scripted = this.scripted(command, fn, input);
        if (scripted !== undefined) return scripted;
        if (kill !== undefined && calls === kill.atCall) return kill.afterApply ? 'kill-after' : 'kill-before';
        // Drawn only when the rate is set, so that plans without it replay as before.
        const conflicts = this.plan.conflicts ?? 0;
        if (conflicts > 0 && CONFLICTING_WRITES.has(command) && this.random() < conflicts) return 'conflict';
        return this.callFault();
      },
      kill: () => {
        if (killed) return;
        killed = true;
        this.count('kill');
        onKill(new EnvironmentKilledError(functionId, calls));
      },
    };
  }

  /** A clock offset for a new execution environment. */
  skew(): number {
    const most = this.plan.skewMs ?? 0;
    return most === 0 ? 0 : Math.round((this.random() * 2 - 1) * most);
  }

  /** Whether an SQS message is delivered a second time. */
  duplicate(): boolean {
    const yes = this.random() < (this.plan.duplicates ?? 0);
    if (yes) this.count('duplicate');
    return yes;
  }

  /** How late an SQS batch is handed over (0 for most), never past `atMostMs`. */
  delayMs(atMostMs: number): number {
    if (!(this.random() < (this.plan.delays ?? 0))) return 0;
    this.count('delay');
    return Math.max(0, Math.min(atMostMs, Math.round(this.random() * (this.plan.maxDelayMs ?? 2000))));
  }

  /** A random fault for one call inside an invocation. */
  private callFault(): CallFault {
    const roll = this.random();
    const rate = this.plan.calls ?? 0;
    if (roll >= rate) return 'none';
    const third = rate / 3;
    return roll < third ? 'throttle' : roll < 2 * third ? 'fail' : 'lose-response';
  }

  /** The scripted fault this call gets, if one matches. */
  scripted(command: string, functionId: string | undefined, input: unknown): CallFault | undefined {
    const script = this.script;
    let text: string | undefined;
    let chosen: CallFault | undefined;
    for (let i = 0; i < script.length; i++) {
      const entry = script[i] as ScriptedFault;
      if (entry.command !== command || (entry.functionId !== undefined && entry.functionId !== functionId)) continue;
      if (entry.inputContains !== undefined && !(text ??= JSON.stringify(input) ?? '').includes(entry.inputContains)) continue;
      // Every matching entry counts the call, whether or not an earlier entry's fault is the one it gets.
      const seen = ++(this.scriptSeen[i] as number);
      const first = entry.occurrence ?? 1;
      if (chosen === undefined && seen >= first && seen < first + (entry.times ?? 1)) chosen = entry.fault;
    }
    return chosen;
  }

  /**
   * The SDK plugin. It sits inside the SDK's retry loop (after `retryMiddleware`
   * in the finalize step), so each attempt the SDK makes is one call here, and
   * a lost response is sent again by the SDK itself, as on AWS.
   */
  plugin(): Pluggable<object, MetadataBearer> {
    const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
      const invocation = currentInvocation();
      const faults = invocation?.faults;
      const command = operationOf(String(context.commandName ?? ''));
      const service = String(context.clientName ?? '').replace(/Client$/, '');
      if (faults?.killed() === true) return hang();
      const fault = faults !== undefined ? faults.next(command, invocation?.functionId, args.input) : (this.scripted(command, invocation?.functionId, args.input) ?? 'none');
      if ((fault === 'kill-before' || fault === 'kill-after') && faults === undefined) {
        throw new InvalidFaultPlanError(`a kill was scripted for ${command}, but the call is not made inside an invocation whose environment can be killed`);
      }
      switch (fault) {
        case 'none':
          return next(args);
        case 'throttle':
          this.count('throttle');
          throw throttled(service);
        case 'fail':
          this.count('fail');
          throw serverError(service);
        case 'conflict':
          this.count('conflict');
          throw conflicted(command, args.input);
        case 'lose-response':
          this.count('lose-response');
          await next(args);
          throw connectionReset(service, command);
        case 'kill-before':
          faults?.kill();
          return hang();
        case 'kill-after':
          await next(args).catch(() => undefined);
          faults?.kill();
          return hang();
      }
    };
    const placement: FinalizeRequestHandlerOptions & AbsoluteLocation = { step: 'finalizeRequest', priority: 'low', name: 'ferryLocalFaults', override: true };
    return { applyToStack: (stack) => stack.add(middleware, placement) };
  }
}

/** What a dead environment's calls do: nothing, ever. */
function hang(): Promise<never> {
  return new Promise<never>(() => undefined);
}

function throttled(service: string): Error {
  const name = service === 'DynamoDB' ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
  return Object.assign(new Error(`Rate exceeded (injected ${name})`), {
    name,
    $fault: 'client' as const,
    $metadata: { httpStatusCode: 400 },
    $retryable: { throttling: true },
  });
}

function serverError(service: string): Error {
  return Object.assign(new Error(`${service} had an internal error; the request was not applied (injected)`), {
    name: 'InternalServerError',
    $fault: 'server' as const,
    $metadata: { httpStatusCode: 500 },
  });
}

/** Another transaction holds an item of the call: nothing was applied. */
function conflicted(command: string, input: unknown): Error {
  if (command === 'TransactWriteItems') {
    const items = ((input as { TransactItems?: unknown[] } | undefined)?.TransactItems ?? []).length;
    return Object.assign(new Error('Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict] (injected)'), {
      name: 'TransactionCanceledException',
      $fault: 'client' as const,
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: Array.from({ length: items }, (_, i) => (i === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' })),
    });
  }
  return Object.assign(new Error('Transaction is ongoing for the item (injected)'), {
    name: 'TransactionConflictException',
    $fault: 'client' as const,
    $metadata: { httpStatusCode: 400 },
  });
}

/** The socket reset after the request was applied: the SDK cannot know it was, and retries. */
function connectionReset(service: string, command: string): Error {
  return Object.assign(new Error(`socket hang up after ${service} ${command} was applied (injected: response lost)`), {
    name: 'TimeoutError',
    code: 'ECONNRESET',
    $metadata: {},
  });
}

/**
 * Makes `Date.now()` run `skewOf()` milliseconds off: inside an invocation,
 * by its environment's skew. Returns the function that restores the clock.
 */
export function installSkewedClock(skewOf: () => number): () => void {
  const real = Date.now;
  Date.now = () => real() + skewOf();
  return () => {
    Date.now = real;
  };
}

/** The skew of the invocation the caller runs in (0 outside one). */
export function invocationSkew(): number {
  return currentInvocation()?.faults?.skewMs ?? 0;
}
