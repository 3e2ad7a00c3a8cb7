/**
 * Counters of the local runtime, served at `GET /_ferry/stats`: invocations
 * per function, and messages per queue. Users watch deduplication work with
 * them; tests and benchmarks read them.
 */
import type { SqsTraffic } from './emulator-protocol.js';

export type Outcome = 'ok' | 'error' | 'timeout';

export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  totalDurationMs: number;
  maxDurationMs: number;
}

export interface QueueStats extends SqsTraffic {
  /** Messages the event source mapping received and handed to a function. */
  received: number;
  /** Records a function reported as failed (left on the queue to be retried). */
  failedRecords: number;
  /** Messages that arrived in the dead-letter queue (moved by SQS or sent there directly). */
  deadLetters: number;
  /** ReceiveMessage calls the event source mapping made (AWS bills them like any request). */
  receiveCalls: number;
  /** DeleteMessageBatch calls the event source mapping made. */
  deleteCalls: number;
}

export interface StatsSnapshot {
  readonly functions: Readonly<Record<string, FunctionStats>>;
  readonly queues: Readonly<Record<string, QueueStats>>;
  readonly streams: Readonly<Record<string, { records: number; failedBatches: number; skippedRecords: number }>>;
  /** Per schedule: invocations, when it last fired (its event's `time`) and when it fires next, ISO. */
  readonly schedules: Readonly<Record<string, { fired: number; lastFiredAt?: string; nextAt?: string }>>;
}

export class RuntimeStats {
  private readonly functions = new Map<string, FunctionStats>();
  private readonly received = new Map<string, number>();
  private readonly failedRecords = new Map<string, number>();
  private readonly calls = new Map<string, { receive: number; delete: number }>();
  private readonly streams = new Map<string, { records: number; failedBatches: number; skippedRecords: number }>();
  private readonly fired = new Map<string, number>();
  private readonly firedAt = new Map<string, { last?: string; next?: string }>();

  recordInvocation(functionId: string, outcome: Outcome, durationMs: number): void {
    const s = this.functions.get(functionId) ?? { invocations: 0, errors: 0, timeouts: 0, totalDurationMs: 0, maxDurationMs: 0 };
    s.invocations += 1;
    if (outcome === 'error') s.errors += 1;
    if (outcome === 'timeout') s.timeouts += 1;
    s.totalDurationMs += durationMs;
    s.maxDurationMs = Math.max(s.maxDurationMs, durationMs);
    this.functions.set(functionId, s);
  }

  recordReceived(queueId: string, count: number): void {
    this.received.set(queueId, (this.received.get(queueId) ?? 0) + count);
  }

  recordEventSourceCall(queueId: string, call: 'receive' | 'delete'): void {
    const c = this.calls.get(queueId) ?? { receive: 0, delete: 0 };
    c[call] += 1;
    this.calls.set(queueId, c);
  }

  recordFailedRecords(queueId: string, count: number): void {
    this.failedRecords.set(queueId, (this.failedRecords.get(queueId) ?? 0) + count);
  }

  recordStreamBatch(tableId: string, records: number, outcome: 'ok' | 'failed' | 'skipped'): void {
    const s = this.streams.get(tableId) ?? { records: 0, failedBatches: 0, skippedRecords: 0 };
    if (outcome === 'ok') s.records += records;
    if (outcome === 'failed') s.failedBatches += 1;
    if (outcome === 'skipped') s.skippedRecords += records;
    this.streams.set(tableId, s);
  }

  recordScheduleFired(name: string): void {
    this.fired.set(name, (this.fired.get(name) ?? 0) + 1);
  }

  /** When schedule `name` last fired and fires next (either may be unknown). */
  recordScheduleTimes(name: string, times: { last?: Date; next?: Date }): void {
    const entry = this.firedAt.get(name) ?? {};
    if (times.last !== undefined) entry.last = times.last.toISOString();
    if (times.next !== undefined) entry.next = times.next.toISOString();
    this.firedAt.set(name, entry);
  }

  /**
   * A snapshot, joining the runtime's own counters with the emulator's SQS
   * traffic. `queues` maps each queue id to its physical name and its
   * dead-letter queue's name.
   */
  snapshot(
    functionIds: readonly string[],
    queues: Readonly<Record<string, { name: string; deadLetterName: string }>>,
    traffic: Readonly<Record<string, SqsTraffic>>,
  ): StatsSnapshot {
    const none: SqsTraffic = { sent: 0, deleted: 0, movedToDlq: 0 };
    return {
      functions: Object.fromEntries(
        functionIds.map((id) => [id, { ...(this.functions.get(id) ?? { invocations: 0, errors: 0, timeouts: 0, totalDurationMs: 0, maxDurationMs: 0 }) }]),
      ),
      queues: Object.fromEntries(
        Object.entries(queues).map(([id, q]) => {
          const t = traffic[q.name] ?? none;
          return [
            id,
            {
              sent: t.sent,
              received: this.received.get(id) ?? 0,
              deleted: t.deleted,
              failedRecords: this.failedRecords.get(id) ?? 0,
              movedToDlq: t.movedToDlq,
              deadLetters: (traffic[q.deadLetterName] ?? none).sent,
              receiveCalls: this.calls.get(id)?.receive ?? 0,
              deleteCalls: this.calls.get(id)?.delete ?? 0,
            },
          ];
        }),
      ),
      streams: Object.fromEntries([...this.streams].map(([k, v]) => [k, { ...v }])),
      schedules: Object.fromEntries(
        [...new Set([...this.fired.keys(), ...this.firedAt.keys()])].map((k) => {
          const at = this.firedAt.get(k);
          return [k, { fired: this.fired.get(k) ?? 0, ...(at?.last !== undefined && { lastFiredAt: at.last }), ...(at?.next !== undefined && { nextAt: at.next }) }];
        }),
      ),
    };
  }
}
