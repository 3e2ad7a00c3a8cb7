/** Lambda entry point of the notes service's worker (the `io` queue). */
import { createWorker } from 'ferry';
import { registry } from '../tasks.js';

export const handler = createWorker({ registry });
