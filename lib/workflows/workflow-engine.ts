/**
 * Runs workflows on SQS and DynamoDB. Members are ordinary tracked jobs; the
 * worker reports each member's final outcome to the engine (it is the
 * worker's `WorkflowHook`), and the engine advances the tree:
 *
 * - a chain activates its next step with the step's result, and finishes with
 *   the last step's;
 * - a group counts distinct members (member result and group counter move in
 *   one transaction) and finishes, with the results in member order, when the
 *   count is complete: the conditional write that finishes it admits one
 *   caller, so what follows (a chord's callback) is enqueued exactly once;
 * - a member that fails after its retries fails its workflow (the first
 *   failure wins), runs the optional error callback once, and cancels the
 *   members that have not started;
 * - a deadline job fails the workflow if it is still running when it is due,
 *   and a workflow whose last step finishes past its deadline fails too.
 *
 * Every transition is re-drivable: what it must cause (a step's job sent, a
 * chord's callback, the error callback, the cancels) is keyed by a
 * deterministic id (a node's job id derives from the workflow's and the
 * node's) and done again each time the transition is reported again, until
 * the state shows it done. The worker reports a member's outcome on every
 * delivery of its message, and keeps the message until the report went
 * through, so one lost call never strands a workflow. (See docs/reliability.md.)
 */
import { randomUUID } from 'node:crypto';
import { derivedId } from '../util/derived-id.js';
import { days, millis, type Duration } from '../app/duration.js';
import { DYNAMODB_MAX_ITEM_BYTES, storability } from '../aws/item-size.js';
import { jobs as defaultJobs, type JobClient, type TaskSend } from '../jobs/enqueue.js';
import { PayloadTooLargeError, SQS_MAX_MESSAGE_BYTES, type WorkflowMembership } from '../jobs/envelope.js';
import type { CompletionWrite } from '../jobs/job-state.js';
import { JobNotCancellableError, JobNotFoundError } from '../jobs/errors.js';
import { MAX_RESULT_BYTES } from '../jobs/run-attempt.js';
import { TASK_DEFAULTS } from '../jobs/task.js';
import type { WorkflowHook } from '../jobs/worker.js';
import { mapLimit } from '../util/map-limit.js';
import { inputFor, type Canvas, type Signature } from './canvas.js';
import { MEMBERS_PER_SHARD, NodeStatus, ResultsTooLargeError, shardOf, WorkflowStatus, WorkflowStore, type NodeItem, type ShardOf, type WorkflowError, type WorkflowMeta } from './workflow-store.js';

export const DEADLINE_TASK = 'ferry.workflow-deadline';

export class WorkflowDeadlineError extends Error {
  override readonly name = 'WorkflowDeadlineError';
}

export class WorkflowNotFoundError extends Error {
  override readonly name = 'WorkflowNotFoundError';
}

export interface StartOptions {
  /**
   * The workflow's id, chosen by the caller. Lets the caller record where to
   * follow the workflow before it starts, and makes the start re-drivable: a
   * second start with the same id finds the tree the first wrote (the first
   * start's canvas stands) and only starts again what is still pending.
   * @default a random UUID
   */
  readonly workflowId?: string;
  /** Fail the workflow if it has not finished by then. @default none */
  readonly deadline?: Duration;
  /** Run once if the workflow fails, with its input (an object, if any) and `{ workflowId, error }`. @default none */
  readonly onError?: Signature;
  /** Queue of the deadline job. @default the queue of the first task in the tree */
  readonly deadlineQueue?: string;
  /** How long the workflow's records are kept. @default 7 days */
  readonly ttl?: Duration;
}

export interface NodeView {
  readonly id: string;
  readonly kind: 'task' | 'chain' | 'group';
  readonly status: NodeStatus;
  readonly task?: string;
  readonly jobId?: string;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly children: readonly NodeView[];
}

