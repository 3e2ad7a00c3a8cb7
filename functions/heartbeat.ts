/** Lambda entry point of the report service's queue heartbeats: every minute, a canary to each worker pool. */
import { heartbeatHandler } from 'ferry';

export const handler = heartbeatHandler();
