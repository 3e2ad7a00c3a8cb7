/**
 * Starts DynamoDB Local and fauxqs once per test run, on free ports, and hands
 * their endpoints to every test file. Tests isolate themselves with unique
 * resource names (see helpers/runtime.ts), never by order.
 */
import type { TestProject } from 'vitest/node';
import { startEmulators, type Emulators } from '../lib/local/emulators.js';
import type { EmulatorEndpoints } from '../lib/local/emulator-protocol.js';
import { PrerequisiteError } from '../lib/local/preflight.js';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

let emulators: Emulators | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    emulators = await startEmulators();
  } catch (error) {
    // A missing prerequisite (Java 17, Node's range) stops the run at once with one line, not a stack trace.
    if (!(error instanceof PrerequisiteError)) throw error;
    process.stderr.write(`\nnpm test cannot run: ${error.message}\n\n`);
    process.exit(1);
  }
  project.provide('emulators', {
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    controlEndpoint: emulators.controlEndpoint,
  });
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
}
