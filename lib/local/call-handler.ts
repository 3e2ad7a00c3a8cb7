/** Calls a Lambda handler as the Node.js runtime does, async or callback style. */
import type { Context } from 'aws-lambda';

export type Handler = (event: unknown, context: Context, callback?: (error?: unknown, result?: unknown) => void) => unknown;

/** The handler's answer: what it resolves to, or what it passes its callback (three-parameter handlers, still accepted by nodejs22.x). */
export function callHandler(handler: Handler, event: unknown, context: Context): Promise<unknown> {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const callback = (error?: unknown, value?: unknown) => (error ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(value));
      Promise.resolve(handler(event, context, callback)).catch(reject);
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}
