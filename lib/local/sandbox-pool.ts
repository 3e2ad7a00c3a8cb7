/**
 * Sandboxes for one function, as Lambda keeps execution environments: each a
 * worker thread with exactly the function's environment and an old-space
 * limit from its declared memory, running one invocation at a time, kept warm
 * and reused (module state survives), as many as invocations run at once. An
 * invocation past its timeout has its thread terminated: nothing it started
 * runs on, and the next invocation starts a new sandbox (a cold start).
 */
import { Worker } from 'node:worker_threads';
import type { InvokeMessage, SandboxData, SandboxMessage } from './sandbox-bootstrap.js';
import type { FaultKind } from './fault-injection.js';

export type SandboxResult =
  | { readonly outcome: 'ok'; readonly value: unknown }
  | { readonly outcome: 'error'; readonly error: Error }
  | { readonly outcome: 'timeout' };

export interface SandboxPoolOptions {
  /** The bootstrap, bundled (see bundleSandboxBootstrap). */
  readonly bootstrapFile: string;
  readonly data: SandboxData;
  /** The function's whole environment: nothing else is visible inside. */
  readonly env: Readonly<Record<string, string>>;
  /** Reports of the checks made inside (IAM, SQS rules), with the line to log for a refusal. */
  readonly onCheck: (kind: 'iamChecked' | 'iamDenied' | 'sqsRefused', line?: string) => void;
  /** Reports of the faults injected inside (when `data.faults` is set). */
  readonly onFault?: (kind: FaultKind) => void;
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
      stdout: false,
      stderr: false,
    });
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
        resolve(result.ok ? { outcome: 'ok', value: result.value } : { outcome: 'error', error: Object.assign(new Error(result.error.message), { name: result.error.name }) });
      };
      this.worker.postMessage(message);
    });
  }
}

export class SandboxPool {
  private readonly idle: Sandbox[] = [];
  private readonly live = new Set<Sandbox>();
  /** Sandboxes started (cold starts). */
  started = 0;

  constructor(private readonly options: SandboxPoolOptions) {}

  async invoke(event: unknown, requestId: string, timeoutMs: number, receipts: Readonly<Record<string, number>>, faultSeed?: number): Promise<SandboxResult> {
    let sandbox = this.idle.pop();
    if (sandbox === undefined) {
      sandbox = new Sandbox(this.options, faultSeed);
      this.live.add(sandbox);
      this.started++;
      try {
        await sandbox.ready;
      } catch (error) {
        this.discard(sandbox);
        return { outcome: 'error', error: error instanceof Error ? error : new Error(String(error)) };
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([sandbox.run({ type: 'invoke', event, requestId, timeoutMs, receipts }), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      // As Lambda stops a timed-out environment: the thread and everything it started end here.
      this.discard(sandbox);
      return { outcome: 'timeout' };
    }
    if (result.outcome === 'error' && result.error.message.startsWith('the sandbox exited')) this.discard(sandbox);
    else this.idle.push(sandbox);
    return result;
  }

  /** Sandboxes running now (busy or idle). */
  get size(): number {
    return this.live.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.live].map((s) => s.worker.terminate()));
    this.live.clear();
    this.idle.length = 0;
  }

  private discard(sandbox: Sandbox): void {
    this.live.delete(sandbox);
    void sandbox.worker.terminate();
  }
}

export const SANDBOX_BOOTSTRAP_FILE = 'sandbox-bootstrap.mjs';

/** Bundles the sandbox bootstrap (TypeScript, with the checks it installs) into `outfile`. */
export async function bundleSandboxBootstrap(outfile: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [new URL('./sandbox-bootstrap.ts', import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  });
}