export interface WorkflowView {
  readonly workflowId: string;
  readonly status: WorkflowStatus;
  readonly result?: unknown;
  readonly error?: WorkflowError;
  readonly deadline?: string;
  /** Task members: how many there are, and how many succeeded, failed or were cancelled. */
  readonly progress: { readonly total: number; readonly succeeded: number; readonly failed: number; readonly cancelled: number };
  readonly tree: NodeView;
}

export interface WorkflowStatusView {
  readonly workflowId: string;
  readonly status: WorkflowStatus;
  readonly result?: unknown;
  /** The result is a large group's: read it with `get`. */
  readonly resultInMembers?: true;
  readonly error?: WorkflowError;
}

export interface TaskProgress {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
}

export interface EngineOptions {
  /**
   * Members per counter shard of a group: a group of n members counts its
   * completions on ceil(n / membersPerShard) items, so that members finishing
   * at once seldom touch the same one. Fewer costs more shard closes (one
   * write per shard); more, more contention. Recorded on each group when its
   * workflow is created. `Infinity` counts every group on one item.
   * @default 8
   */
  readonly membersPerShard?: number;
}

export class WorkflowEngine implements WorkflowHook {
  private readonly membersPerShard: number;

  constructor(
    private readonly store: WorkflowStore = new WorkflowStore(),
    private readonly client: JobClient = defaultJobs,
    options: EngineOptions = {},
  ) {
    this.membersPerShard = options.membersPerShard ?? MEMBERS_PER_SHARD;
    if (!(this.membersPerShard >= 1)) throw new RangeError(`membersPerShard must be at least 1 (got ${this.membersPerShard})`);
  }

  /** Stores the tree and starts it. Returns the workflow's id at once; members run on the workers. */
  async start(canvas: Canvas, options: StartOptions = {}): Promise<{ workflowId: string }> {
    const workflowId = options.workflowId ?? randomUUID();
    const nodes = flatten(canvas, this.membersPerShard);
    const now = this.store.now();
    const root = nodes[0] as NodeItem;
    const meta: WorkflowMeta = {
      workflowId,
      status: WorkflowStatus.RUNNING,
      root: root.id,
      createdAt: now,
      taskNodes: nodes.filter((n) => n.kind === 'task').length,
      ...(options.deadline && { deadline: now + options.deadline.milliseconds }),
      ...(options.onError && { onError: { task: options.onError.task, queue: options.onError.queue, input: options.onError.input ?? null } }),
    };
    const created = await this.store.create(meta, nodes, Math.ceil((options.ttl ?? days(7)).milliseconds / 1000));
    const stored = created ? meta : await this.store.meta(workflowId);
    if (stored?.status !== WorkflowStatus.RUNNING) return { workflowId };
    if (options.deadline) {
      // Sent again by a repeated start: a deadline check is idempotent.
      const queue = options.deadlineQueue ?? nodes.find((n) => n.kind === 'task')?.queue ?? TASK_DEFAULTS.queue;
      const dueInMs = Math.max(0, (stored.deadline ?? now) - this.store.now());
      await this.client.sendTask(DEADLINE_TASK, { workflowId }, { queue, delay: millis(dueInMs), trackStatus: false });
    }
    // A repeated start reads the stored tree: its nodes, not this call's, say what is pending.
    const byId = created ? new Map(nodes.map((n) => [n.id, n])) : undefined;
    await this.activate(workflowId, created ? root : await this.store.node(workflowId, stored.root), undefined, !created, byId);
    return { workflowId };
  }

  completionWrites(member: WorkflowMembership, result: unknown): readonly CompletionWrite[] {
    // A message from before memberships carried their node's room: the engine records the result itself.
    if (member.resultRoom === undefined) return [];
    // A result the node cannot hold is not recorded with the job: finish() fails the workflow with the reason.
    if (!storability(result, 'result', member.resultRoom).storable) return [];
    const counter = member.group && shardOf(member.group.id, member.group.size, member.group.index, member.group.shards);
    return this.store.completionWrites(member.workflowId, member.nodeId, result, counter);
  }

