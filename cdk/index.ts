/**
 * `ferry/cdk`: the CDK constructs a Ferry app deploys with. `ferryCdkApp`
 * builds a whole stack from a project's `ferry.config.ts`; `FerryStack` is
 * that stack, for a CDK app of your own; the constructs are its parts.
 *
 * @packageDocumentation
 */
export { ferryCdkApp, type FerryCdkAppOptions } from './ferry-app.js';
export { FerryStack, type FerryStackProps } from './stacks/ferry-stack.js';
export { FerryAlarms, type FerryAlarmsProps, type WatchedQueue } from './constructs/ferry-alarms.js';
export { FerryDashboard, JOB_METRICS, type FerryDashboardProps } from './constructs/ferry-dashboard.js';
export { FerryFunction, type FerryFunctionProps } from './constructs/ferry-function.js';
export { FerryRestApi, type FerryRestApiProps, type RestRoute } from './constructs/rest-api.js';
export { FerrySchedule, type FerryScheduleProps } from './constructs/schedule.js';
export { StateTable, type StateTableKey, type StateTableProps } from './constructs/state-table.js';
export { WorkerPool, type WorkerPoolProps } from './constructs/worker-pool.js';
export { WorkerQueue, type WorkerQueueProps } from './constructs/worker-queue.js';
export { applyNagSuppressions } from './nag-suppressions.js';
