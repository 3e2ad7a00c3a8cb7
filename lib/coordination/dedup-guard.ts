/**
 * Dedup markers on enqueue, atomically: the seed tutorial's "task sent" and
 * "working" markers as one conditional write. A second enqueue with the same
 * key inside the window, or while the first job is still queued or running,
 * sends nothing and returns the first job's id.
 *
 * The marker item names the job that holds the key. When the window has
 * passed, the marker is taken over only if that job has finished (or is
 * untracked, or unknown), and only by a write conditional on the old job id,
 * so of two racers exactly one takes over and the other gets its job id.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied } from '../aws/conditional-write.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import type { EnqueueGuard } from '../jobs/enqueue.js';
import { JobStatus, NOT_FOUND, type JobStore } from '../jobs/job-state.js';
import { DynamoJobStore } from '../jobs/dynamo-job-store.js';

export const DEDUP_ITEM = {
  pkOf: (key: string) => `DEDUP#${key}`,
  sk: 'DEDUP',
  ttl: 'expiresAt',
} as const;

/** How long a marker whose job has no status record yet counts as live. */
const SEND_GRACE_MS = 30_000;

interface Holder {
  readonly jobId: string;
  readonly windowEnds: number;
  readonly markedAt: number;
}

export interface DedupGuardOptions extends StateTableOptions {
  /** Where the marker's job status is read, to tell a live job from a finished one. @default a DynamoJobStore on the same table */
  readonly jobs?: JobStore;
}

export class DynamoDedupGuard implements EnqueueGuard {
  private readonly state: StateTable;
  private readonly jobs: JobStore;

  constructor(options: DedupGuardOptions = {}) {
    this.state = new StateTable(options);
    this.jobs = options.jobs ?? new DynamoJobStore(options);
  }

  async admit(job: { jobId: string; task: string; queue: string; dedupKey: string; windowMs: number }) {
    let expected: string | undefined;
    for (let round = 0; round < 5; round++) {
      const holder = await this.takeMarker(job, expected);
      if (holder === undefined) return { admitted: true as const };
      const windowOpen = holder.windowEnds > this.state.now();
      if (windowOpen || (await this.stillActive(holder))) return { admitted: false as const, existingJobId: holder.jobId };
      expected = holder.jobId; // stale marker: take it over, conditional on it still naming that job
    }
    throw new Error(`dedup marker "${job.dedupKey}" kept changing hands; try again`);
  }

  /** Releases a marker whose job could not be sent, so the next enqueue is not deduplicated against nothing. */
  async release(dedupKey: string, jobId: string): Promise<void> {
    await applied(
      this.state.db.send(
        new DeleteCommand({
          TableName: this.state.name,
          Key: { pk: DEDUP_ITEM.pkOf(dedupKey), sk: DEDUP_ITEM.sk },
          // Admits only the marker this enqueue wrote; leaves one a later enqueue took over.
          ConditionExpression: 'jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      ),
    );
  }

  /** Writes the marker; returns undefined on success, or the marker that is in the way. */
  private async takeMarker(
    job: { jobId: string; task: string; dedupKey: string; windowMs: number },
    expectedHolder: string | undefined,
  ): Promise<Holder | undefined> {
    const now = this.state.now();
    try {
      await this.state.db.send(
        new PutCommand({
          TableName: this.state.name,
          Item: {
            pk: DEDUP_ITEM.pkOf(job.dedupKey),
            sk: DEDUP_ITEM.sk,
            jobId: job.jobId,
            task: job.task,
            windowEnds: now + job.windowMs,
            markedAt: now,
            // Kept a day past the window, so "while queued or running" can still be checked.
            [DEDUP_ITEM.ttl]: Math.ceil((now + job.windowMs) / 1000) + 86_400,
          },
          // First round admits only a key with no marker (or one whose TTL
          // passed). A takeover round admits only the very marker found stale
          // (same job id), so concurrent takeovers cannot both win; the loser
          // re-reads the winner's marker and is deduplicated against it.
          ConditionExpression:
            expectedHolder === undefined ? 'attribute_not_exists(pk) OR #ttl <= :nowS' : 'jobId = :expected',
          ...(expectedHolder === undefined
            ? { ExpressionAttributeNames: { '#ttl': DEDUP_ITEM.ttl }, ExpressionAttributeValues: { ':nowS': Math.floor(now / 1000) } }
            : { ExpressionAttributeValues: { ':expected': expectedHolder } }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) return { jobId: expectedHolder ?? '', windowEnds: 0, markedAt: 0 };
      const old = unmarshall(error.Item);
      // The marker names this very job: the SDK retried a put whose response was lost.
      if (old.jobId === job.jobId) return undefined;
      return { jobId: String(old.jobId), windowEnds: Number(old.windowEnds), markedAt: Number(old.markedAt) };
    }
  }

  /**
   * Whether the marker's job is queued or running. A job with no record is
   * taken as active while its marker is younger than the grace period: its
   * enqueue may not have written the record yet. (Untracked jobs have no
   * record, so for them only the window and the grace period apply.)
   */
  private async stillActive(holder: Holder): Promise<boolean> {
    const job = await this.jobs.get(holder.jobId);
    if (job.status === NOT_FOUND) return this.state.now() - holder.markedAt < SEND_GRACE_MS;
    return job.status === JobStatus.QUEUED || job.status === JobStatus.RUNNING;
  }
}