  async succeeded(member: WorkflowMembership, result: unknown, reported?: { readonly again: boolean; readonly completed?: boolean }): Promise<void> {
    const again = reported?.again ?? false;
    if (reported?.completed === true && member.group !== undefined) {
      // Recorded and counted with the job's success: what is left is the group's (no read of the group's
      // node, whose member list can be long, nor of META: finishing the group checks the workflow runs).
      await this.afterMember(member.workflowId, shardOf(member.group.id, member.group.size, member.group.index, member.group.shards), again);
      return;
    }
    await this.finish(member.workflowId, member.nodeId, result, again, reported?.completed ?? false);
  }

  async failed(member: WorkflowMembership, error: Error): Promise<void> {
    // A message naming a workflow that does not exist (expired, or never was) reports nothing: the job's own failure stands.
    if ((await this.store.meta(member.workflowId)) === undefined) return;
    const node = await this.store.node(member.workflowId, member.nodeId);
    await this.fail(member.workflowId, node, { name: error.name, message: error.message });
  }

  /**
   * Cancels a running workflow: members not yet started are cancelled; running
   * ones end, and are ignored. True when the workflow is cancelled (by this
   * call or an earlier one, whose cancels this call repeats); false when it had
   * already succeeded or failed.
   */
  async cancel(workflowId: string): Promise<boolean> {
    await this.store.endWorkflow(workflowId, WorkflowStatus.CANCELLED, {});
    const meta = await this.store.meta(workflowId);
    if (meta?.status !== WorkflowStatus.CANCELLED) return false;
    await this.cancelPending(workflowId);
    return true;
  }

  /**
   * Fails the workflow if it is still running past its deadline (the deadline
   * job's work). True when the deadline failed it (now, or on an earlier
   * delivery whose follow-ups this one repeats).
   */
  async checkDeadline(workflowId: string, queue: string = TASK_DEFAULTS.queue): Promise<boolean> {
    const meta = await this.store.meta(workflowId);
    if (meta === undefined || meta.deadline === undefined) return false;
    const earlyByMs = meta.deadline - this.store.now();
    if (earlyByMs > 0) {
      // Due later by this clock (clocks differ by a few seconds, and a delay is
      // whole seconds): check again then, rather than never.
      if (meta.status === WorkflowStatus.RUNNING) await this.client.sendTask(DEADLINE_TASK, { workflowId }, { queue, delay: millis(earlyByMs + 1_000), trackStatus: false });
      return false;
    }
    if (meta.status === WorkflowStatus.RUNNING) await this.store.endWorkflow(workflowId, WorkflowStatus.FAILED, { error: deadlineError(workflowId, meta) });
    return this.settleFailure(workflowId, (error) => error.name === WorkflowDeadlineError.name);
  }

  /**
   * Task members per task name: how many there are and how many succeeded,
   * failed or were cancelled; the META item and one projected query, no
   * results read. For progress shown while a workflow runs ("12 of 31
   * partitions"). Undefined while the workflow is unknown or still being
   * written (fewer task nodes stored than it has).
   */
  async progress(workflowId: string): Promise<Record<string, TaskProgress> | undefined> {
    const [meta, statuses] = await Promise.all([this.store.meta(workflowId), this.store.taskStatuses(workflowId)]);
    if (meta === undefined || statuses.length < meta.taskNodes) return undefined;
    const counts: Record<string, { total: number; succeeded: number; failed: number; cancelled: number }> = {};
    for (const { task, status } of statuses) {
      const count = (counts[task] ??= { total: 0, succeeded: 0, failed: 0, cancelled: 0 });
      count.total++;
      if (status === NodeStatus.SUCCEEDED) count.succeeded++;
      if (status === NodeStatus.FAILED) count.failed++;
      if (status === NodeStatus.CANCELLED) count.cancelled++;
    }
    return counts;
  }

