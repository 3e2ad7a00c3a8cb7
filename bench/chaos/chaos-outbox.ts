/** The chaos app's outbox relay (on the outbox table's stream) and sweeper (every minute): Ferry's own, under the same faults as the workers. */
import { createOutboxRelay, createOutboxSweeper } from '../../lib/jobs/outbox.js';

export const handler = createOutboxRelay();
export const sweep = createOutboxSweeper();
