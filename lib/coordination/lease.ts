/**
 * Leases (distributed locks) with fencing tokens, on DynamoDB conditional
 * writes.
 *
 * One item per lock key holds the current owner, when its lease ends, and a
 * fencing token that grows by one at every acquisition and never goes back
 * (lock items have no TTL). A holder whose lease ended (a frozen or slow
 * Lambda) can no longer extend or release the lock, and any write it makes
 * elsewhere with {@link fencedCondition} is rejected once a newer token has
 * written: that is what makes a lease safe where a plain timeout-lock is not.
 *
 * Designed for Lambda: no background thread outlives the call. `withLock`
 * heartbeats with a timer only while the protected function runs, and clears
 * it before returning.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { type Duration, millis, seconds } from '../app/duration.js';
import { sleep } from '../util/sleep.js';

/** Key and attribute names of lock items. */
export const LOCK_ITEM = {
  pkOf: (key: string) => `LOCK#${key}`,
  sk: 'LOCK',
} as const;

export interface Lease {
  readonly key: string;
  readonly owner: string;
  /** Grows with every acquisition of this key: pass it to {@link fencedCondition} on protected writes. */
  readonly token: number;
  /** Epoch ms at which the lease ends unless extended. */
  readonly leaseUntil: number;
}

/** The lock is held by someone else (and `wait` ran out, if there was one). */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly key: string,
    readonly holder: string,
    readonly leaseUntil: number,
  ) {
    super(`lock "${key}" is held by ${holder} until ${new Date(leaseUntil).toISOString()}`);
  }
}

/** The caller's lease ended and someone else may hold the lock: its work must stop. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(
    readonly key: string,
    readonly token: number,
  ) {
    super(`lease ${token} on lock "${key}" was lost (it expired, or a newer holder took the lock)`);
  }
}

/** Lock operations; each is one conditional write. */
export class LeaseStore {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable(options);
  }

  private key(key: string) {
    return { pk: LOCK_ITEM.pkOf(key), sk: LOCK_ITEM.sk };
  }

  /** Takes the lock if it is free or its lease ended; throws {@link LockHeldError} otherwise. */
  async acquire(key: string, lease: Duration, owner: string = randomUUID()): Promise<Lease> {
    const now = this.state.now();
    try {
      const { Attributes } = await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(key),
          UpdateExpression: 'SET #owner = :owner, leaseUntil = :until ADD fencingToken :one',
          // Admits a lock never taken, one released (no owner), and one whose
          // lease ended (its holder is presumed dead; its token is now stale).
          // Rejects a live lease: the caller gets LockHeldError naming the holder.
          ConditionExpression: 'attribute_not_exists(#owner) OR leaseUntil < :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':until': now + lease.milliseconds, ':one': 1, ':now': now },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { key, owner, token: Number(Attributes?.fencingToken), leaseUntil: Number(Attributes?.leaseUntil) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : {};
      // Held by this very owner: the SDK retried an acquire whose response was
      // lost, and the first try took the lock. (An owner that acquires twice
      // gets its live lease back, as a re-entrant lock would.)
      if (old.owner === owner && Number(old.leaseUntil) >= now) return { key, owner, token: Number(old.fencingToken), leaseUntil: Number(old.leaseUntil) };
      throw new LockHeldError(key, String(old.owner), Number(old.leaseUntil));
    }
  }

  /** Pushes the lease end to now + `lease`; throws {@link LeaseLostError} if the caller no longer holds it. */
  async extend(held: Lease, lease: Duration): Promise<Lease> {
    const now = this.state.now();
    await this.ownerWrite(held, 'SET leaseUntil = :until', { ':until': now + lease.milliseconds, ':now': now }, true);
    return { ...held, leaseUntil: now + lease.milliseconds };
  }

  /** Frees the lock if the caller still holds it; returns false (and changes nothing) if it had been lost. */
  async release(held: Lease): Promise<boolean> {
    try {
      await this.ownerWrite(held, 'REMOVE #owner, leaseUntil', {}, false);
      return true;
    } catch (error) {
      if (error instanceof LeaseLostError) return false;
      throw error;
    }
  }

  private async ownerWrite(held: Lease, update: string, values: Record<string, unknown>, live: boolean): Promise<void> {
    try {
      await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(held.key),
          UpdateExpression: update,
          // Admits only the holder of this very acquisition (owner and token
          // both match) and, for an extension, only while its lease is live.
          // Rejects a holder whose lease ended, whether or not someone has
          // taken the lock since: it must stop, not resurrect its lease.
          ConditionExpression: live ? '#owner = :owner AND fencingToken = :token AND leaseUntil >= :now' : '#owner = :owner AND fencingToken = :token',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': held.owner, ':token': held.token, ...values },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : {};
      // A release the SDK retried after its response was lost: the lock is free
      // and nobody took it since (same token). (An extension needs no such
      // check: its retry still finds the caller holding a live lease.)
      if (!live && old.owner === undefined && Number(old.fencingToken) === held.token) return;
      throw new LeaseLostError(held.key, held.token);
    }
  }
}

