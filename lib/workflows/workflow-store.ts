/**
 * Workflow state in DynamoDB: one META item per workflow, one item per node
 * of its tree (task, chain or group) and a group's counter shards, all under
 * `WF#<id>`. Every state change is a conditional write, and a group member's
 * completion and its shard's count move together in one transaction (for a
 * task member, the same transaction that records its job's success), so a
 * duplicate delivery or a retried member never counts twice.
 *
 * Counting a large group: member `i` of `n` counts into shard `i % shards`
 * (`shards = ceil(n / membersPerShard)`, recorded on the group's node when the
 * workflow is created), so members finishing at once touch
 * different items and conflicts per member stay bounded however large the
 * group. The member that completes a shard adds the shard's number to the
 * group node's `closedShards` set (an idempotent write, one per shard); the
 * write that closes the last shard finds the set complete, and the group
 * finishes. A group's results stay in its members' items: none is copied
 * into one item, so no 400 KB item bounds a group.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type QueryCommandInput, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied, transactWrite } from '../aws/conditional-write.js';
import type { CompletionWrite } from '../jobs/job-state.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { sleep } from '../util/sleep.js';

export const WorkflowStatus = { RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED' } as const;
export type WorkflowStatus = (typeof WorkflowStatus)[keyof typeof WorkflowStatus];

export const NodeStatus = { PENDING: 'PENDING', QUEUED: 'QUEUED', RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED' } as const;
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

export interface WorkflowError {
  readonly nodeId: string;
  readonly task?: string;
  readonly name: string;
  readonly message: string;
}

export interface WorkflowMeta {
  readonly workflowId: string;
  readonly status: WorkflowStatus;
  readonly root: string;
  readonly createdAt: number;
  readonly deadline?: number;
  readonly finishedAt?: number;
  readonly result?: unknown;
  /** The result is too large for this item: it is read from the root group's members. */
  readonly resultInMembers?: boolean;
  readonly error?: WorkflowError;
  /** Task nodes in the tree: the denominator of progress. */
  readonly taskNodes: number;
  /** The task run once if the workflow fails, with its input and `{ workflowId, error }`. */
  readonly onError?: { readonly task: string; readonly queue: string; readonly input?: unknown };
}

export interface NodeItem {
  readonly id: string;
  readonly kind: 'task' | 'chain' | 'group';
  readonly status: NodeStatus;
  readonly parent?: string;
  readonly index: number;
  readonly children: readonly string[];
  readonly task?: string;
  readonly queue?: string;
  readonly input?: unknown;
  readonly hasInput?: boolean;
  readonly immutable?: boolean;
  readonly jobId?: string;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** Groups: counter shards (see the file comment). */
  readonly shards?: number;
}

/** Members per counter shard of a group, by default (see the file comment). */
export const MEMBERS_PER_SHARD = 8;

/** Where a group's member `index` (of `size`) counts its completion. */
export interface ShardOf {
  readonly group: string;
  readonly shard: number;
  /** Members that count into this shard. */
  readonly members: number;
  /** Shards of the group. */
  readonly shards: number;
  /**
   * A group created before counter shards (no `shards` on its node): counted,
   * as it was then, in `done` on the group's own node, so a workflow in flight
   * across the deploy of this version still finishes.
   */
  readonly legacy?: true;
}

export function shardOf(group: string, size: number, index: number, shards: number): ShardOf {
  const shard = index % shards;
  return { group, shard, shards, members: Math.floor((size - 1 - shard) / shards) + 1 };
}

const META = 'META';
const pkOf = (workflowId: string) => `WF#${workflowId}`;
const skOf = (nodeId: string) => `NODE#${nodeId}`;
const shardSkOf = (groupId: string, shard: number) => `COUNT#${groupId}#${shard}`;

/** How long a counter shard is kept (a few bytes each): longer than a workflow's records by default (7 days), unless given a longer `ttl`. */
const SHARD_TTL_SECONDS = 90 * 24 * 3600;

