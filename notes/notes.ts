/**
 * Notes, in the `notes` table: one partition holds them all (`pk = NOTES`,
 * `sk = id`, ids sortable by creation time), so the list is one query. The
 * trash (`pk = TRASH`) lists soft-deleted notes by when they were deleted, for
 * the purge. Copy requests lock their note: its `pendingJobs` set names the
 * copy jobs not yet finished, until `lockedUntil` at the latest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documentClient, tableName, transactWrite, type TransactItem } from 'ferry';

export interface Note {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly createdAt: string;
  /** The note this one is a copy of. */
  readonly copyOf?: string;
  /** Soft-deleted: hidden from readers, kept for the jobs still reading it, purged later. */
  readonly deletedAt?: string;
  /** Copy jobs not yet finished (the lock). */
  readonly pendingJobs?: readonly string[];
  /** The latest the lock holds, whatever its jobs do (a job that died frees it then). */
  readonly lockedUntil?: string;
}

export const NOTES_PK = 'NOTES';
const TRASH_PK = 'TRASH';
const TOMBSTONE_PK = 'DELETED';
/** How long a hard delete's tombstone is kept (DynamoDB's TTL removes it). */
const TOMBSTONE_TTL_SECONDS = 86_400;
const table = () => tableName('notes');
const db = () => documentClient();