  /**
   * The workflow's status, with its result or error, from one read of its
   * META item (no node is read): what to poll. A result kept in a large
   * group's members is left out (`resultInMembers`); `get` assembles it.
   */
  async status(workflowId: string): Promise<WorkflowStatusView> {
    const meta = await this.store.meta(workflowId);
    if (meta === undefined) throw new WorkflowNotFoundError(`no workflow ${workflowId} is known`);
    return {
      workflowId,
      status: meta.status,
      ...(meta.status === WorkflowStatus.SUCCEEDED && (meta.resultInMembers === true ? { resultInMembers: true } : { result: meta.result })),
      ...(meta.error && { error: meta.error }),
    };
  }

  async get(workflowId: string): Promise<WorkflowView> {
    const meta = await this.store.meta(workflowId);
    if (meta === undefined) throw new WorkflowNotFoundError(`no workflow ${workflowId} is known`);
    const nodes = new Map((await this.store.nodes(workflowId)).map((n) => [n.id, n]));
    const node = (id: string): NodeItem => {
      const n = nodes.get(id);
      if (n === undefined) throw new Error(`workflow ${workflowId} lost node ${id}`);
      return n;
    };
    // A group's results stay in its members.
    const resultOf = (n: NodeItem): unknown => (n.kind === 'group' ? n.children.map((id) => resultOf(node(id))) : n.result);
    const view = (id: string): NodeView => {
      const n = node(id);
      return {
        id: n.id,
        kind: n.kind,
        status: n.status,
        ...(n.task !== undefined && { task: n.task }),
        ...(n.kind === 'task' && { jobId: memberJobId(workflowId, n.id) }),
        ...(n.status === NodeStatus.SUCCEEDED && { result: resultOf(n) }),
        ...(n.error && { error: n.error }),
        children: n.children.map(view),
      };
    };
    const tasks = [...nodes.values()].filter((n) => n.kind === 'task');
    const count = (s: NodeStatus) => tasks.filter((n) => n.status === s).length;
    return {
      workflowId,
      status: meta.status,
      ...(meta.status === WorkflowStatus.SUCCEEDED && { result: meta.resultInMembers === true ? resultOf(node(meta.root)) : meta.result }),
      ...(meta.error && { error: meta.error }),
      ...(meta.deadline !== undefined && { deadline: new Date(meta.deadline).toISOString() }),
      progress: { total: tasks.length, succeeded: count(NodeStatus.SUCCEEDED), failed: count(NodeStatus.FAILED), cancelled: count(NodeStatus.CANCELLED) },
      tree: view(meta.root),
    };
  }

