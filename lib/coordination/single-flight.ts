/**
 * Single-flight cached computations: for one key, one DynamoDB item carries
 * the whole state (phase, lease, fencing token, result, freshness, last
 * error), so one read answers a request and one conditional write decides who
 * refreshes. This replaces the seed tutorial's cache + lock + "working" +
 * "task sent" markers, without the gap between reading a marker and setting it.
 *
 * A refresh costs three writes: the request that wins the claim (→ queued),
 * the worker's claim of the run (→ running), and the result (→ ready) or the
 * failure. Crashes heal: a claim whose enqueue or run died lapses with its
 * lease, and the next request claims again with a newer token, which also
 * fences off the old run's late writes.
 *
 * Phases: absent → queued → running → ready | failed; ready or failed → queued
 * again once the result is no longer fresh or the failure's cool-down ended.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied } from '../aws/conditional-write.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { type Duration, minutes, seconds } from '../app/duration.js';

export const FLIGHT_ITEM = {
  pkOf: (key: string) => `FLIGHT#${key}`,
  sk: 'FLIGHT',
  ttl: 'expiresAt',
} as const;

export type Phase = 'queued' | 'running' | 'ready' | 'failed';

/** The stored state of one key. Times are epoch milliseconds. */
export interface FlightItem {
  readonly key: string;
  readonly phase: Phase;
  readonly token: number;
  readonly jobId?: string;
  /** While queued or running: when the claim lapses unless renewed. */
  readonly leaseUntil?: number;
  readonly claimedAt?: number;
  readonly result?: unknown;
  readonly computedAt?: number;
  readonly freshUntil?: number;
  /** Last moment the result may be served at all (stale after `freshUntil`). */
  readonly staleUntil?: number;
  readonly attempts?: number;
  readonly lastError?: { readonly name: string; readonly message: string; readonly code?: string };
  readonly failedAt?: number;
  /** After a failure: no new refresh is claimed before this. */
  readonly retryAt?: number;
  /** Set by the run that started: an id its progress can be followed by (a workflow's id, say). */
  readonly runRef?: string;
  /** Names the start of the current claim's run (a start recognises its own retried write by it); absent until it starts. */
  readonly startedBy?: string;
  /** When the current claim's job was last re-sent, and by which request (see `redriveAfter`). */
  readonly resentAt?: number;
  readonly resentBy?: string;
}

/** What a request learns, in one read (and, at most, one write). */
export type FlightAnswer<R = unknown> =
  | {
      readonly state: 'ready';
      readonly result: R;
      readonly computedAt: number;
      readonly freshUntil: number;
      /** The result is past its freshness and a refresh has been claimed. */
      readonly stale: boolean;
      readonly refreshing: boolean;
      /** Set when the latest refresh failed and the stale result is served meanwhile. */
      readonly refreshError?: FlightItem['lastError'];
      readonly jobId?: string;
    }
  | {
      readonly state: 'pending';
      readonly phase: 'queued' | 'running';
      readonly jobId?: string;
      /** When the current claim was made. */
      readonly since: number;
      /** True for the one request whose claim started this refresh. */
      readonly claimed: boolean;
      /** While running: the id the run's start gave to follow its progress by (see {@link SingleFlight.start}). */
      readonly runRef?: string;
    }
  | {
      readonly state: 'failed';
      readonly error: NonNullable<FlightItem['lastError']>;
      readonly failedAt: number;
      readonly retryAt: number;
      readonly jobId?: string;
    };

export interface FlightPolicy {
  /** A result is served as fresh this long. */
  readonly freshFor: Duration;
  /** …and then as stale (while one refresh runs) this much longer. @default 0: no stale serving */
  readonly staleFor?: Duration;
  /** A claim not yet picked up by a worker lapses after this. @default 1 minute */
  readonly queuedLease?: Duration;
  /** A run lapses after this unless heartbeated. @default 1 minute */
  readonly runLease?: Duration;
  /** After a failure, no refresh is claimed for this long. @default 30 seconds */
  readonly failureCooldown?: Duration;
  /**
   * A claim still queued this long after it was made (or last re-sent) has its
   * job sent again by the next request: the first send may never have
   * happened (the request that claimed died after its claim). The job is the
   * same (same id and token), so a copy that finds the run started is skipped.
   * @default 10 seconds
   */
  readonly redriveAfter?: Duration;
}

