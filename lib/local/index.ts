/**
 * `ferry/local`: an app running on this machine, against DynamoDB Local and
 * fauxqs, with the handlers (or the synthesized bundles) Lambda runs, and
 * AWS's rules enforced (IAM from the synthesized policies, timeouts, SQS
 * limits). `ferry dev` is this with a command line.
 *
 * @packageDocumentation
 */
export {
  RuntimeAlreadyRunningError,
  startLocalRuntime,
  type EnforcementCounts,
  type LocalFunctionSettings,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type PrepareContext,
} from './runtime.js';
export { EmulatorStartError, startEmulators, type EmulatorOptions, type Emulators } from './emulators.js';
export type { EmulatorEndpoints } from './emulator-protocol.js';
export type { Provisioned, ProvisionedQueue, ProvisionedTable } from './provision.js';
export type { QueueStats, StatsSnapshot } from './runtime-stats.js';
export type { AlarmState, LocalAlarmStatus } from './local-alarms.js';
export { describePlan, faultPlanFromEnv, type FaultKind, type FaultPlan } from './fault-injection.js';
export { checkPrerequisites, PrerequisiteError } from './preflight.js';
export { progressBar } from '../util/progress-bar.js';