  /**
   * Starts `node` with the previous step's result, if any: marks the chains
   * and groups it opens RUNNING and sends every task it reaches at once (a
   * group's members: job records many to a write, messages by
   * SendMessageBatch). Repeatable: re-driven (`redrive`), a task still pending
   * is sent again under the same job id (its first send may never have
   * happened); a node that ran on is left alone.
   */
  private async activate(workflowId: string, node: NodeItem, previous: { value: unknown } | undefined, redrive: boolean, known?: Map<string, NodeItem>): Promise<void> {
    const nodes = node.kind === 'task' || known !== undefined ? known : new Map((await this.store.nodes(workflowId)).map((n) => [n.id, n]));
    const sends: { node: NodeItem; send: TaskSend }[] = [];
    if (!(await this.collect(workflowId, node, previous, redrive, nodes, undefined, sends))) return;
    try {
      await this.client.sendTasks(sends.map((s) => s.send));
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) throw error;
      // A step's input (a chord callback's list of results, say) over SQS's limit can never be sent: the workflow fails with the reason.
      const culprit = sends.find((s) => s.send.name === error.task)?.node ?? node;
      await this.fail(workflowId, culprit, { name: error.name, message: error.message });
    }
  }

  /** Walks what `node` starts, into `sends`; false when an input could not be made (the workflow has failed). */
  private async collect(
    workflowId: string,
    node: NodeItem,
    previous: { value: unknown } | undefined,
    redrive: boolean,
    known: Map<string, NodeItem> | undefined,
    group: NonNullable<WorkflowMembership['group']> | 'legacy' | undefined,
    sends: { node: NodeItem; send: TaskSend }[],
  ): Promise<boolean> {
    const child = async (id: string) => known?.get(id) ?? this.store.node(workflowId, id);
    switch (node.kind) {
      case 'task': {
        // Ran on (finished, failed or cancelled): nothing to send.
        if (node.status !== NodeStatus.PENDING && node.status !== NodeStatus.QUEUED) return true;
        let input: unknown;
        try {
          input = inputFor(node as unknown as Signature, previous);
        } catch (error) {
          await this.fail(workflowId, node, { name: (error as Error).name, message: (error as Error).message });
          return false;
        }
        const resultRoom = resultRoomOf(workflowId, node);
        // A member of a group created before shards reports no room: the engine records and counts it after the job's success.
        const workflow: WorkflowMembership =
          group === 'legacy' ? { workflowId, nodeId: node.id } : { workflowId, nodeId: node.id, resultRoom, ...(group && { group }) };
        sends.push({ node, send: { name: node.task ?? '', input, options: { queue: node.queue ?? TASK_DEFAULTS.queue, jobId: memberJobId(workflowId, node.id), trackStatus: true, workflow } } });
        return true;
      }
      case 'chain':
        if (!(await this.store.markRunning(workflowId, node.id, redrive))) return true;
        return this.collect(workflowId, await child(node.children[0] ?? ''), previous, redrive, known, undefined, sends);
      case 'group': {
        if (!(await this.store.markRunning(workflowId, node.id, redrive))) return true;
        const size = node.children.length;
        for (const [index, id] of node.children.entries()) {
          // A group created before shards is counted by the engine after the job's success (see counterOf).
          const group = node.shards === undefined ? ('legacy' as const) : { id: node.id, size, index, shards: node.shards };
          if (!(await this.collect(workflowId, await child(id), previous, redrive, known, group, sends))) return false;
        }
        return true;
      }
    }
  }

  /**
   * Records `nodeId`'s result and moves the tree on. A first report moves on
   * only past the writes it made itself (`completed`: a task member's node and
   * shard were recorded with its job's success; of two members completing a
   * group at once, one finishes the group and starts what follows). A report
   * made again (`redrive`: a redelivery of a finished member's message, whose
   * first report may have died halfway) makes every move after the node's
   * own record again: the next step, the group's completion, the parent's.
   */
  private async finish(workflowId: string, nodeId: string, result: unknown, redrive: boolean, completed = false): Promise<void> {
    const meta = await this.store.meta(workflowId);
    if (meta?.status !== WorkflowStatus.RUNNING) return; // ended: late results are ignored
    const node = await this.store.node(workflowId, nodeId);
    const parent = node.parent === undefined ? undefined : await this.store.node(workflowId, node.parent);
    const counter = parent?.kind === 'group' ? counterOf(parent, node.index) : undefined;
    if (!completed) {
      // A group's results stay in its members; any other node keeps its result beside its other attributes (its signature's input, say).
      const keepResult = node.kind !== 'group';
      if (keepResult) {
        const verdict = storability(result, 'result', resultRoomOf(workflowId, node));
        if (!verdict.storable) {
          await this.fail(workflowId, node, { name: 'ResultNotStorableError', message: `node ${nodeId}'s result cannot be stored: ${verdict.reason}` });
          return;
        }
      }
      // Refused when the node finished before (its shard counted it then): by another caller, unless re-driving.
      const finished = await this.store.finishNode(workflowId, nodeId, result, counter, keepResult);
      if (!finished && !redrive) return;
    }
    if (parent === undefined) {
      // Finishing past the deadline is failing it, however late the deadline check runs (a backlog can delay it).
      if (meta.deadline !== undefined && this.store.now() > meta.deadline) {
        await this.store.endWorkflow(workflowId, WorkflowStatus.FAILED, { error: deadlineError(workflowId, meta) });
        await this.settleFailure(workflowId, (error) => error.name === WorkflowDeadlineError.name);
        return;
      }
      // A root group's result stays in its members (get() assembles it); any other fits META, as it fit its node.
      await this.store.endWorkflow(workflowId, WorkflowStatus.SUCCEEDED, node.kind === 'group' ? { resultInMembers: true } : { result });
      return;
    }
    if (parent.kind === 'chain') {
      const next = parent.children[node.index + 1];
      if (next === undefined) await this.finish(workflowId, parent.id, result, redrive);
      else await this.activate(workflowId, await this.store.node(workflowId, next), { value: result }, redrive);
      return;
    }
    if (counter !== undefined) await this.afterMember(workflowId, counter, redrive);
  }

  /**
   * After a group member was counted: when its shard is complete, closes the
   * shard (every member that sees it complete does, once); when that closed
   * the group's last shard, finishes the group with its members' results.
   */
  private async afterMember(workflowId: string, counter: ShardOf, redrive: boolean): Promise<void> {
    if ((await this.store.shardCount(workflowId, counter)) < counter.members) return;
    if ((await this.store.closeShard(workflowId, counter)) < counter.shards) return;
    // Complete: finished now, or before by a call whose follow-up (the chord's callback, say) may not have happened.
    const group = await this.store.node(workflowId, counter.group);
    // The workflow's own result, when the group is the root: left in the members, for get() to assemble, rather than read here.
    if (group.parent === undefined) {
      await this.finish(workflowId, group.id, undefined, redrive);
      return;
    }
    let results: unknown[];
    try {
      results = await this.store.results(workflowId, group.children, SQS_MAX_MESSAGE_BYTES);
    } catch (error) {
      if (!(error instanceof ResultsTooLargeError)) throw error;
      await this.fail(workflowId, group, { name: error.name, message: error.message });
      return;
    }
    await this.finish(workflowId, group.id, results, redrive);
  }


  /** Fails `node` and its workflow (the first failure wins), then makes the failure's follow-ups happen. */
  private async fail(workflowId: string, node: NodeItem, error: { name: string; message: string }): Promise<void> {
    await this.store.failNode(workflowId, node.id, error);
    const failure: WorkflowError = { nodeId: node.id, ...(node.task !== undefined && { task: node.task }), ...error };
    await this.store.endWorkflow(workflowId, WorkflowStatus.FAILED, { error: failure });
    await this.settleFailure(workflowId, () => true);
  }

  /**
   * What follows a failed workflow: its error callback (once: a job whose id
   * derives from the workflow's) and the cancel of its pending members. Run on
   * every report of a failure, so a follow-up an earlier call could not make
   * is made now; `ours` tells whether the stored failure is the one the caller
   * reports. True when the workflow failed with it.
   */
  private async settleFailure(workflowId: string, ours: (error: WorkflowError) => boolean): Promise<boolean> {
    const meta = await this.store.meta(workflowId);
    if (meta?.status !== WorkflowStatus.FAILED || meta.error === undefined || !ours(meta.error)) return false;
    await this.runErrorCallback(meta, meta.error);
    await this.cancelPending(workflowId);
    return true;
  }

  private async runErrorCallback(meta: WorkflowMeta, error: WorkflowError): Promise<void> {
    const callback = meta.onError;
    if (callback === undefined) return;
    const base = typeof callback.input === 'object' && callback.input !== null && !Array.isArray(callback.input) ? callback.input : {};
    const jobId = memberJobId(meta.workflowId, ERROR_CALLBACK_NODE);
    await this.client.sendTask(callback.task, { ...base, workflowId: meta.workflowId, error }, { queue: callback.queue, trackStatus: true, jobId });
  }

  /**
   * Cancels every member that has not started: its job first (queued, or
   * never sent), then its node. A member whose job runs already (or ended) is
   * left to end, its node as it is; its outcome is ignored. Repeatable: a
   * node cancelled before has its job cancelled again (a no-op once done).
   */
  private async cancelPending(workflowId: string): Promise<void> {
    const nodes = await this.store.nodes(workflowId);
    await mapLimit(
      nodes.filter((n) => n.kind === 'task' && (n.status === NodeStatus.PENDING || n.status === NodeStatus.QUEUED || n.status === NodeStatus.CANCELLED)),
      10,
      async (n) => {
        try {
          // Its job, if it was sent: the id derives from the node's.
          await this.client.cancel(memberJobId(workflowId, n.id));
        } catch (error) {
          // Running or finished: not pending, so its node stays as it is.
          if (error instanceof JobNotCancellableError) return;
          // Never recorded: not sent (yet); the node's cancel keeps a late activation from sending it.
          if (!(error instanceof JobNotFoundError)) throw error;
        }
        if (n.status !== NodeStatus.CANCELLED) await this.store.cancelNode(workflowId, n.id);
      },
    );
  }
}

