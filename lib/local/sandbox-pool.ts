/**
 * Sandboxes for one function, as Lambda keeps execution environments: each a
 * worker thread with exactly the function's environment and an old-space
 * limit from its declared memory, running one invocation at a time, kept warm
 * and reused (module state survives). An invocation past its timeout has its
 * thread terminated: nothing it started runs on, and the next invocation
 * starts a new sandbox (a cold start).
 *
 * Lambda starts an environment for every invocation that finds none free, up
 * to the account's concurrency (1,000 by default). Event source mappings
 * bound their own invocations (their declared maximum concurrency), and get
 * a sandbox each here too. API Gateway's invocations have no such bound: here
 * they start sandboxes only up to `maxSandboxes`, and beyond it wait in line
 * (first come, first served) for the first sandbox to become free, warm or
 * new. This machine has a few cores, not a fleet: 200 concurrent requests
 * would otherwise start 200 threads, each loading its bundle (a cold start),
 * and on two cores answer almost nothing for over a minute. Waiting makes
 * an answer later, never different: the function's timeout starts when its
 * invocation does, as on Lambda, and API Gateway's 29 s counts from the
 * request, as on AWS.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../util/module-file.js';
import type { InvokeMessage, SandboxData, SandboxMessage } from './sandbox-bootstrap.js';
import type { FaultKind } from './fault-injection.js';

/** AWS calls an invocation made, by `service:Operation` (e.g. `dynamodb:GetItem`). */
export type CallCounts = Readonly<Record<string, number>>;

export type SandboxResult =
  /** `payload`: the answer as JSON, as Lambda returns it; `value`, what it parses to. */
  | { readonly outcome: 'ok'; readonly value: unknown; readonly payload: string; readonly calls?: CallCounts }
  | { readonly outcome: 'error'; readonly error: Error; readonly calls?: CallCounts }
  | { readonly outcome: 'timeout' };

/** The default bound on the sandboxes API Gateway's invocations start: two per core, at least four. */
export const DEFAULT_MAX_SANDBOXES = Math.max(4, 2 * availableParallelism());

export interface SandboxPoolOptions {
  /** The bootstrap, bundled (see bundleSandboxBootstrap). */
  readonly bootstrapFile: string;
  readonly data: SandboxData;
  /** The function's whole environment: nothing else is visible inside. */
  readonly env: Readonly<Record<string, string>>;
  /** Reports of the checks made inside (IAM, SQS rules), with the line to log for a refusal. */
  readonly onCheck: (kind: 'iamChecked' | 'iamDenied' | 'sqsRefused', line?: string) => void;
  /**
   * Each line the function writes to stdout or stderr, as Lambda hands both
   * to CloudWatch Logs (the runtime extracts EMF metrics and prints it).
   * @default both go straight to this process's stdout and stderr
   */
  readonly onOutput?: (line: string) => void;
  /** Reports of the faults injected inside (when `data.faults` is set). */
  readonly onFault?: (kind: FaultKind) => void;
  /**
   * Invocations that wait when busy (API Gateway's; see the file comment)
   * start no sandbox once this many run, and wait for one to be free.
   * @default {@link DEFAULT_MAX_SANDBOXES}: two per core of this machine, at least four
   */
  readonly maxSandboxes?: number;
}

class Sandbox {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private pending: ((message: SandboxMessage & { type: 'result' }) => void) | undefined;
  private failure: ((error: Error) => void) | undefined;

