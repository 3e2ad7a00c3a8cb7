/**
 * The Celery side of `bench/celery.ts` as child processes of Debian's Python:
 * a worker (`celery worker`, prefork) and a producer (`producer.py`) that
 * sends tasks when asked. Both load `bench_app.py` from this folder and are
 * configured by the `CELERY_BENCH_*` variables it documents.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Debian's Python, which has python3-celery (the `python3` on PATH may be another one). */
export const PYTHON = '/usr/bin/python3';
export const INSTALL_LINE = 'apt-get install python3-celery python3-boto3 python3-pycurl python3-redis redis-server';
const APP_DIR = dirname(fileURLToPath(import.meta.url));

export class CeleryProcessError extends Error {
  override readonly name = 'CeleryProcessError';
}

/** Whether Debian's Celery 5 (with boto3 and pycurl for SQS, redis for the result backend) and redis-server are installed. */
export function celeryInstalled(): boolean {
  const python = spawnSync(PYTHON, ['-c', 'import celery, boto3, pycurl, redis, sys; sys.exit(celery.VERSION[0] != 5)'], { stdio: 'ignore' });
  const redis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return python.status === 0 && redis.status === 0;
}

/** Celery's version, e.g. `5.2.6 (kombu 5.2.4, botocore 1.29.27)`. */
export function celeryVersion(): string {
  const script = 'import celery, kombu, botocore; print(f"{celery.__version__} (kombu {kombu.__version__}, botocore {botocore.__version__})")';
  return spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' }).stdout.trim();
}

export interface CeleryEnvironment {
  /** `sqs://local:local@127.0.0.1:<port>/` or `redis://127.0.0.1:<port>/0` */
  readonly broker: string;
  /** The SQS queue's URL (kombu's predefined queue); SQS only. */
  readonly queueUrl?: string;
  /** The result backend, `redis://127.0.0.1:<port>/0`. */
  readonly backend: string;
}

function pythonEnvironment(celery: CeleryEnvironment): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: APP_DIR,
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ left in the repository
    CELERY_BENCH_BROKER: celery.broker,
    CELERY_BENCH_BACKEND: celery.backend,
    ...(celery.queueUrl !== undefined && { CELERY_BENCH_QUEUE_URL: celery.queueUrl }),
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

/** Keeps the last few kilobytes a child wrote, for error messages. */
function tail(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text.trim();
}

export interface CeleryWorker {
  readonly pid: number;
  /** Throws if the worker has exited. */
  assertRunning(): void;
  stop(): Promise<void>;
}

/**
 * Starts `celery worker` with the prefork pool and `concurrency` child
 * processes. Gossip, mingle and heartbeats are off (they need a broadcast
 * transport, which SQS is not; off on Redis too, so both transports carry only
 * the tasks). The worker runs in a process group of its own, ended with it.
 */
export function startCeleryWorker(celery: CeleryEnvironment, concurrency: number): CeleryWorker {
  const child = spawn(
    PYTHON,
    ['-m', 'celery', '-A', 'bench_app', 'worker', '--pool=prefork', `--concurrency=${concurrency}`, '--loglevel=WARNING', '--without-gossip', '--without-mingle', '--without-heartbeat', '--hostname=ferry-bench@%h'],
    { cwd: APP_DIR, env: pythonEnvironment(celery), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const output = tail(child);
  const pid = child.pid ?? -1;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const killOnExit = () => killGroup('SIGKILL');
  process.on('exit', killOnExit);
  const exited = once(child, 'exit');
  let stopping = false;
  let stopped: Promise<void> | undefined;
  return {
    pid,
    assertRunning: () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new CeleryProcessError(`the Celery worker exited (${child.exitCode ?? child.signalCode}): ${output()}`);
      }
      if (stopping) throw new CeleryProcessError('the Celery worker is stopping');
    },
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        process.off('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          // Cold shutdown: nothing is in flight once a phase has drained, and a
          // warm one would wait for the long poll in hand.
          killGroup('SIGQUIT');
          const timer = setTimeout(() => killGroup('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
        killGroup('SIGKILL'); // any pool child left behind
      })();
      return stopped;
    },
  };
}

export type ProducerCommand = { readonly cmd: 'noop'; readonly n: number; readonly stored: boolean } | { readonly cmd: 'chord'; readonly members: number };

export interface CeleryProducer {
  /** Sends `n` no-op tasks, one publish each; resolves once they are sent. */
  sendNoops(n: number, stored: boolean): Promise<{ readonly sent: number }>;
  /** Runs chord(add(i, i) for i < members)(xsum) and waits for its result. */
  chord(members: number): Promise<{ readonly result: number; readonly wall_ms: number }>;
  stop(): Promise<void>;
}

/** Starts `producer.py` and waits until it has loaded Celery. */
export async function startCeleryProducer(celery: CeleryEnvironment): Promise<CeleryProducer> {
  const child = spawn(PYTHON, ['producer.py'], { cwd: APP_DIR, env: pythonEnvironment(celery), stdio: ['pipe', 'pipe', 'pipe'] });
  const output = tail(child);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const lines: Interface = createInterface({ input: child.stdout });
  const answers: AsyncIterator<string> = lines[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const item: IteratorResult<string, unknown> = await answers.next();
    if (item.done === true) throw new CeleryProcessError(`the Celery producer exited: ${output()}`);
    const answer = JSON.parse(item.value) as { readonly error?: string; readonly trace?: string };
    if (answer.error !== undefined) throw new CeleryProcessError(`the Celery producer failed: ${answer.error}\n${answer.trace ?? ''}`);
    return answer;
  };
  const ask = async (command: ProducerCommand): Promise<Record<string, unknown>> => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    return next();
  };
  await next(); // {"ready": true}
  return {
    sendNoops: async (n, stored) => (await ask({ cmd: 'noop', n, stored })) as { sent: number },
    chord: async (members) => (await ask({ cmd: 'chord', members })) as { result: number; wall_ms: number },
    stop: async () => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      lines.close();
    },
  };
}
