import type { LocalRuntime } from '../lib/local/runtime.js';

/** Resolves once every message sent to queue `queueId` has been deleted (handled), per the runtime's stats. */
export async function drained(runtime: LocalRuntime, queueId: string, pollMs = 20): Promise<void> {
  for (;;) {
    const q = (await runtime.stats()).queues[queueId];
    if (q && q.deleted >= q.sent) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
