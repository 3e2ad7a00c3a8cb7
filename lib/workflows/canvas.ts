/**
 * The canvas: signatures and the primitives that compose them (Celery's
 * chain, group, chord, map, starmap, chunks), as plain data a workflow is
 * started from.
 *
 * Passing results: a signature whose input is an array gets the previous
 * step's result put first (`add.s([4])` after a step that returned 4 runs
 * `add([4, 4])`); a signature with no input gets the previous result as its
 * input (a chord callback gets the ordered list of its group's results); an
 * immutable signature (`si`) ignores the previous result; any other input
 * with a previous result is an error, found when the workflow is defined.
 */
import type { Task } from '../jobs/task.js';

export interface Signature {
  readonly kind: 'task';
  readonly task: string;
  readonly queue: string;
  /** Absent: the previous result becomes the input. */
  readonly input?: unknown;
  readonly hasInput: boolean;
  readonly immutable: boolean;
}

export interface ChainNode {
  readonly kind: 'chain';
  readonly steps: readonly Canvas[];
}

export interface GroupNode {
  readonly kind: 'group';
  readonly members: readonly Canvas[];
}

export type Canvas = Signature | ChainNode | GroupNode;

/**
 * What a signature needs of a task: its name and queue. Inputs are checked
 * against the task's schema by the worker that runs the member (a bad one
 * fails the workflow with InvalidTaskInputError naming each field), since
 * a step's input is only known once the step before it has run.
 */
export type TaskRef = Pick<Task, 'name' | 'queue'>;

/** A signature that receives the previous step's result (see the file comment). */
export function s(task: TaskRef, input?: unknown): Signature {
  return { kind: 'task', task: task.name, queue: task.queue, ...(input !== undefined && { input }), hasInput: input !== undefined, immutable: false };
}

/** An immutable signature: runs with exactly `input`, whatever came before. */
export function si(task: TaskRef, input: unknown): Signature {
  return { kind: 'task', task: task.name, queue: task.queue, input, hasInput: true, immutable: true };
}

/** Each step's result feeds the next; the chain's result is the last step's. */
export function chain(...steps: Canvas[]): ChainNode {
  if (steps.length === 0) throw new RangeError('chain() needs at least one step');
  return { kind: 'chain', steps };
}

/** Members run in parallel; the group's result is the list of their results, in member order. */
export function group(...members: Canvas[]): GroupNode {
  if (members.length === 0) throw new RangeError('group() needs at least one member');
  return { kind: 'group', members };
}

/** Runs `callback` exactly once with the ordered results of `header`, after every member succeeded. */
export function chord(header: GroupNode | readonly Canvas[], callback: Signature): ChainNode {
  const g = Array.isArray(header) ? group(...(header as Canvas[])) : (header as GroupNode);
  return chain(g, callback);
}

/** Names of the built-in tasks that run map and starmap (see builtin-tasks.ts). */
export const MAP_TASK = 'ferry.map';
export const STARMAP_TASK = 'ferry.starmap';

/** One job applying `task` to each item in turn; its result is the list of results. */
export function map(task: TaskRef, items: readonly unknown[]): Signature {
  return { kind: 'task', task: MAP_TASK, queue: task.queue, input: { task: task.name, items }, hasInput: true, immutable: true };
}

/** Like `map`, for tasks whose input is an argument list: each item must be an array. */
export function starmap(task: TaskRef, argsList: readonly (readonly unknown[])[]): Signature {
  return { kind: 'task', task: STARMAP_TASK, queue: task.queue, input: { task: task.name, items: argsList }, hasInput: true, immutable: true };
}

/** Splits `argsList` into chunks of `size`, one starmap job each, as a group: the result is a list of lists. */
export function chunks(task: TaskRef, argsList: readonly (readonly unknown[])[], size: number): GroupNode {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunks() size must be a whole number >= 1 (got ${size})`);
  const parts: Signature[] = [];
  for (let i = 0; i < argsList.length; i += size) parts.push(starmap(task, argsList.slice(i, i + size)));
  return group(...parts);
}

/** The input a signature runs with, given the previous step's result (if any). */
export function inputFor(signature: Signature, previous: { readonly value: unknown } | undefined): unknown {
  if (previous === undefined || signature.immutable) return signature.input;
  if (!signature.hasInput) return previous.value;
  if (Array.isArray(signature.input)) return [previous.value, ...(signature.input as unknown[])];
  throw new TypeError(
    `task "${signature.task}" gets the previous step's result, but its input is not an argument list: use an array input, no input, or an immutable signature (si)`,
  );
}
