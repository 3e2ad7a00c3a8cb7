/**
 * A throwaway `redis-server` for the Celery benchmark: on a free port, in
 * memory only (`--save '' --appendonly no`), stopped by `stop()` or when this
 * process exits. Counts the commands it served from `INFO commandstats`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from '../../lib/local/free-port.js';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0` */
  readonly url: string;
  /** Commands served so far, by command, less the `INFO` calls this helper made. */
  commandStats(): Promise<Readonly<Record<string, number>>>;
  /** All commands served so far, less this helper's own `INFO` and `PING` calls. */
  commands(): Promise<number>;
  stop(): Promise<void>;
}

export class RedisStartError extends Error {
  override readonly name = 'RedisStartError';
}

const READY_TIMEOUT_MS = 10_000;

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, 'exit');
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  let pings = 0;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new RedisStartError(`redis-server exited with code ${child.exitCode}: ${output.join('').slice(-1000)}`);
    try {
      pings += 1;
      if ((await command(port, 'PING')).startsWith('+PONG')) break;
    } catch (error) {
      if (Date.now() > deadline) throw new RedisStartError(`redis-server did not answer on port ${port} within ${READY_TIMEOUT_MS / 1000} s: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const commandStats = async (): Promise<Record<string, number>> => {
    const stats: Record<string, number> = {};
    for (const [, name = '', calls = '0'] of (await command(port, 'INFO commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[name] = Number(calls);
    if (stats.ping !== undefined) stats.ping -= pings; // this helper's own, at start
    return stats;
  };
  let stopped: Promise<void> | undefined;
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    commandStats,
    commands: async () => {
      const { info: _info, ...others } = await commandStats();
      return Object.values(others).reduce((a, b) => a + b, 0);
    },
    stop: () => {
      stopped ??= (async () => {
        process.off('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
      })();
      return stopped;
    },
  };
}

/** Sends one inline command and returns the raw reply (a status line, or a bulk string's content). */
async function command(port: number, line: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    socket.write(`${line}\r\n`);
    let reply = Buffer.alloc(0);
    for await (const chunk of socket) {
      reply = Buffer.concat([reply, chunk as Buffer]);
      const headerEnd = reply.indexOf('\r\n');
      if (headerEnd < 0) continue;
      const header = reply.subarray(0, headerEnd).toString();
      if (!header.startsWith('$')) return header;
      const length = Number(header.slice(1));
      if (reply.length >= headerEnd + 2 + length) return reply.subarray(headerEnd + 2, headerEnd + 2 + length).toString();
    }
    throw new Error(`redis closed the connection before answering ${line}`);
  } finally {
    socket.destroy();
  }
}