export const FLIGHT_DEFAULTS = {
  staleFor: seconds(0),
  queuedLease: minutes(1),
  runLease: minutes(1),
  failureCooldown: seconds(30),
  redriveAfter: seconds(10),
} as const;

/** What the request that wins a claim must send to a worker. */
export interface FlightClaim {
  readonly key: string;
  readonly token: number;
  readonly jobId: string;
}

/** The run's claim was lost (superseded, or its lease ended): its result is not written. */
export class FlightLostError extends Error {
  override readonly name = 'FlightLostError';
  constructor(
    readonly key: string,
    readonly token: number,
  ) {
    super(`refresh ${token} of "${key}" no longer holds its claim; a newer refresh owns the key`);
  }
}

export class SingleFlight {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable(options);
  }

  private itemKey(key: string) {
    return { pk: FLIGHT_ITEM.pkOf(key), sk: FLIGHT_ITEM.sk };
  }

  /** The stored state, ignoring an item whose TTL has passed (DynamoDB deletes lazily). */
  async read(key: string): Promise<FlightItem | undefined> {
    const { Item } = await this.state.db.send(new GetCommand({ TableName: this.state.name, Key: this.itemKey(key), ConsistentRead: true }));
    return this.live(Item);
  }

  private live(item: Record<string, unknown> | undefined): FlightItem | undefined {
    if (item === undefined) return undefined;
    const ttl = item[FLIGHT_ITEM.ttl];
    if (typeof ttl === 'number' && ttl * 1000 <= this.state.now()) return undefined;
    return item as unknown as FlightItem;
  }

  /**
   * Answers a request for `key`: the result when ready and fresh (one read);
   * "pending" when a refresh is queued or running (no write); otherwise one
   * conditional write claims the refresh, and only the winner calls `enqueue`.
   * If `enqueue` throws, the claim is abandoned (the next request claims again)
   * and the error propagates.
   */
  async request<R>(key: string, policy: FlightPolicy, enqueue: (claim: FlightClaim) => Promise<void>): Promise<FlightAnswer<R>> {
    const item = await this.read(key);
    const now = this.state.now();
    if (item !== undefined && !needsRefresh(item, now)) {
      await this.redriveIfStuck(item, policy, now, enqueue);
      return answerFrom<R>(item, now, false);
    }

    const jobId = randomUUID();
    const claimed = await this.claim(key, policy, jobId, now, item?.staleUntil ?? 0);
    if (!claimed.won) return answerFrom<R>(claimed.item, now, false);
    const claim = { key, token: claimed.item.token, jobId };
    try {
      await enqueue(claim);
    } catch (error) {
      // Nothing may be queued for this claim: let the next request claim again
      // at once rather than wait for the lease (if the job was sent after all,
      // the newer token fences it off).
      await this.abandon(claim).catch(() => undefined);
      throw error;
    }
    return answerFrom<R>(claimed.item, now, true);
  }

  /**
   * Re-sends the job of a claim queued for longer than `redriveAfter` (one
   * request per interval wins the right to, by a conditional write). A failed
   * re-send is left for the next request to try.
   */
  private async redriveIfStuck(item: FlightItem, policy: FlightPolicy, now: number, enqueue: (claim: FlightClaim) => Promise<void>): Promise<void> {
    const after = (policy.redriveAfter ?? FLIGHT_DEFAULTS.redriveAfter).milliseconds;
    const since = item.resentAt ?? item.claimedAt ?? now;
    if (item.phase !== 'queued' || item.jobId === undefined || item.startedBy !== undefined || now - since < after) return;
    const claim = { key: item.key, token: item.token, jobId: item.jobId };
    const resentBy = randomUUID();
    const outcome = await this.owned(claim, 'SET resentAt = :now, resentBy = :resentBy', {
      // Admits the queued claim with this token, never started (a claim queued
      // again for its job's retry waits for that retry), when nobody re-sent its
      // job in the last interval; rejects every other request of the interval,
      // and a claim that was started or superseded meanwhile.
      condition: '#token = :token AND phase = :queued AND attribute_not_exists(startedBy) AND (attribute_not_exists(resentAt) OR resentAt <= :before)',
      values: { ':queued': 'queued', ':now': now, ':before': now - after, ':resentBy': resentBy },
    });
    // Refused by this very write (the SDK retried it) counts as won.
    if (!outcome.applied && outcome.old?.resentBy !== resentBy) return;
    await enqueue(claim).catch(() => undefined);
  }

  /** Ends a queued claim's lease now; false when the claim was picked up or superseded. */
  async abandon(claim: FlightClaim): Promise<boolean> {
    const now = this.state.now();
    const { applied: done } = await this.owned(claim, 'SET leaseUntil = :past', {
      // Admits the claim with this token and job, still queued and never
      // started; rejects one a worker started and a newer claim.
      condition: '#token = :token AND jobId = :jobId AND phase = :queued AND attribute_not_exists(startedBy)',
      values: { ':past': now - 1, ':jobId': claim.jobId, ':queued': 'queued' },
    });
    return done;
  }

  private async claim(key: string, policy: FlightPolicy, jobId: string, now: number, staleUntil: number): Promise<{ won: boolean; item: FlightItem }> {
    const queuedLease = (policy.queuedLease ?? FLIGHT_DEFAULTS.queuedLease).milliseconds;
    try {
      const { Attributes } = await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.itemKey(key),
          UpdateExpression:
            'SET #key = :key, phase = :queued, jobId = :jobId, leaseUntil = :lease, claimedAt = :now, ' +
            '#ttl = :ttl ADD #token :one REMOVE startedBy, runRef, resentAt',
          // Admits: no item, or one whose TTL passed; no live claim (no lease, or
          // its lease lapsed: the enqueue or the run died); and no fresh result;
          // and no failure still cooling down. Rejects every other request: it
          // reads the state it lost to from the old item instead of enqueuing.
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl <= :nowS OR (' +
            '(attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND ' +
            '(attribute_not_exists(freshUntil) OR freshUntil <= :now) AND ' +
            '(attribute_not_exists(retryAt) OR retryAt <= :now))',
          ExpressionAttributeNames: { '#key': 'key', '#ttl': FLIGHT_ITEM.ttl, '#token': 'token' },
          ExpressionAttributeValues: {
            ':key': key,
            ':queued': 'queued',
            ':jobId': jobId,
            ':lease': now + queuedLease,
            ':now': now,
            ':nowS': Math.floor(now / 1000),
            // The item outlives the refresh by a day, and any stale result it still serves.
            ':ttl': Math.ceil(Math.max(now + queuedLease, staleUntil) / 1000) + 86_400,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { won: true, item: Attributes as unknown as FlightItem };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || error.Item === undefined) throw error;
      const item = unmarshall(error.Item) as FlightItem;
      // The claim names this request's job: the SDK retried a claim whose response was lost, and the first try won.
      return { won: item.jobId === jobId && item.phase === 'queued', item };
    }
  }

  /**
   * The worker's claim of the run (queued → running). Returns false when the
   * claim is stale (a newer refresh owns the key, or this one already ran):
   * the caller skips the computation. `runRef` (a workflow's id, say) is
   * stored with the run and answered to pending requests, which can follow
   * the run's progress by it.
   */
  async start(claim: FlightClaim, policy: FlightPolicy, options: { readonly runRef?: string } = {}): Promise<boolean> {
    const now = this.state.now();
    const runLease = (policy.runLease ?? FLIGHT_DEFAULTS.runLease).milliseconds;
    const startedBy = randomUUID();
    const update =
      options.runRef === undefined
        ? 'SET phase = :running, leaseUntil = :lease, startedBy = :startedBy ADD attempts :one REMOVE runRef'
        : 'SET phase = :running, leaseUntil = :lease, startedBy = :startedBy, runRef = :runRef ADD attempts :one';
    const outcome = await this.owned(claim, update, {
      // Admits the queued claim with this token (a retry of a failed attempt is
      // queued again under the same token) and, with a `runRef`, the run this
      // claim already started under that same ref while its lease is live: a
      // redelivery re-drives a start whose effect (the workflow it starts, say)
      // may not have happened. Rejects a newer claim, a finished one, and a run
      // without a ref already in progress (a duplicate delivery).
      condition:
        options.runRef === undefined
          ? '#token = :token AND phase = :queued'
          : '#token = :token AND (phase = :queued OR (phase = :running AND runRef = :runRef AND leaseUntil >= :now))',
      values: {
        ':running': 'running',
        ':queued': 'queued',
        ':lease': now + runLease,
        ':one': 1,
        ':startedBy': startedBy,
        ...(options.runRef !== undefined && { ':runRef': options.runRef, ':now': now }),
      },
    });
    // Refused by this very start: the SDK retried it after its response was lost.
    return outcome.applied || outcome.old?.startedBy === startedBy;
  }

  /** Extends a running claim's lease; false when the claim was lost. */
  async heartbeat(claim: FlightClaim, policy: FlightPolicy): Promise<boolean> {
    const now = this.state.now();
    const { applied: held } = await this.owned(claim, 'SET leaseUntil = :lease', {
      // Admits the running claim with this token while its lease is live;
      // rejects a lapsed or superseded one, which must not come back to life.
      condition: '#token = :token AND phase = :running AND leaseUntil >= :now',
      values: { ':running': 'running', ':lease': now + (policy.runLease ?? FLIGHT_DEFAULTS.runLease).milliseconds, ':now': now },
    });
    return held;
  }

  /** Stores the result (running → ready). Throws {@link FlightLostError} when the claim no longer holds. */
  async complete(claim: FlightClaim, policy: FlightPolicy, result: unknown): Promise<void> {
    const now = this.state.now();
    const freshUntil = now + policy.freshFor.milliseconds;
    const staleUntil = freshUntil + (policy.staleFor ?? FLIGHT_DEFAULTS.staleFor).milliseconds;
    const outcome = await this.owned(
      claim,
      'SET phase = :ready, #result = :result, computedAt = :now, freshUntil = :fresh, staleUntil = :stale, #ttl = :ttl ' +
        'REMOVE leaseUntil, lastError, failedAt, retryAt',
      {
        // Admits the running claim with this token, only while its lease is
        // live; rejects a run whose lease lapsed (another refresh may be
        // running) and a superseded token: their results are dropped.
        condition: '#token = :token AND phase = :running AND leaseUntil >= :now',
        values: {
          ':ready': 'ready',
          ':running': 'running',
          ':result': result ?? null,
          ':now': now,
          ':fresh': freshUntil,
          ':stale': staleUntil,
          ':ttl': Math.ceil(staleUntil / 1000),
        },
        names: { '#result': 'result', '#ttl': FLIGHT_ITEM.ttl },
      },
    );
    // Refused because this claim's result is stored already: by this very write
    // (the SDK retried it after its response was lost) or by an earlier attempt
    // of the same claim's job, which died before reporting it. Only the claim's
    // own run moves its token to ready.
    const own = outcome.old?.phase === 'ready' && outcome.old.token === claim.token;
    if (!outcome.applied && !own) throw new FlightLostError(claim.key, claim.token);
  }

  /**
   * Records a failed attempt. With `final`, the key becomes failed until the
   * cool-down ends (its stale result, if any, is kept); otherwise the claim goes
   * back to queued, leased long enough for the job's retry to pick it up.
   */
  async fail(claim: FlightClaim, policy: FlightPolicy, error: { name: string; message: string; code?: string }, final: boolean, retryInMs = 0): Promise<void> {
    const now = this.state.now();
    const cooldown = (policy.failureCooldown ?? FLIGHT_DEFAULTS.failureCooldown).milliseconds;
    const queuedLease = (policy.queuedLease ?? FLIGHT_DEFAULTS.queuedLease).milliseconds;
    const lastError = { name: error.name, message: error.message, ...(error.code !== undefined && { code: error.code }) };
    await this.owned(
      claim,
      final
        ? 'SET phase = :failed, lastError = :error, failedAt = :now, retryAt = :retryAt, #ttl = :ttl REMOVE leaseUntil'
        : 'SET phase = :queued, lastError = :error, leaseUntil = :lease',
      {
        // Admits the running claim with this token; rejects a superseded one,
        // whose failure no longer describes the key.
        condition: '#token = :token AND phase = :running',
        values: final
          ? { ':failed': 'failed', ':running': 'running', ':error': lastError, ':now': now, ':retryAt': now + cooldown, ':ttl': Math.ceil((now + cooldown) / 1000) + 86_400 }
          : { ':queued': 'queued', ':running': 'running', ':error': lastError, ':lease': now + retryInMs + queuedLease },
        names: final ? { '#ttl': FLIGHT_ITEM.ttl } : {},
      },
    );
  }

  /**
   * Ends a failure's cool-down now, so the next request claims a refresh: a
   * user's explicit retry. Returns false when the key is not failed.
   */
  async allowRetry(key: string): Promise<boolean> {
    const now = this.state.now();
    return applied(this.state.db.send(
      new UpdateCommand({
        TableName: this.state.name,
        Key: this.itemKey(key),
        UpdateExpression: 'SET retryAt = :now',
        // Admits only a failed key; a queued, running or ready one has nothing to retry.
        ConditionExpression: 'phase = :failed',
        ExpressionAttributeValues: { ':failed': 'failed', ':now': now },
      }),
    ));
  }

  /**
   * Forces a refresh (an operator's "refresh now"): a ready key's result
   * stops being fresh now, so the next request claims a refresh while the
   * stale result is still served; a failed key's cool-down ends. Returns what
   * it did: `expired`, `retry-allowed`, or `nothing` for a key that is missing,
   * queued or running (a refresh is already on its way).
   */
  async forceRefresh(key: string): Promise<'expired' | 'retry-allowed' | 'nothing'> {
    const now = this.state.now();
    const expired = await applied(this.state.db.send(
      new UpdateCommand({
        TableName: this.state.name,
        Key: this.itemKey(key),
        UpdateExpression: 'SET freshUntil = :now',
        // Admits a ready key still fresh; a stale one is already refreshed by the next request. Again: the same.
        ConditionExpression: 'phase = :ready AND freshUntil > :now',
        ExpressionAttributeValues: { ':ready': 'ready', ':now': now },
      }),
    ));
    if (expired) return 'expired';
    if (await this.allowRetry(key)) return 'retry-allowed';
    const item = await this.read(key);
    return item?.phase === 'ready' ? 'expired' : 'nothing';
  }

  /** One conditional write on the claim's item: whether it applied, and the item that refused it (to recognise an own earlier write). */
  private async owned(
    claim: FlightClaim,
    update: string,
    spec: { condition: string; values: Record<string, unknown>; names?: Record<string, string> },
  ): Promise<{ applied: boolean; old?: FlightItem }> {
    try {
      await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.itemKey(claim.key),
          UpdateExpression: update,
          ConditionExpression: spec.condition,
          ExpressionAttributeNames: { '#token': 'token', ...spec.names },
          ExpressionAttributeValues: { ':token': claim.token, ...spec.values },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { applied: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { applied: false, ...(error.Item !== undefined && { old: unmarshall(error.Item) as FlightItem }) };
    }
  }
}

/** Whether a request finding `item` should try to claim a refresh. */
function needsRefresh(item: FlightItem, now: number): boolean {
  if ((item.phase === 'queued' || item.phase === 'running') && (item.leaseUntil ?? 0) >= now) return false;
  if (item.phase === 'failed' && (item.retryAt ?? 0) > now) return false;
  if (item.phase === 'ready' && (item.freshUntil ?? 0) > now) return false;
  return true;
}

/** The answer a request gets from `item` as it stands. */
function answerFrom<R>(item: FlightItem, now: number, claimed: boolean): FlightAnswer<R> {
  const servable = item.result !== undefined && item.computedAt !== undefined && (item.staleUntil ?? 0) > now;
  const inFlight = (item.phase === 'queued' || item.phase === 'running') && (item.leaseUntil ?? 0) >= now;
  const jobId = item.jobId === undefined ? {} : { jobId: item.jobId };
  if (servable) {
    const stale = (item.freshUntil ?? 0) <= now;
    return {
      state: 'ready',
      result: item.result as R,
      computedAt: item.computedAt ?? 0,
      freshUntil: item.freshUntil ?? 0,
      stale,
      refreshing: inFlight,
      ...(item.lastError !== undefined && { refreshError: item.lastError }),
      ...jobId,
    };
  }
  if (item.phase === 'failed' && item.lastError !== undefined) {
    return { state: 'failed', error: item.lastError, failedAt: item.failedAt ?? 0, retryAt: item.retryAt ?? 0, ...jobId };
  }
  const running = item.phase === 'running';
  return { state: 'pending', phase: running ? 'running' : 'queued', since: item.claimedAt ?? now, claimed, ...jobId, ...(running && item.runRef !== undefined && { runRef: item.runRef }) };
}
