/**
 * Starts the local AWS emulators (DynamoDB Local and fauxqs) in a guarded
 * child process and reports where they answer. See `emulator-host.ts` for why
 * they live in their own process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runsFromSources, siblingModule } from '../util/module-file.js';
import { once } from 'node:events';
import type { EmulatorEndpoints, EmulatorHostConfig, EmulatorHostMessage, SqsTraffic } from './emulator-protocol.js';
import { checkPrerequisites } from './preflight.js';

export interface EmulatorOptions {
  /** @default a free port */
  readonly dynamodbPort?: number;
  /** @default a free port */
  readonly sqsPort?: number;
  /** Folder for DynamoDB Local's data files. @default none: data lives in memory */
  readonly dataDir?: string;
}

export interface Emulators extends EmulatorEndpoints {
  /** Process id of the DynamoDB Local JVM (to prove in tests that it is gone after stop). */
  readonly dynamodbPid: number;
  /** Stops both emulators and waits until the host process has exited. */
  stop(): Promise<void>;
}

export class EmulatorStartError extends Error {
  override readonly name = 'EmulatorStartError';
}

const HOST_ENTRY = siblingModule(import.meta.url, './emulator-host');

/** Starts both emulators; throws a one-line `PrerequisiteError` first if Node.js or Java is missing or too old. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  checkPrerequisites();
  const config: EmulatorHostConfig = {
    ...(options.dynamodbPort !== undefined && { dynamodbPort: options.dynamodbPort }),
    ...(options.sqsPort !== undefined && { sqsPort: options.sqsPort }),
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
  };
  const host = spawn(process.execPath, [...(runsFromSources(import.meta.url) ? ['--import', 'tsx'] : []), HOST_ENTRY, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const lines = createInterface({ input: host.stdout });
  const exited = once(host, 'exit');
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => JSON.parse(String(line)) as EmulatorHostMessage),
    exited.then(([code]): EmulatorHostMessage => ({ event: 'failed', message: `emulator host exited with code ${String(code)}` })),
  ]);
  if (first.event === 'failed') {
    host.kill('SIGTERM');
    throw new EmulatorStartError(`local emulators failed to start: ${first.message}`);
  }
  const { event: _event, ...endpoints } = first;
  let stopped: Promise<void> | undefined;
  return {
    ...endpoints,
    stop: () => {
      stopped ??= (async () => {
        if (host.exitCode === null && host.signalCode === null) {
          host.stdin.end();
          await exited;
        }
        lines.close();
      })();
      return stopped;
    },
  };
}

/** SQS traffic per queue name, as counted by the emulator host. */
export async function sqsTraffic(endpoints: EmulatorEndpoints): Promise<Readonly<Record<string, SqsTraffic>>> {
  const response = await fetch(`${endpoints.controlEndpoint}/sqs-traffic`);
  if (!response.ok) throw new Error(`emulator host answered ${response.status} for /sqs-traffic`);
  return (await response.json()) as Record<string, SqsTraffic>;
}
