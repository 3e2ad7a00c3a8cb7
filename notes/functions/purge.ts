/** Lambda entry point of the `notes-purge` schedule: each tick starts a purge unless one is running. */
import { purgeSchedule } from '../purge.js';

export const handler = purgeSchedule.handler;