/** A group's results, read to pass to the next step, are more than the step's message can carry. */
export class ResultsTooLargeError extends Error {
  override readonly name = 'ResultsTooLargeError';
  constructor(workflowId: string, budgetBytes: number) {
    super(
      `workflow ${workflowId}: a group's results are over ${budgetBytes.toLocaleString('en-US')} bytes as JSON, more than the next step's message can carry (SQS: 1 MiB); ` +
        'return ids from the members and let the next step read the data',
    );
  }
}

export class WorkflowStore {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable(options);
  }

  now(): number {
    return this.state.now();
  }

  /**
   * Writes every node (all PENDING), then the META item, each only if absent:
   * a start repeated under the same id (a redelivery of the job that starts
   * it) never resets a node an earlier start has moved on. Nodes go in
   * transactions of up to 100, so a chunk is all there or not at all; a chunk
   * refused because its items exist was written by an earlier start of the
   * same tree. META goes last: once it exists, the tree is whole. Returns
   * false when META existed already (the workflow was created before).
   */
  async create(meta: WorkflowMeta, nodes: readonly NodeItem[], ttlSeconds: number): Promise<boolean> {
    if ((await this.meta(meta.workflowId)) !== undefined) return false;
    const expiresAt = Math.ceil(meta.createdAt / 1000) + ttlSeconds;
    const items = nodes.map((n) => ({ pk: pkOf(meta.workflowId), sk: skOf(n.id), ...n, expiresAt }));
    // Each group's counter shards, at zero: a shard left by an earlier workflow of the same id (past its TTL, not yet deleted) starts again.
    const shards = nodes.flatMap((n) => Array.from({ length: n.kind === 'group' ? (n.shards ?? 0) : 0 }, (_, shard) => ({ pk: pkOf(meta.workflowId), sk: shardSkOf(n.id, shard), done: 0, expiresAt })));
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const chunk of transactionChunks([...items, ...shards])) {
      const write = new TransactWriteCommand({
        TransactItems: chunk.map((Item) =>
          String(Item.sk).startsWith('COUNT#')
            ? {
                // Admits a shard not written yet, or one past its TTL; refused (live), the chunk was written by an earlier start.
                Put: { TableName: this.state.name, Item, ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now', ExpressionAttributeValues: { ':now': nowSeconds } },
              }
            : {
                // Admits a node not written yet; refused, the chunk was written by an earlier start.
                Put: { TableName: this.state.name, Item, ConditionExpression: 'attribute_not_exists(pk)' },
              },
        ),
      });
      // Refused: the chunk was written by an earlier start of the same tree.
      await transactWrite(this.state.db, write);
    }
    return applied(
      this.state.db.send(
        new PutCommand({
          TableName: this.state.name,
          Item: { pk: pkOf(meta.workflowId), sk: META, ...meta, expiresAt },
          // Admits the first start to finish writing the tree; a concurrent repeat is refused and keeps the first.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async meta(workflowId: string): Promise<WorkflowMeta | undefined> {
    const { Item } = await this.state.db.send(new GetCommand({ TableName: this.state.name, Key: { pk: pkOf(workflowId), sk: META }, ConsistentRead: true }));
    return Item as WorkflowMeta | undefined;
  }

  async node(workflowId: string, nodeId: string): Promise<NodeItem> {
    const { Item } = await this.state.db.send(new GetCommand({ TableName: this.state.name, Key: { pk: pkOf(workflowId), sk: skOf(nodeId) }, ConsistentRead: true }));
    if (Item === undefined) throw new Error(`workflow ${workflowId} has no node ${nodeId}`);
    return Item as NodeItem;
  }

  async nodes(workflowId: string): Promise<NodeItem[]> {
    return (await this.queryNodes(workflowId, { ConsistentRead: true })) as unknown as NodeItem[];
  }

  /**
   * The task nodes' task names and statuses, and nothing else (no inputs or
   * results cross the wire): what progress needs. Eventually consistent, as
   * progress shown to people can be a moment behind; half the read cost.
   */
  async taskStatuses(workflowId: string): Promise<Array<{ task: string; status: NodeStatus }>> {
    const items = await this.queryNodes(workflowId, {
      FilterExpression: '#kind = :task',
      ProjectionExpression: '#task, #status',
      ExpressionAttributeNames: { '#kind': 'kind', '#task': 'task', '#status': 'status' },
      ExpressionAttributeValues: { ':task': 'task' },
    });
    return items.map((item) => ({ task: String(item.task), status: item.status as NodeStatus }));
  }

  /** Every node item of the workflow, page by page; `extra` adds a filter, projection or consistency. */
  private async queryNodes(workflowId: string, extra: Partial<QueryCommandInput>): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.state.db.send(
        new QueryCommand({
          ...extra,
          TableName: this.state.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :node)',
          ExpressionAttributeValues: { ...extra.ExpressionAttributeValues, ':pk': pkOf(workflowId), ':node': 'NODE#' },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  /**
   * The results of `nodeIds`, in that order; a group among them gives the list
   * of its members' results (a group keeps none of its own). Reads stop with
   * {@link ResultsTooLargeError} once the results pass `budgetBytes` (as
   * JSON): a list that large could not travel to the next step anyway.
   */
  async results(workflowId: string, nodeIds: readonly string[], budgetBytes = Number.POSITIVE_INFINITY): Promise<unknown[]> {
    let spent = 0;
    const read = async (ids: readonly string[]): Promise<unknown[]> => {
      const byId = new Map<string, { kind?: string; result?: unknown; children?: string[] }>();
      for (let i = 0; i < ids.length; i += 100) {
        let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((id) => ({ pk: pkOf(workflowId), sk: skOf(id) }));
        for (let attempt = 0; keys.length > 0; attempt++) {
          const { Responses, UnprocessedKeys } = await this.state.db.send(
            new BatchGetCommand({
              RequestItems: {
                [this.state.name]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'id, #kind, #result, children', ExpressionAttributeNames: { '#kind': 'kind', '#result': 'result' } },
              },
            }),
          );
          for (const item of Responses?.[this.state.name] ?? []) {
            if (item.kind !== 'group') spent += Buffer.byteLength(JSON.stringify(item.result ?? null), 'utf8');
            if (spent > budgetBytes) throw new ResultsTooLargeError(workflowId, budgetBytes);
            byId.set(String(item.id), item);
          }
          keys = (UnprocessedKeys?.[this.state.name]?.Keys ?? []) as Record<string, unknown>[];
          if (keys.length > 0) await sleep(Math.min(1_000, Math.random() * 50 * 2 ** attempt));
        }
      }
      const out: unknown[] = [];
      for (const id of ids) {
        const item = byId.get(id);
        out.push(item?.kind === 'group' ? await read(item.children ?? []) : item?.result);
      }
      return out;
    };
    return read(nodeIds);
  }

  /**
   * PENDING → RUNNING for a chain or group being started. A first start
   * admits only PENDING, so of two callers starting the same step at once one
   * sends its members; a re-drive (`redrive`) admits RUNNING too and goes on
   * to the members still pending, whose sends may never have happened.
   */
  async markRunning(workflowId: string, nodeId: string, redrive: boolean): Promise<boolean> {
    return this.update(workflowId, skOf(nodeId), 'SET #status = :running', {
      // Admits a node not yet started, and when re-driving one running; rejects one that ended.
      condition: redrive ? '#status IN (:pending, :running)' : '#status = :pending',
      by: 'startedBy',
      values: { ':running': NodeStatus.RUNNING, ':pending': NodeStatus.PENDING },
    });
  }

  /**
   * Records a node's result (a group's stays in its members: `keepResult`
   * false). When its parent is a group, the node's shard counts it in the same
   * transaction. False when the node had already finished: a duplicate
   * completion, which must not count again.
   */
  async finishNode(workflowId: string, nodeId: string, result: unknown, counter: ShardOf | undefined, keepResult = true): Promise<boolean> {
    // Names this write, so that its own retry (its response lost) is told from another caller's.
    const finishedBy = randomUUID();
    const [finish, count] = this.completion(workflowId, nodeId, keepResult ? { value: result } : undefined, counter, finishedBy);
    const update = { ...finish?.Update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } as NonNullable<CompletionWrite['Update']>;
    if (count === undefined) {
      try {
        await this.state.db.send(new UpdateCommand(update));
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return error.Item !== undefined && unmarshall(error.Item).finishedBy === finishedBy;
      }
    }
    // A refusal means the node was counted already (node and shard move
    // together): by another caller, or by this very transaction, retried by
    // the SDK after its response was lost (told apart by `finishedBy`).
    const refusal = await transactWrite(this.state.db, new TransactWriteCommand({ TransactItems: [{ Update: update }, count] }));
    const old = refusal?.CancellationReasons?.[0]?.Item;
    return refusal === undefined || (old !== undefined && unmarshall(old).finishedBy === finishedBy);
  }

  /**
   * The writes that record a task member's success, for its job's success
   * transaction: its node SUCCEEDED with the result, and its shard's count.
   */
  completionWrites(workflowId: string, nodeId: string, result: unknown, counter: ShardOf | undefined): CompletionWrite[] {
    return this.completion(workflowId, nodeId, { value: result }, counter, randomUUID());
  }

  private completion(workflowId: string, nodeId: string, result: { value: unknown } | undefined, counter: ShardOf | undefined, finishedBy: string): CompletionWrite[] {
    const finish: CompletionWrite = {
      Update: {
        TableName: this.state.name,
        Key: { pk: pkOf(workflowId), sk: skOf(nodeId) },
        UpdateExpression: result === undefined ? 'SET #status = :succeeded, finishedBy = :finishedBy' : 'SET #status = :succeeded, #result = :result, finishedBy = :finishedBy',
        // Admits a node still active (pending, queued or running); rejects one
        // that already succeeded (a duplicate delivery or a retried member),
        // failed or was cancelled.
        ConditionExpression: '#status IN (:pending, :queued, :running)',
        ExpressionAttributeNames: { '#status': 'status', ...(result !== undefined && { '#result': 'result' }) },
        ExpressionAttributeValues: {
          ':succeeded': NodeStatus.SUCCEEDED,
          ...(result !== undefined && { ':result': result.value ?? null }),
          ':pending': NodeStatus.PENDING,
          ':queued': NodeStatus.QUEUED,
          ':running': NodeStatus.RUNNING,
          ':finishedBy': finishedBy,
        },
      },
    };
    if (counter === undefined) return [finish];
    if (counter.legacy === true) {
      return [
        finish,
        {
          Update: {
            TableName: this.state.name,
            Key: { pk: pkOf(workflowId), sk: skOf(counter.group) },
            UpdateExpression: 'ADD done :one',
            // Admits a running group; a finished or cancelled group counts nothing more.
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':one': 1, ':running': NodeStatus.RUNNING },
          },
        },
      ];
    }
    return [
      finish,
      {
        Update: {
          TableName: this.state.name,
          Key: { pk: pkOf(workflowId), sk: shardSkOf(counter.group, counter.shard) },
          // No condition: the node's own condition, in the same transaction, makes the count once per member.
          UpdateExpression: 'ADD done :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ExpressionAttributeValues: { ':one': 1, ':expiresAt': Math.ceil(this.now() / 1000) + SHARD_TTL_SECONDS },
        },
      },
    ];
  }

  /** Members counted in a shard so far (a consistent read). */
  async shardCount(workflowId: string, counter: ShardOf): Promise<number> {
    const sk = counter.legacy === true ? skOf(counter.group) : shardSkOf(counter.group, counter.shard);
    const { Item } = await this.state.db.send(
      new GetCommand({ TableName: this.state.name, Key: { pk: pkOf(workflowId), sk }, ConsistentRead: true, ProjectionExpression: 'done' }),
    );
    return typeof Item?.done === 'number' ? Item.done : 0;
  }

  /**
   * Adds a complete shard to its group's `closedShards` and returns how many
   * shards are closed. Idempotent (a set's ADD): a repeat, or two members
   * that both saw the shard complete, close it once.
   */
  async closeShard(workflowId: string, counter: ShardOf): Promise<number> {
    if (counter.legacy === true) return 1; // one counter, complete when its count is
    const { Attributes } = await this.state.db.send(
      new UpdateCommand({
        TableName: this.state.name,
        Key: { pk: pkOf(workflowId), sk: skOf(counter.group) },
        UpdateExpression: 'ADD closedShards :shard',
        // Admits the group's node only (never creates an item).
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':shard': new Set([String(counter.shard)]) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const closed = Attributes?.closedShards as Set<string> | undefined;
    return closed?.size ?? 0;
  }

  /** Marks an active node FAILED with its error; false if it had already ended. */
  async failNode(workflowId: string, nodeId: string, error: { name: string; message: string }): Promise<boolean> {
    return this.update(workflowId, skOf(nodeId), 'SET #status = :failed, #error = :error', {
      // Admits an active node; rejects one that already ended.
      condition: '#status IN (:pending, :queued, :running)',
      names: { '#error': 'error' },
      values: { ':failed': NodeStatus.FAILED, ':error': error, ':pending': NodeStatus.PENDING, ':queued': NodeStatus.QUEUED, ':running': NodeStatus.RUNNING },
    });
  }

  /** Marks a node that has not ended CANCELLED (its caller cancelled its job first, or found none); false if it had ended. */
  async cancelNode(workflowId: string, nodeId: string): Promise<boolean> {
    return this.update(workflowId, skOf(nodeId), 'SET #status = :cancelled', {
      // Admits a node not yet ended (a task member stays PENDING until its job's
      // success records it); rejects a finished or failed one, left as it ended.
      condition: '#status IN (:pending, :queued)',
      by: 'cancelledBy',
      values: { ':cancelled': NodeStatus.CANCELLED, ':pending': NodeStatus.PENDING, ':queued': NodeStatus.QUEUED },
    });
  }

  /** RUNNING → `status`, with the result or error. False if the workflow had already ended: the first ending wins. */
  async endWorkflow(workflowId: string, status: Exclude<WorkflowStatus, 'RUNNING'>, outcome: { result?: unknown; resultInMembers?: boolean; error?: WorkflowError }): Promise<boolean> {
    const expression = `SET #status = :status, finishedAt = :now, #result = :result, #error = :error${outcome.resultInMembers === true ? ', resultInMembers = :true' : ''}`;
    return this.update(workflowId, META, expression, {
      // Admits a running workflow; rejects one that already succeeded, failed,
      // was cancelled or timed out, so only one ending is recorded (and only
      // the caller that recorded it runs the error callback).
      condition: '#status = :running',
      names: { '#result': 'result', '#error': 'error' },
      values: {
        ':status': status,
        ':running': WorkflowStatus.RUNNING,
        ':now': this.now(),
        ':result': outcome.result ?? null,
        ':error': outcome.error ?? null,
        ...(outcome.resultInMembers === true && { ':true': true }),
      },
    });
  }

  /**
   * One conditional update. With `by`, the update also sets `by.attribute` to
   * a random id, and a refusal whose item carries that id is this very write,
   * retried by the SDK after its response was lost: it counts as applied.
   */
  private async update(
    workflowId: string,
    sk: string,
    expression: string,
    spec: { condition: string; values: Record<string, unknown>; names?: Record<string, string>; by?: string },
  ): Promise<boolean> {
    const id = randomUUID();
    try {
      await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: { pk: pkOf(workflowId), sk },
          UpdateExpression: spec.by === undefined ? expression : `${expression}, ${spec.by} = :by`,
          ConditionExpression: spec.condition,
          ExpressionAttributeNames: { '#status': 'status', ...spec.names },
          ExpressionAttributeValues: { ...spec.values, ...(spec.by !== undefined && { ':by': id }) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return spec.by !== undefined && error.Item !== undefined && unmarshall(error.Item)[spec.by] === id;
    }
  }
}

/** Node items in chunks a transaction takes: at most 100 items and well under its 4 MB. */
function transactionChunks<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (current.length === 100 || (current.length > 0 && bytes + size > 3_000_000)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
