/** The notes service's tasks, for its worker and for `sendTask` validation. */
import { createTaskRegistry } from 'ferry';
import { copyNote } from './copies.js';
import { onboard } from './onboarding.js';
import { purgeSchedule, purgeTrash } from './purge.js';
import { notesApp } from './resources.js';

export const registry = createTaskRegistry([copyNote, onboard, purgeTrash, purgeSchedule.task], notesApp);