/** A new note id: the creation time (base 36, fixed width) and 48 random bits, so ids sort by creation. */
export function newNoteId(at = Date.now()): string {
  return `n${at.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

/** The id of copy `index` of a copy job: the same on every run of the job, so a redelivered job writes the same copies. */
export function copyId(jobId: string, enqueuedAt: string, index: number): string {
  const hash = createHash('sha256').update(`${jobId}:${index}`).digest('hex').slice(0, 12);
  return `n${Date.parse(enqueuedAt).toString(36).padStart(9, '0')}${hash}`;
}

export const NOTE_ID = /^n[0-9a-z]{9}[0-9a-f]{12}$/;

const key = (id: string) => ({ pk: NOTES_PK, sk: id });

function toNote(item: Record<string, unknown>): Note {
  const { pk: _pk, sk: _sk, pendingJobs, ...rest } = item;
  return { ...(rest as unknown as Note), ...(pendingJobs instanceof Set && { pendingJobs: [...(pendingJobs as Set<string>)].sort() }) };
}

/** The note's put, refused if its id exists: for the caller's transaction (`jobs.enqueueWith`) or alone. */
export function notePut(note: Note): TransactItem {
  return { Put: { TableName: table(), Item: { ...key(note.id), ...note }, ConditionExpression: 'attribute_not_exists(pk)' } };
}

/** Reads a note (strongly consistent); a soft-deleted one only with `includeDeleted`. */
export async function getNote(id: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Note | undefined> {
  const { Item } = await db().send(new GetCommand({ TableName: table(), Key: key(id), ConsistentRead: true }));
  if (Item === undefined) return undefined;
  const note = toNote(Item);
  return note.deletedAt !== undefined && options.includeDeleted !== true ? undefined : note;
}

/** The newest `limit` notes that are not deleted. */
export async function listNotes(limit = 50): Promise<Note[]> {
  const notes: Note[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':pk': NOTES_PK },
        ScanIndexForward: false,
        Limit: limit,
        ...(start !== undefined && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of page.Items ?? []) notes.push(toNote(item));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && notes.length < limit);
  return notes.slice(0, limit);
}

/**
 * The write that locks a live note for a copy job, committed with the job
 * (`enqueueWith`): refused when the note is missing or deleted, so no copy is
 * ever asked of a note that is gone.
 */
export function lockForCopy(noteId: string, jobId: string, until: Date): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: key(noteId),
      UpdateExpression: 'ADD pendingJobs :job SET lockedUntil = :until',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
      ExpressionAttributeValues: { ':job': new Set([jobId]), ':until': until.toISOString() },
    },
  };
}

/** Takes a finished copy job off its note's lock (a note already gone is left gone). */
export async function unlock(noteId: string, jobId: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: table(),
        Key: key(noteId),
        UpdateExpression: 'DELETE pendingJobs :job',
        // An update would otherwise create the item of a note deleted meanwhile.
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':job': new Set([jobId]) },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * Renews copy job `jobId`'s hold on its note until `until`, as an attempt
 * starts: false when the note is gone or no longer names the job (its lock
 * lapsed and the note was deleted or purged meanwhile), and the job must stop.
 */
export async function holdLock(noteId: string, jobId: string, until: Date): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: table(),
        Key: key(noteId),
        UpdateExpression: 'SET lockedUntil = :until',
        // Never shortens a longer hold (another job's request); refused then too, and told apart below.
        ConditionExpression: 'contains(pendingJobs, :job) AND lockedUntil < :until',
        ExpressionAttributeValues: { ':job': jobId, ':until': until.toISOString() },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const note = error.Item === undefined ? undefined : toNote(unmarshall(error.Item));
    return note?.pendingJobs?.includes(jobId) === true;
  }
}

/**
 * Writes copy `id` of `source` for copy job `jobId`, on condition (checked in
 * the same transaction) that the source still exists and still names the job
 * in its lock: no copy is ever written of a note deleted meanwhile. `exists`:
 * the copy was written before (a redelivered job's earlier run).
 */
export async function putCopy(id: string, source: Note, jobId: string): Promise<'written' | 'exists' | 'source-gone'> {
  const copy: Note = { id, title: source.title, body: source.body, createdAt: new Date().toISOString(), copyOf: source.id };
  const refusal = await transactWrite(
    db(),
    new TransactWriteCommand({
      TransactItems: [
        { ConditionCheck: { TableName: table(), Key: key(source.id), ConditionExpression: 'contains(pendingJobs, :job)', ExpressionAttributeValues: { ':job': jobId } } },
        { Put: { TableName: table(), Item: { ...key(id), ...copy }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
    }),
  );
  if (refusal === undefined) return 'written';
  return refusal.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed' ? 'source-gone' : 'exists';
}

/** Takes ended jobs off a note's lock (jobs that ended without doing so themselves: cancelled while queued, or dead). */
export async function dropFromLock(noteId: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  try {
    await db().send(
      new UpdateCommand({
        TableName: table(),
        Key: key(noteId),
        UpdateExpression: 'DELETE pendingJobs :jobs',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':jobs': new Set(jobIds) },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export type DeleteOutcome =
  | { readonly deleted: true; readonly note: Note }
  | { readonly deleted: false; readonly reason: 'not-found' }
  /** In the trash already (soft-deleted): gone to readers, left to the purge. */
  | { readonly deleted: false; readonly reason: 'in-trash' }
  | { readonly deleted: false; readonly reason: 'locked'; readonly note: Note };

/**
 * Soft delete: marks the note deleted and files it in the trash, in one
 * transaction. Readers stop seeing it; a copy job still pending reads it and
 * copies it; the purge removes it once the trash retention has passed.
 */
export async function softDelete(id: string, now = new Date()): Promise<DeleteOutcome> {
  const deletedAt = now.toISOString();
  // Sent again by transactWrite when it collides with another transaction on the note (a copy request's lock).
  const refusal = await transactWrite(
    db(),
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table(),
            Key: key(id),
            UpdateExpression: 'SET deletedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
            ExpressionAttributeValues: { ':at': deletedAt },
          },
        },
        { Put: { TableName: table(), Item: { pk: TRASH_PK, sk: `${deletedAt}#${id}`, noteId: id } } },
      ],
    }),
  );
  if (refusal !== undefined) {
    // Deleted already by this very call (the SDK retried it after its answer was lost) or an earlier one: done either way.
    const note = await getNote(id, { includeDeleted: true });
    return note?.deletedAt !== undefined ? { deleted: true, note } : { deleted: false, reason: 'not-found' };
  }
  const note = await getNote(id, { includeDeleted: true });
  return note === undefined ? { deleted: false, reason: 'not-found' } : { deleted: true, note };
}

/** The condition that no copy job holds the note at `:now`. */
const NOT_HELD = '(attribute_not_exists(pendingJobs) OR lockedUntil < :now)';