function deadlineError(workflowId: string, meta: WorkflowMeta): WorkflowError {
  return { nodeId: meta.root, name: WorkflowDeadlineError.name, message: `workflow ${workflowId} did not finish by its deadline, ${new Date(meta.deadline ?? 0).toISOString()}` };
}

/**
 * The most bytes of result `node`'s item can hold beside its other attributes:
 * those of NodeItem (its signature's input, say), its keys (`WF#<workflow>`,
 * `NODE#<node>`), `expiresAt` and the ids its writes leave (`finishedBy`,
 * `startedBy`, `cancelledBy`), with room to spare.
 */
function resultRoomOf(workflowId: string, node: NodeItem): number {
  const { result: _old, ...rest } = node;
  const others = storability(rest, 'node', Number.POSITIVE_INFINITY);
  const overhead = 2 * Buffer.byteLength(workflowId, 'utf8') + 2 * Buffer.byteLength(node.id, 'utf8') + 1024;
  return Math.max(0, Math.min(MAX_RESULT_BYTES, DYNAMODB_MAX_ITEM_BYTES - (others.storable ? others.bytes : 0) - overhead));
}

/** Where member `index` of `group` counts: its shard, or for a group created before shards, the group's own `done`. */
function counterOf(group: NodeItem, index: number): ShardOf {
  if (group.shards === undefined) return { group: group.id, shard: 0, shards: 1, members: group.children.length, legacy: true };
  return shardOf(group.id, group.children.length, index, group.shards);
}

