/**
 * Copying a note in the background (the talk's example): `POST
 * /notes/{id}/copies` commits the copy job with a lock on its note, through
 * the outbox; the job makes the copies one by one.
 *
 * The job is safe to run again: copy `i` of job `j` always has the same id,
 * written only if absent, so a redelivery finishes the copies without
 * doubling them. It carries its note's tag (`note:<id>`), checks between
 * copies whether it was asked to stop (the `cancel` remedy), holds its note's
 * lock while it runs and takes itself off when it ends (the `lock` remedy),
 * and writes each copy on condition that its note still holds it.
 */
import { days, JobStoppedError, jobs, minutes, sleep, z, defineTask, type EnqueuedJob } from 'ferry';
import { copyId, getNote, holdLock, lockForCopy, putCopy, unlock } from './notes.js';

/** The entity tag a note's jobs carry: `cancelByTag` finds them by it. */
export const noteTag = (noteId: string) => `note:${noteId}`;

export const MAX_COPIES = 10;

export const copyNote = defineTask({
  name: 'notes.copy',
  queue: 'io',
  input: z.object({
    noteId: z.string().min(1),
    count: z.number().int().min(1).max(MAX_COPIES),
    /** A slow copy, for the demo and the tests: each copy waits this long first. */
    paceMs: z.number().int().min(0).max(5_000).default(0),
  }),
  retry: { maxAttempts: 3 },
  timeout: minutes(1),
  resultTtl: days(1),
  run: async ({ noteId, count, paceMs }, job) => {
    // Each attempt renews its hold first; a job whose hold lapsed and whose note was deleted meanwhile copies nothing.
    if (!(await holdLock(noteId, job.jobId, new Date(Date.now() + ATTEMPT_HOLD.milliseconds)))) return { copied: 0, copies: [], sourceGone: true };
    try {
      // Soft-deleted notes are read too: that remedy lets a pending copy finish.
      const note = await getNote(noteId, { includeDeleted: true });
      if (note === undefined) return { copied: 0, copies: [], sourceGone: true };
      const copies: string[] = [];
      for (let i = 0; i < count; i++) {
        if (paceMs > 0) await sleep(paceMs, job.signal);
        // Checked right before each write: a stop asked during the pause writes nothing more.
        await job.stopIfRequested();
        const id = copyId(job.jobId, job.enqueuedAt, i);
        // Written only while the note still holds this job: a delete that went through (its lock lapsed) stops the copies.
        if ((await putCopy(id, note, job.jobId)) === 'source-gone') {
          // Deleted with its jobs cancelled (the cancel remedy): this job stops, CANCELLED. Otherwise it ends with what it made.
          await job.stopIfRequested();
          return { copied: copies.length, copies, sourceGone: true };
        }
        copies.push(id);
      }
      await unlock(noteId, job.jobId);
      return { copied: copies.length, copies, sourceDeleted: note.deletedAt !== undefined };
    } catch (error) {
      // Ending for good (stopped, or out of attempts): off the lock now, not when it lapses.
      if (error instanceof JobStoppedError || !job.willRetry(error)) await unlock(noteId, job.jobId);
      throw error;
    }
  },
});

/** How long an attempt holds its note: the task's timeout, and a minute for the worker to record its end. */
const ATTEMPT_HOLD = minutes(2);

/**
 * How long a copy request holds its note before its job starts (the outbox,
 * the queue); each attempt then holds it for ATTEMPT_HOLD from its start. A
 * hold that lapses (a worker died, a job waited long) lets a delete or the
 * purge go ahead, and the job, finding its note gone, writes no more copies.
 */
export const COPY_LOCK = minutes(5);

/**
 * Asks for `count` copies of a live note: the note's lock and the job commit
 * in one transaction, and the outbox relay sends the job. Refused (the note
 * is missing or deleted): `OutboxTransactionRefusedError`, nothing written.
 */
export async function requestCopies(noteId: string, count: number, paceMs = 0): Promise<EnqueuedJob> {
  const jobId = crypto.randomUUID();
  const until = new Date(Date.now() + COPY_LOCK.milliseconds);
  return jobs.enqueueWith([lockForCopy(noteId, jobId, until)], copyNote, { noteId, count, paceMs }, { jobId, tag: noteTag(noteId) });
}