/** A note's delete for a transaction, on `condition` (which may name `:now`), returning the old item when refused. */
function noteDelete(id: string, condition: string, now?: Date): TransactItem {
  return {
    Delete: {
      TableName: table(),
      Key: key(id),
      ConditionExpression: condition,
      ...(now !== undefined && { ExpressionAttributeValues: { ':now': now.toISOString() } }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Hard delete. With `unlessLocked`, refused while a copy job holds the note
 * (its `pendingJobs`, until `lockedUntil`): the caller answers 409 naming them.
 *
 * The delete writes a tombstone (`DELETED` / id, naming this call, kept a
 * day) in the same transaction, so a try whose answer was lost, retried by
 * the SDK and refused because the note is gone, is recognised as this call's
 * own delete rather than reported as "not found".
 */
export async function hardDelete(id: string, options: { readonly unlessLocked?: boolean; readonly now?: Date } = {}): Promise<DeleteOutcome> {
  const now = options.now ?? new Date();
  const deleteId = randomBytes(12).toString('hex');
  const tombstone = { pk: TOMBSTONE_PK, sk: id, deleteId, deletedAt: now.toISOString(), expiresAt: Math.ceil(now.getTime() / 1000) + TOMBSTONE_TTL_SECONDS };
  const before = await getNote(id, { includeDeleted: true });
  const refusal = await transactWrite(
    db(),
    new TransactWriteCommand({
      TransactItems: [
        noteDelete(id, `attribute_exists(pk) AND attribute_not_exists(deletedAt)${options.unlessLocked ? ` AND ${NOT_HELD}` : ''}`, options.unlessLocked ? now : undefined),
        { Put: { TableName: table(), Item: tombstone } },
      ],
    }),
  );
  const deleted: DeleteOutcome = { deleted: true, note: before ?? { id, title: '', body: '', createdAt: '' } };
  if (refusal === undefined) return deleted;
  const old = refusal.CancellationReasons?.[0]?.Item;
  if (old !== undefined) {
    const note = toNote(unmarshall(old));
    return note.deletedAt !== undefined ? { deleted: false, reason: 'in-trash' } : { deleted: false, reason: 'locked', note };
  }
  // The note is gone: this call's own earlier try (its answer lost), or someone else's delete.
  const { Item } = await db().send(new GetCommand({ TableName: table(), Key: { pk: TOMBSTONE_PK, sk: id }, ConsistentRead: true }));
  return Item?.deleteId === deleteId ? deleted : { deleted: false, reason: 'not-found' };
}

/** Soft-deleted notes filed in the trash before `before`, oldest first. */
export async function trashBefore(before: Date, limit = 100): Promise<{ readonly noteId: string; readonly sk: string }[]> {
  const page = await db().send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND sk < :before',
      ExpressionAttributeValues: { ':pk': TRASH_PK, ':before': before.toISOString() },
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => ({ noteId: String(item.noteId), sk: String(item.sk) }));
}

/**
 * Removes a trashed note and its trash entry in one transaction, unless a copy
 * job still holds it (then it waits for a later purge). True if removed now.
 */
export async function purgeOne(entry: { readonly noteId: string; readonly sk: string }, now = new Date()): Promise<'purged' | 'locked' | 'gone'> {
  const refusal = await transactWrite(
    db(),
    new TransactWriteCommand({
      TransactItems: [
        noteDelete(entry.noteId, `attribute_exists(deletedAt) AND ${NOT_HELD}`, now),
        { Delete: { TableName: table(), Key: { pk: TRASH_PK, sk: entry.sk } } },
      ],
    }),
  );
  if (refusal === undefined) return 'purged';
  const note = await getNote(entry.noteId, { includeDeleted: true });
  if (note === undefined || note.deletedAt === undefined) {
    // Purged already (a retried purge), or restored: drop the stray trash entry.
    await db().send(new DeleteCommand({ TableName: table(), Key: { pk: TRASH_PK, sk: entry.sk } }));
    return 'gone';
  }
  return 'locked';
}
