/**
 * X-Ray's part, for the local runtime. Lambda, for a function with active
 * tracing, gives each invocation a trace header in `_X_AMZN_TRACE_ID` (the
 * API Gateway request's trace, continued; for an event source or a schedule,
 * a trace of its own, which X-Ray links to the message senders'), and a
 * daemon at `AWS_XRAY_DAEMON_ADDRESS` to which the X-Ray SDK (under
 * Powertools Tracer) sends the subsegments it records over UDP. Locally the
 * runtime sets the same variables on each sandbox and keeps what the
 * functions send, so tests read the segments a deployed function would have
 * recorded.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { newTraceHeader, parseTraceHeader, TRACE_HEADER } from '../util/trace.js';

/** A segment or subsegment document, as the X-Ray SDK sends it. */
export interface XrayDocument {
  readonly trace_id: string;
  readonly id: string;
  readonly name: string;
  readonly parent_id?: string;
  readonly type?: 'subsegment';
  readonly start_time: number;
  readonly end_time?: number;
  readonly in_progress?: boolean;
  readonly namespace?: string;
  readonly annotations?: Readonly<Record<string, string | number | boolean>>;
  /** Unindexed values by namespace (Ferry's under `ferry`). */
  readonly metadata?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly aws?: Readonly<Record<string, unknown>>;
  readonly error?: boolean;
  readonly fault?: boolean;
  readonly subsegments?: readonly XrayDocument[];
  readonly [field: string]: unknown;
}

/** How many documents the daemon keeps (the oldest are dropped first). */
const KEEP = 100_000;

/** A new segment id: 16 hex digits. */
function segmentId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The `_X_AMZN_TRACE_ID` Lambda sets for an invocation of a traced function:
 * an API Gateway proxy event's trace continued (the stage passes its header),
 * anything else in a trace of its own; `Parent` is the function's segment.
 */
export function invocationTraceHeader(event: unknown): string {
  const headers = (event as { headers?: unknown } | null)?.headers;
  const header =
    typeof headers === 'object' && headers !== null
      ? Object.entries(headers as Record<string, unknown>).find(([name]) => name.toLowerCase() === TRACE_HEADER)?.[1]
      : undefined;
  const caller = parseTraceHeader(typeof header === 'string' ? header : undefined);
  const root = caller.root ?? parseTraceHeader(newTraceHeader()).root;
  return `Root=${root};Parent=${segmentId()};Sampled=${caller.sampled === false ? 0 : 1}`;
}

/** The X-Ray daemon's UDP endpoint: keeps each document sent to it. */
export class LocalXrayDaemon {
  private documents: XrayDocument[] = [];
  private constructor(
    private readonly socket: Socket,
    /** `127.0.0.1:port`, as `AWS_XRAY_DAEMON_ADDRESS` takes it. */
    readonly address: string,
  ) {
    socket.on('message', (packet) => this.receive(packet.toString('utf8')));
  }

  static async start(): Promise<LocalXrayDaemon> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new LocalXrayDaemon(socket, `127.0.0.1:${socket.address().port}`);
  }

  /** One datagram: a JSON header line (`{"format":"json","version":1}`), then one document; anything else is dropped, as the daemon drops it. */
  private receive(packet: string): void {
    const newline = packet.indexOf('\n');
    if (newline < 0) return;
    try {
      const header = JSON.parse(packet.slice(0, newline)) as { format?: unknown };
      if (header.format !== 'json') return;
      const document = JSON.parse(packet.slice(newline + 1)) as XrayDocument;
      if (typeof document.trace_id !== 'string' || typeof document.id !== 'string') return;
      this.documents.push(document);
      if (this.documents.length > KEEP) this.documents = this.documents.slice(-KEEP / 2);
    } catch {
      // Not JSON: dropped.
    }
  }

  /** The documents received so far, oldest first; with `traceId`, that trace's only. */
  received(traceId?: string): readonly XrayDocument[] {
    return traceId === undefined ? [...this.documents] : this.documents.filter((d) => d.trace_id === traceId);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
