/**
 * Copying a note in the background (the talk's example): `POST
 * /notes/{id}/copies` commits the copy job with a lock on its note, through
 * the outbox; the job makes the copies one by one.
 *
 * The job is safe to run again: copy `i` of job `j` always has the same id,
 * written only if absent, so a redelivery finishes the copies without
 * doubling them. It carries its note's tag (`note:<id>`), checks between
 * copies whether it was asked to stop (the `cancel` remedy), and takes itself
 * off its note's lock when it ends (the `lock` remedy).
 */
import { days, JobStoppedError, jobs, minutes, sleep, z, defineTask, type EnqueuedJob } from 'ferry';
import { copyId, getNote, lockForCopy, putCopy, unlock } from './notes.js';

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
    try {
      // Soft-deleted notes are read too: that remedy lets a pending copy finish.
      const note = await getNote(noteId, { includeDeleted: true });
      // Hard-deleted before the job ran (it was not cancelled): nothing to copy, and nothing to retry.
      if (note === undefined) {
        await unlock(noteId, job.jobId);
        return { copied: 0, copies: [], sourceGone: true };
      }
      const copies: string[] = [];
      for (let i = 0; i < count; i++) {
        await job.stopIfRequested();
        if (paceMs > 0) await sleep(paceMs, job.signal);
        const id = copyId(job.jobId, job.enqueuedAt, i);
        await putCopy(id, note);
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

/** The longest a copy job can hold its note: every attempt at its timeout, with the backoffs between them. */
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