  constructor(options: SandboxPoolOptions, faultSeed: number | undefined) {
    this.worker = new Worker(options.bootstrapFile, {
      env: { ...options.env },
      // Each sandbox draws its faults (and its clock's skew) from a seed of its own.
      workerData: options.data.faults === undefined || faultSeed === undefined ? options.data : { ...options.data, faults: { ...options.data.faults, seed: faultSeed } },
      // Lambda's memory setting bounds the whole environment; the JavaScript heap is what Node can bound.
      resourceLimits: { maxOldGenerationSizeMb: options.data.memoryMb },
      stdout: options.onOutput !== undefined,
      stderr: options.onOutput !== undefined,
    });
    const onOutput = options.onOutput;
    if (onOutput !== undefined) {
      // Powertools Logger writes warn and error to stderr: Lambda keeps both streams, so the runtime reads both.
      createInterface({ input: this.worker.stdout, crlfDelay: Infinity }).on('line', onOutput);
      createInterface({ input: this.worker.stderr, crlfDelay: Infinity }).on('line', onOutput);
    }
    this.ready = new Promise((resolve, reject) => {
      this.failure = reject;
      this.worker.on('message', (message: SandboxMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'check') options.onCheck(message.kind, message.line);
        else if (message.type === 'fault') options.onFault?.(message.kind);
        else this.pending?.(message);
      });
    });
    const fail = (error: Error) => {
      this.failure?.(error);
      this.failure = undefined;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the sandbox exited (code ${code})`)));
  }

  run(message: InvokeMessage): Promise<SandboxResult> {
    return new Promise((resolve) => {
      this.failure = (error) => resolve({ outcome: 'error', error });
      this.pending = (result) => {
        this.pending = undefined;
        const calls = { calls: result.calls };
        resolve(result.ok ? { outcome: 'ok', value: JSON.parse(result.payload) as unknown, payload: result.payload, ...calls } : { outcome: 'error', error: Object.assign(new Error(result.error.message), { name: result.error.name }), ...calls });
      };
      this.worker.postMessage(message);
    });
  }
}

/** One invocation, as the pool runs it. */
export interface SandboxInvocation {
  readonly requestId: string;
  /** The invocation's X-Ray trace header (`_X_AMZN_TRACE_ID`; local-xray.ts). */
  readonly traceHeader: string;
  readonly timeoutMs: number;
  /** When the event source received each message of an SQS batch, by receipt handle. */
  readonly receipts: Readonly<Record<string, number>>;
  /** The fault seed of a sandbox started for it (fault-injection.ts). @default the plan's own */
  readonly faultSeed?: number;
  /**
   * Wait in line for a sandbox once the pool's bound is reached, rather than
   * start one beyond it: API Gateway's invocations, whose number nothing else
   * bounds. (An event source mapping bounds its invocations by its declared
   * maximum concurrency, as on AWS; they always get a sandbox of their own.)
   * @default false
   */
  readonly waitWhenBusy?: boolean;
}

/** An invocation waiting in line: given a sandbox, or the error a sandbox started for the line failed with. */
interface Waiter {
  readonly give: (sandbox: Sandbox | Error) => void;
  readonly faultSeed: number | undefined;
}

export class SandboxPool {
  private readonly idle: Sandbox[] = [];
  private readonly live = new Set<Sandbox>();
  private readonly waiting: Waiter[] = [];
  private readonly maxSandboxes: number;
  /** Sandboxes started (cold starts). */
  started = 0;

  constructor(private readonly options: SandboxPoolOptions) {
    this.maxSandboxes = options.maxSandboxes ?? DEFAULT_MAX_SANDBOXES;
    if (!Number.isInteger(this.maxSandboxes) || this.maxSandboxes < 1) {
      throw new RangeError(`maxSandboxes must be a whole number of at least 1 (got ${this.maxSandboxes})`);
    }
  }

  /**
   * Runs one invocation of the event `payload` (JSON text) in a sandbox.
   * `waitedMs`: how long it waited for one (in line, or for its cold start)
   * before it started.
   */
  async invoke(payload: string, invocation: SandboxInvocation): Promise<SandboxResult & { readonly waitedMs: number }> {
    const { requestId, traceHeader, timeoutMs, receipts } = invocation;
    const asked = performance.now();
    const sandbox = await (invocation.waitWhenBusy === true ? this.inLine(invocation.faultSeed) : this.ownOrIdle(invocation.faultSeed));
    const waitedMs = performance.now() - asked;
    if (sandbox instanceof Error) return { outcome: 'error', error: sandbox, waitedMs };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([sandbox.run({ type: 'invoke', event: payload, requestId, traceHeader, timeoutMs, receipts }), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      // As Lambda stops a timed-out environment: the thread and everything it started end here.
      this.discard(sandbox);
      return { outcome: 'timeout', waitedMs };
    }
    if (result.outcome === 'error' && result.error.message.startsWith('the sandbox exited')) this.discard(sandbox);
    else this.release(sandbox);
    return { ...result, waitedMs };
  }

  /** Sandboxes running now (busy or idle). */
  get size(): number {
    return this.live.size;
  }

  /** Invocations waiting in line for a sandbox now. */
  get queued(): number {
    return this.waiting.length;
  }

  async close(): Promise<void> {
    await Promise.all([...this.live].map((s) => s.worker.terminate()));
    this.live.clear();
    this.idle.length = 0;
    for (const waiter of this.waiting.splice(0)) waiter.give(new Error('the function was stopped before a sandbox was free'));
  }

  /** A warm sandbox if one is idle, or a new one for this invocation alone (as Lambda starts one), bound or not. */
  private async ownOrIdle(faultSeed: number | undefined): Promise<Sandbox | Error> {
    const warm = this.idle.pop();
    if (warm !== undefined) return warm;
    const sandbox = this.start(faultSeed);
    try {
      await sandbox.ready;
      return sandbox;
    } catch (error) {
      this.discard(sandbox);
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * A warm sandbox if one is idle; otherwise a place in line for the first to
   * become free, warm or new (one is started for the line while under the bound).
   */
  private inLine(faultSeed: number | undefined): Promise<Sandbox | Error> | Sandbox {
    const warm = this.idle.pop();
    if (warm !== undefined) return warm;
    const given = new Promise<Sandbox | Error>((give) => this.waiting.push({ give, faultSeed }));
    if (this.live.size < this.maxSandboxes) this.startForLine(faultSeed);
    return given;
  }

  private start(faultSeed: number | undefined): Sandbox {
    const sandbox = new Sandbox(this.options, faultSeed);
    this.live.add(sandbox);
    this.started++;
    return sandbox;
  }

  private startForLine(faultSeed: number | undefined): void {
    const sandbox = this.start(faultSeed);
    sandbox.ready.then(
      () => this.release(sandbox),
      (error: unknown) => {
        this.discard(sandbox);
        // The invocation first in line gets the failed cold start, as the one Lambda started it for would.
        this.waiting.shift()?.give(error instanceof Error ? error : new Error(String(error)));
        this.refill();
      },
    );
  }

  /** Gives a free sandbox to the invocation first in line, or keeps it warm. */
  private release(sandbox: Sandbox): void {
    if (!this.live.has(sandbox)) return;
    const next = this.waiting.shift();
    if (next !== undefined) next.give(sandbox);
    else this.idle.push(sandbox);
  }

  private discard(sandbox: Sandbox): void {
    this.live.delete(sandbox);
    const at = this.idle.indexOf(sandbox);
    if (at >= 0) this.idle.splice(at, 1);
    void sandbox.worker.terminate();
    this.refill();
  }

  /** A place came free under the bound: the line gets a new sandbox rather than wait for a busy one. */
  private refill(): void {
    const next = this.waiting[0];
    if (next !== undefined && this.live.size < this.maxSandboxes) this.startForLine(next.faultSeed);
  }
}

export const SANDBOX_BOOTSTRAP_FILE = 'sandbox-bootstrap.mjs';

/** Bundles the sandbox bootstrap (TypeScript, with the checks it installs) into `outfile`; returns the files that went into it (absolute). */
export async function bundleSandboxBootstrap(outfile: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [siblingModule(import.meta.url, './sandbox-bootstrap')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    metafile: true,
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  });
  return Object.keys(result.metafile.inputs).filter((p) => !p.includes(':')).map((p) => resolve(p));
}
