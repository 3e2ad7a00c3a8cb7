/** Lambda entry point of Ferry's Flower, the operations console (REST API proxy integration at /_ferry/console). */
import { createConsoleHandler } from 'ferry';
import { resources } from '../app/resources.js';

// The declared schedules: the overview shows each one's state and, from its expression, its next run.
export const handler = createConsoleHandler({ schedules: resources.schedules });
