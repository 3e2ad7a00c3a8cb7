/**
 * Faults inside sandboxes (each function in worker threads of its own, as
 * deployed): a scripted kill ends the sandbox's thread at the call it names,
 * a lost response is sent again by the SDK inside the sandbox, and the
 * runtime counts both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(testApp, {
    code: 'bundles',
    faults: {
      seed: 1,
      script: [
        // The first GetItem of `http` is applied and its response lost; the second kills its sandbox once applied.
        { command: 'GetItem', functionId: 'http', occurrence: 1, fault: 'lose-response' },
        { command: 'GetItem', functionId: 'http', occurrence: 3, fault: 'kill-after' },
      ],
    },
  });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

const call = () => fetch(`${runtime.url}/echo/get-event`);

describe('faults in a sandbox', () => {
  it('lets the SDK inside the sandbox send a call again when its response was lost', async () => {
    const response = await call();
    expect(response.status).toBe(200);
    // The lost response counts one call; the SDK's retry is the second.
    expect(runtime.faults()?.injected['lose-response']).toBe(1);
  });

  it('kills the sandbox at the scripted call: the invocation fails (502), and the next one starts a new sandbox', async () => {
    const started = runtime.sandboxes().http?.started ?? 0;
    const killed = await call();
    expect(killed.status).toBe(502);
    expect(runtime.faults()?.injected.kill).toBe(1);
    expect(runtime.sandboxes().http?.live).toBe(0);
    const next = await call();
    expect(next.status).toBe(200);
    expect(runtime.sandboxes().http?.started).toBe(started + 1);
  });
});
