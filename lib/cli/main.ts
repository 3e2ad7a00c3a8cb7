#!/usr/bin/env node
/**
 * The `ferry` command: run, synthesize, deploy and start an app declared in
 * the working directory's `ferry.config.ts`.
 */
import { PrerequisiteError } from '../local/preflight.js';
import { dev, DEV_USAGE } from './dev.js';
import { init, INIT_USAGE } from './init.js';
import { ConfigError, loadConfig } from './load-config.js';
import { cdkApp, deploy, DEPLOY_USAGE, synth, SYNTH_USAGE } from './synth.js';
import { consoleCommand, CONSOLE_USAGE, dlqCommand, DLQ_USAGE, flightsCommand, FLIGHTS_USAGE, heartbeatCommand, HEARTBEAT_USAGE, jobsCommand, JOBS_USAGE, workflowsCommand, WORKFLOWS_USAGE } from './ops.js';

const USAGE = `Usage: ferry <command> [options]

Commands:
  dev       run the app locally: emulators, the REST API and the workers
  synth     synthesize the app's CloudFormation stack (offline) into cdk.out
  deploy    deploy the app's stack with the AWS CDK CLI
  init      write a minimal new app (one queue, one task, one route, a test)

Operations, on the app "ferry dev" runs or a deployed stack (--outputs):
  jobs      get a job's record, cancel a job or every job of a tag
  dlq       list a queue's dead letters with their reasons, redrive them
  workflows get a workflow's progress and tree, cancel it
  flights   get a cached computation's state (a report), force its refresh
  heartbeat each queue's heartbeat: late or not, its latencies, its alarm
  console   open a deployed stack's console through a local proxy that signs for you

The app is the one ferry.config.ts in the working directory declares
(--config <file> names another). "ferry <command> --help" says more.`;

const COMMANDS: Record<string, { usage: string; run: (args: readonly string[]) => Promise<void> }> = {
  dev: { usage: DEV_USAGE, run: (args) => dev(args, (explicit) => loadConfig(process.cwd(), explicit)) },
  synth: { usage: SYNTH_USAGE, run: (args) => synth(args, (explicit) => loadConfig(process.cwd(), explicit)) },
  deploy: { usage: DEPLOY_USAGE, run: (args) => deploy(args, (explicit) => loadConfig(process.cwd(), explicit)) },
  init: { usage: INIT_USAGE, run: init },
  jobs: { usage: JOBS_USAGE, run: jobsCommand },
  dlq: { usage: DLQ_USAGE, run: dlqCommand },
  workflows: { usage: WORKFLOWS_USAGE, run: workflowsCommand },
  flights: { usage: FLIGHTS_USAGE, run: flightsCommand },
  heartbeat: { usage: HEARTBEAT_USAGE, run: heartbeatCommand },
  console: { usage: CONSOLE_USAGE, run: (args) => consoleCommand(args) },
  // What the `cdk` CLI runs as the app (`ferry deploy`, cdk.json); not for people.
  'cdk-app': { usage: '', run: (args) => cdkApp(args, (explicit) => loadConfig(process.cwd(), explicit)) },
};

async function main(argv: readonly string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(USAGE);
    return;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`ferry: unknown command "${name}"\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await command.run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof PrerequisiteError) {
    // The machine lacks something (Java 17, a newer Node.js): one line naming it.
    console.error(`Ferry cannot start: ${error.message}`);
    process.exit(1);
  }
  // A wrong call or config: one line saying what to do.
  if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`ferry: ${(error as Error).message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
