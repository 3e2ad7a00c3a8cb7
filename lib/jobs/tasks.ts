/** The tasks Ferry's workers run, checked against the declared queues. */
import { resources } from '../resources.js';
import { processPing } from '../demo/pings.js';
import { reports } from '../reports/report-registry.js';
import { createTaskRegistry } from './task-registry.js';

export const registry = createTaskRegistry([processPing, ...reports.map((r) => r.flight.task)], resources);
