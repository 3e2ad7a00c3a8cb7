/** Lambda entry point of Ferry's Flower, the operations console (REST API proxy integration at /_ferry/console). */
import { createConsoleHandler } from 'ferry';

export const handler = createConsoleHandler();
