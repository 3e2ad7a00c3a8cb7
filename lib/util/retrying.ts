import { sleep } from './sleep.js';

/**
 * Runs `fn`, and runs it again after a jittered, doubling pause (about 200 ms,
 * 400 ms, 800 ms) while it throws an error `again` accepts, `tries` times in
 * all; then the last error goes up. For a write whose failure must not undo
 * work already done (an attempt's outcome, once() completion), beyond the
 * retries the SDK made itself.
 */
export async function retrying<T>(fn: () => Promise<T>, options: { readonly tries: number; readonly again?: (error: unknown) => boolean }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.tries || options.again?.(error) === false) throw error;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random() / 2));
    }
  }
}
