/**
 * A server's admission limit, for the benchmarks' baselines: a WSGI server
 * such as gunicorn runs at most workers x threads requests at once (the seed
 * tutorial's setup: 2 workers x 16 threads = 32) and queues the rest in its
 * listen backlog, first come, first served.
 */

/** gunicorn's 2 workers x 16 threads. */
export const GUNICORN_ADMITTED = 32;

/** At most `limit` calls of `run` at once (undefined: unbounded); the others wait in line. */
export class Admission {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number | undefined) {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`admission limit must be a whole number of at least 1 (got ${limit})`);
  }

  /** The limit as a label: the number, or "unbounded". */
  get label(): number | string {
    return this.limit ?? 'unbounded';
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A full server queues the call; a finishing call hands its slot straight to the first in line.
    if (this.limit !== undefined && this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active -= 1;
      else next();
    }
  }
}
