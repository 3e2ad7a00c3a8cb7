/**
 * Starts DynamoDB Local and fauxqs once per test run, on free ports, and hands
 * their endpoints to every test file. Tests isolate themselves with unique
 * resource names (see helpers/runtime.ts), never by order.
 */
import type { TestProject } from 'vitest/node';
import { startEmulators, type Emulators } from '../lib/local/emulators.js';
import type { EmulatorEndpoints } from '../lib/local/emulator-protocol.js';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

let emulators: Emulators | undefined;

export async function setup(project: TestProject): Promise<void> {
  emulators = await startEmulators();
  project.provide('emulators', {
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    controlEndpoint: emulators.controlEndpoint,
  });
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
}
