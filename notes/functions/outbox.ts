/** Lambda entry points of the notes service's outbox: the relay (on the outbox table's stream) and the sweeper (every minute). */
import { createOutboxRelay, createOutboxSweeper } from 'ferry';

export const handler = createOutboxRelay();
export const sweep = createOutboxSweeper();
