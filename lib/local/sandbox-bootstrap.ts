/**
 * The code that runs inside a function's sandbox (a worker thread the
 * function host starts, with exactly the function's environment and a memory
 * limit from its declared size): it installs the local runtime's checks on
 * every AWS client in the thread (IAM from the deployed policy, the SQS rules),
 * loads the function's bundle once (module state survives between
 * invocations, as in a warm Lambda environment), and runs one invocation at a
 * time as the host asks. A timed-out invocation is not handled here: the host
 * terminates the whole thread, so nothing it started runs on.
 *
 * The host bundles this file with esbuild at start (see sandbox-pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { useClientPlugin } from '../aws/clients.js';
import type { LocalStatement } from './deployed-policies.js';
import { callHandler, type Handler } from './call-handler.js';
import { denialLine, iamCheckPlugin, localArns } from './iam-check.js';
import { currentInvocation, runInvocation } from './invocation-scope.js';
import { createLambdaContext } from './lambda-context.js';
import { ReceiptLog, sqsRefusalLine, sqsRulesPlugin } from './sqs-rules.js';
import { FaultInjector, installSkewedClock, type FaultKind, type FaultPlan } from './fault-injection.js';

/** What the host gives a sandbox when it starts it. */
export interface SandboxData {
  readonly functionId: string;
  readonly functionName: string;
  readonly file: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly region: string;
  /** The function's policy, or undefined when IAM is not checked. */
  readonly policy?: readonly LocalStatement[];
  readonly principal: string;
  /** Local ARNs by table name and by queue URL. */
  readonly arns: { readonly tables: Readonly<Record<string, string>>; readonly queues: Readonly<Record<string, string>> };
  /** The faults to inject (fault-injection.ts), with this sandbox's own seed. @default none */
  readonly faults?: FaultPlan;
}

/**
 * Host → sandbox: one invocation. The event travels as JSON text, as Lambda's
 * runtime API hands it over: the handler gets what `JSON.parse` makes of it
 * (and one string is cheaper to pass between threads than the object graph).
 */
export interface InvokeMessage {
  readonly type: 'invoke';
  /** The event, as JSON. */
  readonly event: string;
  readonly requestId: string;
  /** What Lambda sets `_X_AMZN_TRACE_ID` to for this invocation. */
  readonly traceHeader: string;
  readonly timeoutMs: number;
  /** When the event source received each message of an SQS batch, by receipt handle. */
  readonly receipts: Readonly<Record<string, number>>;
}

/** What an invocation's result reports besides its value: the AWS calls it made. */
interface CallReport {
  /** By `service:Operation` (e.g. `dynamodb:GetItem`), counted once each however often the SDK retried it. */
  readonly calls: Readonly<Record<string, number>>;
}

/** Sandbox → host. */
export type SandboxMessage =
  | { readonly type: 'ready' }
  /** `payload`: the handler's answer as JSON, as Lambda serializes it (`null` for undefined). */
  | ({ readonly type: 'result'; readonly ok: true; readonly payload: string } & CallReport)
  | ({ readonly type: 'result'; readonly ok: false; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } } & CallReport)
  | { readonly type: 'check'; readonly kind: 'iamChecked' | 'iamDenied' | 'sqsRefused'; readonly line?: string }
  | { readonly type: 'fault'; readonly kind: FaultKind };


const data = workerData as SandboxData;
const port = parentPort;
if (port === null) throw new Error('sandbox-bootstrap runs only in a worker thread');
const post = (message: SandboxMessage) => port.postMessage(message);

/** The invocation running now and the calls it made so far (one at a time per sandbox). */
let running: { readonly requestId: string; readonly calls: Record<string, number> } | undefined;
/** The running invocation's record, for a call made in its scope; undefined for a call left running by an earlier one. */
const callerRecord = () => (running !== undefined && currentInvocation()?.requestId === running.requestId ? running : undefined);

const receipts = new ReceiptLog();
if (data.policy !== undefined) {
  useClientPlugin(
    iamCheckPlugin({
      policies: new Map([[data.functionId, data.policy]]),
      arns: localArns(data.arns.tables, data.arns.queues, data.region),
      principalOf: () => data.principal,
      onChecked: () => post({ type: 'check', kind: 'iamChecked' }),
      onDenied: (error) => post({ type: 'check', kind: 'iamDenied', line: denialLine(error) }),
    }),
  );
}
useClientPlugin(sqsRulesPlugin(receipts, (call, error) => post({ type: 'check', kind: 'sqsRefused', line: sqsRefusalLine(call, error) })));
// Added after the checks, so a refused call, which never reaches AWS, is not counted.
const countCalls: InitializeMiddleware<object, MetadataBearer> = (next, context) => (args) => {
  const record = callerRecord();
  if (record !== undefined) {
    const key = `${String(context.clientName ?? '').replace(/Client$/, '').toLowerCase()}:${String(context.commandName ?? '').replace(/Command$/, '')}`;
    record.calls[key] = (record.calls[key] ?? 0) + 1;
  }
  return next(args);
};
useClientPlugin({ applyToStack: (stack) => stack.add(countCalls, { step: 'initialize', name: 'ferryLocalCallCount', override: true }) });
// Faults: this sandbox's clock is off by its own skew for its whole life, and an
// injected kill ends the thread itself, so nothing the invocation started runs on.
const faults = data.faults === undefined ? undefined : new FaultInjector(data.faults, (kind) => post({ type: 'fault', kind }));
if (faults !== undefined) {
  useClientPlugin(faults.plugin());
  const skewMs = faults.skew();
  installSkewedClock(() => skewMs);
}

const module = (await import(pathToFileURL(data.file).href)) as Record<string, unknown>;
const handler = module[data.handler];
if (typeof handler !== 'function') throw new Error(`function "${data.functionId}": ${data.file} has no exported function "${data.handler}"`);

port.on('message', (message: InvokeMessage) => {
  for (const [handle, at] of Object.entries(message.receipts)) receipts.record(handle, at);
  // As Lambda does before each invocation: the X-Ray SDK, Ferry's trace propagation and the SDK's recursion detection read it.
  process.env._X_AMZN_TRACE_ID = message.traceHeader;
  const context = createLambdaContext({
    functionName: data.functionName,
    memoryMb: data.memoryMb,
    timeoutMs: message.timeoutMs,
    region: data.region,
    accountId: '000000000000',
    requestId: message.requestId,
  });
  const invocationFaults = faults?.forInvocation(data.functionId, () => process.exit(137));
  const invocation = {
    functionId: data.functionId,
    requestId: message.requestId,
    deadline: Date.now() + message.timeoutMs,
    timedOut: () => false,
    ...(invocationFaults !== undefined && { faults: invocationFaults }),
  };
  const record = { requestId: message.requestId, calls: {} };
  running = record;
  const report = (): CallReport => {
    running = undefined;
    return { calls: record.calls };
  };
  const failed = (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'result', ok: false, error: { name: e.name, message: e.message, ...(e.stack !== undefined && { stack: e.stack }) }, ...report() });
  };
  runInvocation(invocation, () => callHandler(handler as Handler, JSON.parse(message.event) as unknown, context)).then((value) => {
    let payload: string;
    try {
      // An answer JSON cannot carry (a BigInt, a cycle) fails the invocation, as it does on Lambda.
      payload = JSON.stringify(value) ?? 'null';
    } catch (error) {
      failed(error);
      return;
    }
    post({ type: 'result', ok: true, payload, ...report() });
  }, failed);
});
post({ type: 'ready' });
