/**
 * The trash purge, a periodic job that never overlaps itself: every tick of
 * the `notes-purge` schedule runs one purge, unless the last is still going
 * (`overlap: 'skip'`). A purge removes the notes soft-deleted more than
 * TRASH_RETENTION before its tick, except those a copy job still holds.
 */
import { minutes, periodic, z, defineTask } from 'ferry';
import { TRASH_RETENTION } from './resources.js';
import { purgeOne, trashBefore } from './notes.js';

/** Notes one purge removes at most; the next tick takes the rest. */
const PURGE_BATCH = 500;

export const purgeTrash = defineTask({
  name: 'notes.purge-trash',
  queue: 'io',
  input: z.object({ before: z.iso.datetime() }),
  timeout: minutes(1),
  run: async ({ before }, job) => {
    let purged = 0;
    let locked = 0;
    const entries = await trashBefore(new Date(before), PURGE_BATCH);
    for (const entry of entries) {
      if (job.signal.aborted) break;
      const outcome = await purgeOne(entry);
      if (outcome === 'purged') purged += 1;
      if (outcome === 'locked') locked += 1;
    }
    return { purged, locked, seen: entries.length };
  },
});

export const purgeSchedule = periodic({
  name: 'notes-purge',
  task: purgeTrash,
  input: (tick) => ({ before: new Date(tick.getTime() - TRASH_RETENTION.milliseconds).toISOString() }),
  overlap: 'skip',
  leaseFor: minutes(5),
});