/** The node id the error callback's job id derives from. */
const ERROR_CALLBACK_NODE = 'on-error';

/** The job id of a workflow's node: the same at every activation, so a repeated send is the same job. */
export function memberJobId(workflowId: string, nodeId: string): string {
  return derivedId('ferry-workflow', workflowId, nodeId);
}

/** The tree as node items, root first. Ids are paths: `r`, `r.0`, `r.0.3`. */
function flatten(canvas: Canvas, membersPerShard: number): NodeItem[] {
  const out: NodeItem[] = [];
  const walk = (c: Canvas, id: string, parent: string | undefined, index: number): void => {
    const base = { id, status: NodeStatus.PENDING, index, ...(parent !== undefined && { parent }) };
    if (c.kind === 'task') {
      out.push({ ...base, kind: 'task', children: [], task: c.task, queue: c.queue, input: c.input ?? null, hasInput: c.hasInput, immutable: c.immutable });
      return;
    }
    const kids = c.kind === 'chain' ? c.steps : c.members;
    const children = kids.map((_, i) => `${id}.${i}`);
    out.push({ ...base, kind: c.kind, children, ...(c.kind === 'group' && { shards: Math.max(1, Math.ceil(children.length / membersPerShard)) }) });
    kids.forEach((k, i) => walk(k, `${id}.${i}`, id, i));
  };
  walk(canvas, 'r', undefined, 0);
  return out;
}
