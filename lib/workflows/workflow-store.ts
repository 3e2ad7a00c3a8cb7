/**
 * Workflow state in DynamoDB: one META item per workflow and one item per
 * node of its tree (task, chain or group), all under `WF#<id>`. Every state
 * change is a conditional write, and a group member's completion and its
 * group's counter move together in one transaction, so a duplicate delivery
 * or a retried member never counts twice.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type QueryCommandInput, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied, transactWrite } from '../aws/conditional-write.js';
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
  /** Groups: members that have succeeded. */
  readonly done?: number;
}

const META = 'META';
const pkOf = (workflowId: string) => `WF#${workflowId}`;
const skOf = (nodeId: string) => `NODE#${nodeId}`;

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
    for (const chunk of transactionChunks(items)) {
      const write = new TransactWriteCommand({
        TransactItems: chunk.map((Item) => ({
          // Admits a node not written yet; refused, the chunk was written by an earlier start.
          Put: { TableName: this.state.name, Item, ConditionExpression: 'attribute_not_exists(pk)' },
        })),
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

  /** The results of `nodeIds`, in that order. */
  async results(workflowId: string, nodeIds: readonly string[]): Promise<unknown[]> {
    const byId = new Map<string, unknown>();
    for (let i = 0; i < nodeIds.length; i += 100) {
      let keys: Record<string, unknown>[] = nodeIds.slice(i, i + 100).map((id) => ({ pk: pkOf(workflowId), sk: skOf(id) }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        const { Responses, UnprocessedKeys } = await this.state.db.send(
          new BatchGetCommand({ RequestItems: { [this.state.name]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'id, #result', ExpressionAttributeNames: { '#result': 'result' } } } }),
        );
        for (const item of Responses?.[this.state.name] ?? []) byId.set(String(item.id), item.result);
        keys = (UnprocessedKeys?.[this.state.name]?.Keys ?? []) as Record<string, unknown>[];
        if (keys.length > 0) await sleep(Math.random() * 50 * 2 ** attempt);
      }
    }
    return nodeIds.map((id) => byId.get(id));
  }

  /**
   * PENDING → QUEUED with the job that runs the node (its id is the node's
   * own, so every activation names the same job). True also when the node is
   * QUEUED with that job already: an activation repeated by a redelivery, whose
   * send may never have happened, sends it again. False once the node ran on.
   */
  async markQueued(workflowId: string, nodeId: string, jobId: string, redrive: boolean): Promise<boolean> {
    // The node keeps its signature's input (a repeated activation resolves it again); the job carries the resolved one.
    return this.update(workflowId, skOf(nodeId), 'SET #status = :queued, jobId = :jobId', {
      // Admits a node not yet activated and, when re-driving (a report repeated
      // by a redelivery), one queued for this same job, whose send may never
      // have happened. A first activation admits only PENDING, so of two
      // callers activating the same step at once (two members completing a
      // group together) one sends. Rejects a node that ran on, failed or was
      // cancelled: its job is not sent again.
      condition: redrive ? '#status = :pending OR (#status = :queued AND jobId = :jobId)' : '#status = :pending',
      by: 'queuedBy',
      values: { ':queued': NodeStatus.QUEUED, ':pending': NodeStatus.PENDING, ':jobId': jobId },
    });
  }

  /** PENDING → RUNNING for a chain or group being started; true also when it runs already (a repeated start goes on to its children). */
  async markRunning(workflowId: string, nodeId: string): Promise<boolean> {
    return this.update(workflowId, skOf(nodeId), 'SET #status = :running', {
      // Admits a node not yet started and one running (a repeat, or this write
      // retried by the SDK); rejects one that ended.
      condition: '#status IN (:pending, :running)',
      values: { ':running': NodeStatus.RUNNING, ':pending': NodeStatus.PENDING },
    });
  }

  /**
   * Records a node's result. When its parent is a group, the group's counter
   * moves in the same transaction. False when the node had already finished:
   * a duplicate completion, which must not count again.
   */
  async finishNode(workflowId: string, nodeId: string, result: unknown, groupParent: string | undefined): Promise<boolean> {
    // Names this write, so that its own retry (its response lost) is told from another caller's.
    const finishedBy = randomUUID();
    const finish = {
      TableName: this.state.name,
      Key: { pk: pkOf(workflowId), sk: skOf(nodeId) },
      UpdateExpression: 'SET #status = :succeeded, #result = :result, finishedBy = :finishedBy',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      // Admits a node still active (pending, queued or running); rejects one that
      // already succeeded (a duplicate delivery or a retried member), failed or
      // was cancelled.
      ConditionExpression: '#status IN (:pending, :queued, :running)',
      ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
      ExpressionAttributeValues: {
        ':succeeded': NodeStatus.SUCCEEDED,
        ':result': result ?? null,
        ':pending': NodeStatus.PENDING,
        ':queued': NodeStatus.QUEUED,
        ':running': NodeStatus.RUNNING,
        ':finishedBy': finishedBy,
      },
    };
    if (groupParent === undefined) {
      try {
        await this.state.db.send(new UpdateCommand(finish));
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return error.Item !== undefined && unmarshall(error.Item).finishedBy === finishedBy;
      }
    }
    const count = new TransactWriteCommand({
      TransactItems: [
        { Update: finish },
        {
          Update: {
            TableName: this.state.name,
            Key: { pk: pkOf(workflowId), sk: skOf(groupParent) },
            UpdateExpression: 'ADD done :one',
            // Admits a running group; a finished or cancelled group counts nothing more.
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':one': 1, ':running': NodeStatus.RUNNING },
          },
        },
      ],
    });
    // Members of one group finishing at once collide on the group's item:
    // DynamoDB cancels all but one transaction with TransactionConflict, which
    // transactWrite sends again. A refusal means the member was counted already
    // (node and counter move together): by another caller, or by this very
    // transaction, retried by the SDK after its response was lost (told apart
    // by `finishedBy`).
    const refusal = await transactWrite(this.state.db, count);
    const old = refusal?.CancellationReasons?.[0]?.Item;
    return refusal === undefined || (old !== undefined && unmarshall(old).finishedBy === finishedBy);
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

  /** Marks a node that has not started CANCELLED; false if it had started or ended. */
  async cancelNode(workflowId: string, nodeId: string): Promise<boolean> {
    return this.update(workflowId, skOf(nodeId), 'SET #status = :cancelled', {
      // Admits a node waiting to run (pending, or queued but not picked up);
      // rejects a running or finished one, which is left to end on its own.
      condition: '#status IN (:pending, :queued)',
      by: 'cancelledBy',
      values: { ':cancelled': NodeStatus.CANCELLED, ':pending': NodeStatus.PENDING, ':queued': NodeStatus.QUEUED },
    });
  }

  /** RUNNING → `status`, with the result or error. False if the workflow had already ended: the first ending wins. */
  async endWorkflow(workflowId: string, status: Exclude<WorkflowStatus, 'RUNNING'>, outcome: { result?: unknown; error?: WorkflowError }): Promise<boolean> {
    return this.update(workflowId, META, 'SET #status = :status, finishedAt = :now, #result = :result, #error = :error', {
      // Admits a running workflow; rejects one that already succeeded, failed,
      // was cancelled or timed out, so only one ending is recorded (and only
      // the caller that recorded it runs the error callback).
      condition: '#status = :running',
      names: { '#result': 'result', '#error': 'error' },
      values: { ':status': status, ':running': WorkflowStatus.RUNNING, ':now': this.now(), ':result': outcome.result ?? null, ':error': outcome.error ?? null },
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