/**
 * A condition for a write to a resource the lock protects: admits the write
 * when the item has never been written under a lock (`fence` absent) or was
 * last written with a token no newer than `token`; rejects writes from a
 * holder whose lease was superseded. Set `fence = :fence` in the same write.
 */
export function fencedCondition(token: number): { ConditionExpression: string; ExpressionAttributeValues: { ':fence': number } } {
  return { ConditionExpression: 'attribute_not_exists(fence) OR fence <= :fence', ExpressionAttributeValues: { ':fence': token } };
}

export interface WithLockOptions {
  /** How long a lease lasts before it must be extended. */
  readonly lease: Duration;
  /** Keep trying for this long (polling with backoff) when the lock is held. @default fail at once */
  readonly wait?: Duration;
  /** Extend the lease every this often while `fn` runs. @default a third of `lease` */
  readonly heartbeat?: Duration;
  readonly store?: LeaseStore;
  /** Identifies the holder in LockHeldError messages. @default a random id */
  readonly owner?: string;
}

export interface HeldLock extends Lease {
  /** Aborted when a heartbeat finds the lease lost: stop, and do not write. */
  readonly signal: AbortSignal;
}

/**
 * Runs `fn` holding lock `key`: acquires (waiting if asked), heartbeats while
 * `fn` runs, and releases afterwards. Throws {@link LockHeldError} if the lock
 * cannot be had, and {@link LeaseLostError} if the lease was lost while `fn`
 * ran (after `fn` settles, so no work is orphaned).
 */
export async function withLock<T>(key: string, options: WithLockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const store = options.store ?? new LeaseStore();
  const lease = await acquireWaiting(store, key, options);
  const controller = new AbortController();
  let current = lease;
  const every = options.heartbeat?.milliseconds ?? Math.max(1, Math.floor(options.lease.milliseconds / 3));
  const timer = setInterval(() => {
    store.extend(current, options.lease).then(
      (extended) => {
        current = extended;
      },
      (error: unknown) => controller.abort(error),
    );
  }, every);
  try {
    const result = await fn({ ...lease, signal: controller.signal });
    if (controller.signal.aborted) throw new LeaseLostError(key, lease.token);
    return result;
  } finally {
    clearInterval(timer);
    await store.release(current);
  }
}

async function acquireWaiting(store: LeaseStore, key: string, options: WithLockOptions): Promise<Lease> {
  const deadline = Date.now() + (options.wait?.milliseconds ?? 0);
  let delay = millis(25).milliseconds;
  for (;;) {
    try {
      return await store.acquire(key, options.lease, options.owner);
    } catch (error) {
      if (!(error instanceof LockHeldError) || Date.now() + 1 >= deadline) throw error;
      // Full jitter, doubling, never past the deadline or the holder's lease end.
      const untilFree = Math.max(0, error.leaseUntil - Date.now());
      await sleep(Math.min(Math.random() * delay, deadline - Date.now(), untilFree + 5));
      delay = Math.min(delay * 2, seconds(2).milliseconds);
    }
  }
}
