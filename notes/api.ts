/**
 * The notes service's REST API, each route declared as an `http` event of the
 * `api` function in notes/resources.ts. JSON for clients; `GET /notes` is also
 * a minimal HTML page for browsers, and its form posts back here.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { apiPath, createRestApi, documentClient, headerOf, HttpError, htmlResponse, json, jsonBody, jobs, NOT_FOUND, OutboxTransactionRefusedError, transactWrite, wantsHtml, z } from 'ferry';
import { MAX_COPIES, noteTag, requestCopies } from './copies.js';
import { getUser, onboardAgain, signUp, signupInput } from './onboarding.js';
import { dropFromLock, getNote, hardDelete, listNotes, newNoteId, NOTE_ID, notePut, softDelete, type Note } from './notes.js';
import { notesPage } from './page.js';
import { mailbox } from './providers.js';
import { purgeSchedule } from './purge.js';
import { TRASH_RETENTION } from './resources.js';

/** The delete remedies for a note whose copies are pending (README: "Deleting a note while it is being copied"). */
export const REMEDIES = ['soft-delete', 'cancel', 'lock'] as const;
export type Remedy = (typeof REMEDIES)[number];

/** What a client is told to wait before it asks again, while a note's copy jobs hold it. */
const LOCKED_RETRY_AFTER_SECONDS = 2;

const newNoteInput = z.object({ title: z.string().trim().min(1).max(200), body: z.string().max(10_000).default('') }).strict();
const copiesInput = z.object({ count: z.number().int().min(1).max(MAX_COPIES), paceMs: z.number().int().min(0).max(5_000).default(0) }).strict();

export const api = createRestApi({
  'GET /notes': async (event) => {
    const notes = await listNotes();
    if (wantsHtml(event)) return htmlResponse(200, notesPage(notes));
    return json(200, { notes });
  },

  'POST /notes': async (event) => {
    const form = isForm(event);
    const input = parse(newNoteInput, form ? formBody(event) : jsonBody(event));
    const note: Note = { id: newNoteId(), title: input.title, body: input.body, createdAt: new Date().toISOString() };
    const refusal = await transactWrite(documentClient(), new TransactWriteCommand({ TransactItems: [notePut(note)] }));
    if (refusal !== undefined) throw new Error(`note id ${note.id} collided`);
    // A browser's form comes back to the list (POST, then redirect, then GET).
    if (form) return { statusCode: 303, headers: { location: apiPath(event, '/notes'), 'cache-control': 'no-store' }, body: '' };
    return json(201, { note }, { location: apiPath(event, `/notes/${note.id}`) });
  },

  'GET /notes/{id}': async (event) => {
    const id = noteId(event);
    const note = await getNote(id);
    if (note === undefined) throw new HttpError(404, `no note ${id}`);
    return json(200, { note });
  },

  'POST /notes/{id}/copies': async (event) => {
    const id = noteId(event);
    const { count, paceMs } = parse(copiesInput, jsonBody(event));
    try {
      const job = await requestCopies(id, count, paceMs);
      return json(202, { jobId: job.jobId, noteId: id, count, statusUrl: apiPath(event, `/jobs/${job.jobId}`) }, { location: apiPath(event, `/jobs/${job.jobId}`) });
    } catch (error) {
      // The note's lock refused it: the note is missing or deleted. Nothing was written, no job exists.
      if (error instanceof OutboxTransactionRefusedError) throw new HttpError(404, `no note ${id}`);
      throw error;
    }
  },

  'DELETE /notes/{id}': async (event) => {
    const id = noteId(event);
    const remedy = remedyOf(event);
    switch (remedy) {
      case 'soft-delete': {
        const outcome = await softDelete(id);
        if (!outcome.deleted) throw new HttpError(404, `no note ${id}`);
        const purgeAfter = new Date(Date.parse(outcome.note.deletedAt ?? '') + TRASH_RETENTION.milliseconds).toISOString();
        return json(200, { deleted: 'soft', noteId: id, deletedAt: outcome.note.deletedAt, purgeAfter, pendingJobs: outcome.note.pendingJobs ?? [] });
      }
      case 'cancel': {
        // Deleted first: from now on no copy can be asked of it (the copy's lock needs the note); then its jobs.
        const outcome = await hardDelete(id);
        if (!outcome.deleted && outcome.reason !== 'not-found') throw new HttpError(404, `no note ${id}`);
        // Cancelled even when the note was not found: the SDK may have retried a delete that applied (its answer
        // lost), and its jobs must still be cancelled; for a note that never existed the tag names no job.
        const cancelled = await jobs.cancelByTag(noteTag(id));
        if (!outcome.deleted) throw new HttpError(404, `no note ${id}`);
        return json(200, { deleted: 'hard', noteId: id, cancelledJobs: cancelled.cancelled, stoppingJobs: cancelled.stopping, finishedJobs: cancelled.finished });
      }
      case 'lock': {
        let outcome = await hardDelete(id, { unlessLocked: true });
        let pending = outcome.deleted || outcome.reason !== 'locked' ? [] : await pendingOf(event, outcome.note.pendingJobs ?? []);
        // Jobs that ended without leaving the lock (cancelled while queued, or dead) hold nothing: drop them and try once more.
        const ended = pending.filter((p) => ENDED.has(p.status)).map((p) => p.jobId);
        if (ended.length > 0) {
          await dropFromLock(id, ended);
          outcome = await hardDelete(id, { unlessLocked: true });
          pending = outcome.deleted || outcome.reason !== 'locked' ? [] : await pendingOf(event, outcome.note.pendingJobs ?? []);
        }
        if (outcome.deleted) return json(200, { deleted: 'hard', noteId: id });
        if (outcome.reason !== 'locked') throw new HttpError(404, `no note ${id}`);
        return json(
          409,
          {
            error: {
              code: 'NOTE_LOCKED',
              message: `note ${id} has ${pending.length} pending copy job(s) (${pending.map((p) => `${p.jobId}: ${p.status}`).join(', ')}); retry the delete in ${LOCKED_RETRY_AFTER_SECONDS} s, or once they finish`,
              pendingJobs: pending,
              retryAfterSeconds: LOCKED_RETRY_AFTER_SECONDS,
              lockedUntil: outcome.note.lockedUntil,
            },
          },
          { 'retry-after': String(LOCKED_RETRY_AFTER_SECONDS) },
        );
      }
    }
  },

  'POST /users': async (event) => {
    const signup = parse(signupInput, jsonBody(event));
    let job: { readonly jobId: string; readonly deduplicated: boolean };
    try {
      job = await signUp(signup);
    } catch (error) {
      // The user exists and its onboarding job's record has expired (a day on): an old signup, retried or taken.
      if (!(error instanceof OutboxTransactionRefusedError)) throw error;
      job = { jobId: `onboard-${signup.id}`, deduplicated: true };
    }
    const user = await getUser(signup.id);
    if (user === undefined) throw new Error(`user ${signup.id} missing after its signup committed`);
    if (job.deduplicated && (user.email !== signup.email || user.name !== signup.name || user.phone !== signup.phone)) {
      throw new HttpError(409, `user id ${signup.id} is taken`);
    }
    // A retried signup (its answer lost) gets the same user and job back, 200 instead of 201.
    return json(job.deduplicated ? 200 : 201, { user, jobId: job.jobId, statusUrl: apiPath(event, `/jobs/${job.jobId}`) }, { location: apiPath(event, `/users/${signup.id}`) });
  },

  'GET /users/{id}': async (event) => {
    const id = event.pathParameters?.id ?? '';
    const user = await getUser(id);
    if (user === undefined) throw new HttpError(404, `no user ${JSON.stringify(id).slice(0, 80)}`);
    const [onboarding, email, sms] = await Promise.all([jobs.getJob(user.onboardingJob), mailbox('email', id), mailbox('sms', id)]);
    return json(200, { user, onboarding: { jobId: onboarding.jobId, status: onboarding.status }, mailboxes: { email, sms } });
  },

  'POST /users/{id}/onboarding': async (event) => {
    const id = event.pathParameters?.id ?? '';
    if ((await getUser(id)) === undefined) throw new HttpError(404, `no user ${JSON.stringify(id).slice(0, 80)}`);
    const job = await onboardAgain(id);
    return json(202, { jobId: job.jobId, statusUrl: apiPath(event, `/jobs/${job.jobId}`) });
  },

  'GET /jobs/{id}': async (event) => {
    const id = event.pathParameters?.id ?? '';
    if (id.length === 0 || id.length > 128) throw new HttpError(400, '"id" must be a job id (1-128 characters)');
    const job = await jobs.getJob(id);
    if (job.status === NOT_FOUND) throw new HttpError(404, `no job ${id}`);
    return json(200, { job });
  },

  'GET /maintenance/purge': async () => json(200, { schedule: await purgeSchedule.status(), retentionMs: TRASH_RETENTION.milliseconds }),
});

/** Job statuses that hold no lock. */
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', NOT_FOUND]);

async function pendingOf(event: APIGatewayProxyEvent, jobIds: readonly string[]): Promise<{ jobId: string; status: string; statusUrl: string }[]> {
  return Promise.all(
    jobIds.map(async (jobId) => ({ jobId, status: (await jobs.getJob(jobId)).status, statusUrl: apiPath(event, `/jobs/${jobId}`) })),
  );
}

function noteId(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!NOTE_ID.test(id)) throw new HttpError(400, `"id" must be a note id, such as n0mf3k2a1b3c4d5e6f7a8 (got ${JSON.stringify(id).slice(0, 60)})`);
  return id;
}

function remedyOf(event: APIGatewayProxyEvent): Remedy {
  const remedy = event.queryStringParameters?.remedy ?? 'soft-delete';
  if (!(REMEDIES as readonly string[]).includes(remedy)) throw new HttpError(400, `"remedy" must be one of ${REMEDIES.join(', ')} (got ${JSON.stringify(remedy).slice(0, 60)})`);
  return remedy as Remedy;
}

/** Validates a request body, answering 400 with every problem named. */
function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
}

function isForm(event: APIGatewayProxyEvent): boolean {
  return (headerOf(event, 'content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function formBody(event: APIGatewayProxyEvent): Record<string, string> {
  const text = event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return Object.fromEntries(new URLSearchParams(text));
}
